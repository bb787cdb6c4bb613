// Liveness pings through a real gateway: a child whose event loop blocks for good is restarted as
// Unresponsive within interval × failures + timeout; a child busy with long calls is left alone.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { callTool, statusOf as status } from './helpers.ts';

const call = (h: Harness, tool: string, args: Json = {}): Promise<Json> => callTool(h, 'demo', tool, args);

afterEach(closeAll);

const LIVENESS = '    liveness: { interval: 300ms, timeout: 200ms, failures: 3 }\n';

describe('liveness', () => {
  it('restarts a child that blocks its event loop forever, as Unresponsive, within interval × failures + timeout; its call in flight is answered at once', async () => {
    const h = await startHarness(manifest(demoServer('demo', `    env: { DEMO_HANG_AFTER_MS: "400" }\n${LIVENESS}    requestTimeout: 60s\n`)));
    const first = await waitFor(async () => {
      const s = await status(h, 'demo');
      return s?.state === 'running' ? s : undefined;
    }, 'demo running');
    // Sent before the hang, never answered by the hung child: the gateway answers it when it gives up.
    const inFlight = call(h, 'slow', { ms: 30_000, steps: 1 });
    const hungAt = Date.now() + 400;
    const restarted = await waitFor(async () => {
      const s = await status(h, 'demo');
      return s.pid !== first.pid && s.state === 'running' ? s : undefined;
    }, 'a new child', 10_000);
    const killedAt = h.logs.map((l) => JSON.parse(l) as Json).find((l) => l.msg === 'child unresponsive; killing it')!;
    expect(killedAt).toBeDefined();
    // interval × failures + timeout = 1100 ms after the hang (hungAt is taken late, so this errs short).
    expect(killedAt.time - hungAt).toBeLessThanOrEqual(1100 + 1500); // slack for a loaded machine; a request timeout would be 60 s
    expect(restarted.lastExit).toMatchObject({ reason: 'Unresponsive', error: expect.stringMatching(/^unresponsive: no message of any kind in answer to 3 pings in a row/) });
    expect(restarted.restarts).toBe(1);
    const answer = await inFlight;
    expect(answer.error.message).toMatch(/stopped responding .*; it is being restarted/);
    expect(h.logs.some((l) => l.includes('"reason":"Unresponsive"'))).toBe(true);
  });

  it('leaves a child alone that is busy with long calls (its event loop answers pings)', async () => {
    const h = await startHarness(manifest(demoServer('demo', LIVENESS)));
    const first = await waitFor(async () => {
      const s = await status(h, 'demo');
      return s?.state === 'running' ? s : undefined;
    }, 'demo running');
    // Two calls of 2.5 s with no progress: the child says nothing about them for many intervals.
    const calls = await Promise.all([call(h, 'slow', { ms: 2500, steps: 1 }), call(h, 'slow', { ms: 2500, steps: 1 })]);
    for (const c of calls) expect(c.error).toBeUndefined();
    const s = await status(h, 'demo');
    expect(s).toMatchObject({ pid: first.pid, state: 'running', restarts: 0 });
    expect(h.logs.some((l) => l.includes('unresponsive'))).toBe(false);
  });

  it('liveness: false never pings', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { DEMO_TRACE: "1", DEMO_HANG_AFTER_MS: "600000" }\n    liveness: false\n')));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    await new Promise((r) => setTimeout(r, 1200));
    expect(h.logs.some((l) => l.includes('trace: ping'))).toBe(false);
  });
});
