// Review probes: what a retry changes between rounds (per-request _meta: capabilities, progressToken).
import { afterEach, expect, it } from 'vitest';
import { closeAll, manifest, running, startHarness } from '../helpers/gateway.ts';
import { body26, last, post26, server, LATE } from './process-helpers.ts';

afterEach(closeAll);

it('a retry that no longer declares elicitation is not sent elicitation inputRequests', async () => {
  const h = await startHarness(manifest(server('late', LATE, '    clientCapabilities: [elicitation]\n')));
  await running(h.url, 'late');
  const first = last(await post26(h.url, 'late', body26(1, 'tools/call', { name: 'late_ask', arguments: {} }, { elicitation: {} })));
  expect(first.result.resultType).toBe('input_required');
  // The retry declares nothing and answers nothing.
  const retry = last(await post26(h.url, 'late', body26(2, 'tools/call', { name: 'late_ask', arguments: {}, requestState: first.result.requestState }, {})));
  console.log('retry:', JSON.stringify(retry).slice(0, 200));
  expect(JSON.stringify(retry.result?.inputRequests ?? {})).not.toContain('elicitation/create');
});

it('progress on the retry carries the retry\'s own progressToken', async () => {
  const h = await startHarness(manifest(server('late', LATE, '    clientCapabilities: [elicitation]\n')));
  await running(h.url, 'late');
  const caps = { elicitation: {} };
  const first = last(await post26(h.url, 'late', body26(1, 'tools/call', { name: 'ask_then_progress', arguments: {}, _meta: { progressToken: 'first-token' } }, caps)));
  expect(first.result.resultType).toBe('input_required');
  const retry = await post26(h.url, 'late', body26(2, 'tools/call', { name: 'ask_then_progress', arguments: {}, requestState: first.result.requestState, inputResponses: { late: { action: 'accept', content: {} } }, _meta: { progressToken: 'retry-token' } }, caps));
  const tokens = retry.messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progressToken);
  console.log('progress tokens on the retry stream:', tokens);
  expect(tokens.length).toBeGreaterThan(0);
  expect(tokens.every((t) => t === 'retry-token')).toBe(true);
});
