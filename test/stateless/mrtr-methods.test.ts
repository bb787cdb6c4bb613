// Review probe: the spec allows input_required only on tools/call, prompts/get and resources/read.
// StatelessCall.onRequest turns a child's request into an input_required round whatever the method of
// the call; modern-face then refuses the retry's requestState for that method ("takes no requestState").
import { afterEach, expect, it } from 'vitest';
import { closeAll, manifest, running, startHarness } from '../helpers/gateway.ts';
import { body26, last, post26, server, LATE } from './process-helpers.ts';

afterEach(closeAll);

it('a child that asks during resources/list does not produce an input_required the client cannot continue', async () => {
  const h = await startHarness(manifest(server('late', LATE, '    clientCapabilities: [roots]\n')));
  await running(h.url, 'late');
  const caps = { roots: {} };
  const first = await post26(h.url, 'late', body26(1, 'resources/list', {}, caps));
  const r = last(first);
  console.log('first:', JSON.stringify(r).slice(0, 300));
  expect.soft(r.result?.resultType, 'resources/list answered with input_required').not.toBe('input_required');
  if (r.result?.resultType === 'input_required') {
    const retry = await post26(h.url, 'late', body26(2, 'resources/list', { requestState: r.result.requestState, inputResponses: { 'roots-1': { roots: [{ uri: 'file:///x' }] } } }, caps));
    console.log('retry:', retry.status, JSON.stringify(last(retry)).slice(0, 300));
    console.log('parked after the refused retry:', h.gateway.stateless.parkedCalls);
  }
});
