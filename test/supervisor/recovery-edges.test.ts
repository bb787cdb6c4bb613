// Edges of recovery a review found: an old child crashing while its successor is provisioned, an
// on-demand server whose start fails, and a first request that must wait as long as a start may take.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { textOf } from '../helpers/mcp-client.ts';
import { callTool, statusOf } from './helpers.ts';

afterEach(closeAll);

async function firstAnswer(h: Harness, deadlineMs: number): Promise<{ errors: string[]; text: string }> {
  const errors: string[] = [];
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const r = await callTool(h, 'demo', 'greet');
    if (r.error === undefined) return { errors, text: textOf(r.result) };
    errors.push(r.error.message);
    await new Promise((res) => setTimeout(res, 100));
  }
  return { errors, text: '' };
}

describe('recovery edges', () => {
  // Requests wait for the successor instead of failing through a backoff and a cold start.
  it('the old child crashing while the new one is provisioned: the new one is swapped in, not thrown away', async () => {
    const m = (env: string): string => manifest(demoServer('demo', `    env: { ${env} }\n`));
    const h = await startHarness(m('GREETING: one'));
    await waitFor(async () => (await statusOf(h, 'demo'))?.state === 'running', 'demo running');
    h.write(m('GREETING: two, DEMO_INIT_DELAY_MS: "1000"'));
    await waitFor(async () => (await statusOf(h, 'demo')).rollout === 'provisioning', 'provisioning');
    const candidate = JSON.parse(h.logs.find((l) => l.includes('rollout: new child spawned'))!).pid as number;
    await callTool(h, 'demo', 'crash');
    const { text } = await firstAnswer(h, 8000);
    expect(text).toBe('two, world!');
    expect((await statusOf(h, 'demo')).pid).toBe(candidate);
  });

  // Not the restart loop of an always-on server: the waiting request hears why, the next one retries.
  it('an on-demand server whose wake fails says why, and goes back to idle for the next request to retry', async () => {
    const h = await startHarness(manifest('  demo:\n    command: /nonexistent/cmd\n    start: on-demand\n'));
    const r = await callTool(h, 'demo', 'pid');
    expect(r.error.message).toMatch(/ENOENT/);
    await waitFor(async () => (await statusOf(h, 'demo')).state === 'idle', 'idle again', 3000);
  });

  // The readiness wait is bounded by the larger of requestTimeout and startTimeout.
  it('the first request of an on-demand server waits up to startTimeout, not requestTimeout', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    startTimeout: 5s\n    requestTimeout: 300ms\n    env: { DEMO_INIT_DELAY_MS: "800" }\n')));
    const r = await callTool(h, 'demo', 'pid');
    expect(r.error).toBeUndefined();
  });
});
