// Review sanity: the probe helpers drive a full MRTR round on a shared child.
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { closeAll, manifest, running, startHarness } from '../helpers/gateway.ts';
import { body26, CONFORMANCE, last, post26, server } from './process-helpers.ts';

afterEach(closeAll);

it('one input_required round, then the result', async () => {
  const h = await startHarness(manifest(server('conf', CONFORMANCE, '    clientCapabilities: [elicitation, sampling, roots]\n')));
  await running(h.url, 'conf');
  const caps = { elicitation: {} };
  const first = await post26(h.url, 'conf', body26(1, 'tools/call', { name: 'test_input_required_result_elicitation', arguments: {} }, caps));
  expect(first.status).toBe(200);
  const r1 = last(first).result;
  expect(r1.resultType).toBe('input_required');
  const second = await post26(h.url, 'conf', body26(2, 'tools/call', { name: 'test_input_required_result_elicitation', arguments: {}, requestState: r1.requestState, inputResponses: { user_name: { action: 'accept', content: { name: 'Ann' } } } }, caps));
  expect(last(second).result.content[0].text).toBe('Hello, Ann!');
});
