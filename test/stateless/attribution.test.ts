// Review probe (passes): on a shared child, a child's question is never shown to a caller of another key
// while a call of that key could be the asker (child-requests.ts `attributable`).
import { afterEach, expect, it } from 'vitest';
import { authKeys, closeAll, manifest, startHarness, waitFor } from '../helpers/gateway.ts';
import { KEY_A, KEY_B, body26, last, post26, server, LATE } from './process-helpers.ts';

afterEach(closeAll);

const yaml = () =>
  manifest(
    server('late', LATE, '    clientCapabilities: [elicitation]\n'),
    authKeys([
      { name: 'alice', key: KEY_A, servers: '[late]' },
      { name: 'bob', key: KEY_B, servers: '[late]' },
    ]),
  );

it('a question asked while bob is parked and alice runs reaches neither', async () => {
  const h = await startHarness(yaml());
  await waitFor(() => h.gateway.reconciler.servers.get('late')?.state === 'running', 'late running');
  const caps = { elicitation: {} };
  const bob = last(await post26(h.url, 'late', body26(1, 'tools/call', { name: 'late_ask', arguments: { delayMs: 0 } }, caps), { key: KEY_B }));
  expect(bob.result.resultType).toBe('input_required');
  // alice's call asks 300 ms in: bob's parked call might be the asker, so nobody is asked.
  const alice = last(await post26(h.url, 'late', body26(2, 'tools/call', { name: 'late_ask', arguments: { delayMs: 300 } }, caps), { key: KEY_A }));
  expect(alice.result.resultType).toBe('complete');
  expect(alice.result.content[0].text).toMatch(/^refused:/);
  // bob's call goes on with bob's answer.
  const bob2 = last(await post26(h.url, 'late', body26(3, 'tools/call', { name: 'late_ask', arguments: { delayMs: 0 }, requestState: bob.result.requestState, inputResponses: { late: { action: 'accept', content: { v: 'bob' } } } }, caps), { key: KEY_B }));
  expect(bob2.result.content[0].text).toContain('bob');
});

it('bob cannot continue alice\'s call with her requestState', async () => {
  const h = await startHarness(yaml());
  await waitFor(() => h.gateway.reconciler.servers.get('late')?.state === 'running', 'late running');
  const caps = { elicitation: {} };
  const alice = last(await post26(h.url, 'late', body26(1, 'tools/call', { name: 'late_ask', arguments: { delayMs: 0 } }, caps), { key: KEY_A }));
  const stolen = await post26(h.url, 'late', body26(2, 'tools/call', { name: 'late_ask', arguments: { delayMs: 0 }, requestState: alice.result.requestState, inputResponses: { late: { action: 'accept', content: {} } } }, caps), { key: KEY_B });
  expect(stolen.status).toBe(400);
  expect(last(stolen).error.code).toBe(-32602);
  expect(h.gateway.stateless.parkedCalls).toBe(1); // alice's call is still hers
});
