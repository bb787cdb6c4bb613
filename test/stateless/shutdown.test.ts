// Review probe: gateway shutdown with a 2026 call that parks after the drain began. endParked() runs once,
// at the start of close(); a call that parks later keeps its child request in flight, and no retry can
// come (a draining gateway refuses every request), so close() waits out the whole grace period.
import { afterEach, expect, it } from 'vitest';
import { closeAll, manifest, running, startHarness } from '../helpers/gateway.ts';
import { body26, last, post26, server, LATE } from './process-helpers.ts';

afterEach(closeAll);

it('a call that parks during the drain does not hold shutdown for the whole grace period', async () => {
  const h = await startHarness(manifest(server('late', LATE, '    clientCapabilities: [elicitation]\n')));
  await running(h.url, 'late');
  const call = post26(h.url, 'late', body26(1, 'tools/call', { name: 'late_ask', arguments: { delayMs: 400 } }, { elicitation: {} })).catch((e) => e);
  await new Promise((r) => setTimeout(r, 150));
  const started = Date.now();
  await h.gateway.close(5000);
  const took = Date.now() - started;
  const answer = await call;
  // What the client got: an input_required round it can never continue (the gateway is gone).
  console.log('client got', JSON.stringify(last(answer)?.result?.resultType ?? answer), 'close took', took, 'ms');
  expect(took).toBeLessThan(2000);
});
