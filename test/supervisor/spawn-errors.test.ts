// Review: env values are secrets. A value Node refuses to pass (a NUL byte) makes spawn throw with the
// value quoted in its message; that message went verbatim into rolloutFailure.error, the reload summary
// (withoutEnvValues misses it: Node escapes the NUL) and the log. Same for lastError on a plain start.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Json } from '../helpers/gateway.ts';
import { statusOf } from './helpers.ts';

afterEach(closeAll);

describe('a spawn that throws', () => {
  it('in a rollout: no env value in status, reload summary or log', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { TOKEN: "abc" }\n')));
    await waitFor(async () => (await statusOf(h, 'demo'))?.state === 'running', 'demo running');
    h.write(manifest(demoServer('demo', '    env: { TOKEN: "s3cr3t-value\\0x" }\n')));
    const failure = await waitFor(async () => (await statusOf(h, 'demo')).rolloutFailure ?? undefined, 'the failure shown', 15_000);
    expect(failure.error).toMatch(/^spawn failed: /);
    const body = (await (await fetch(`${h.url}/mcp/servers`)).json()) as Json;
    expect(JSON.stringify(body)).not.toContain('s3cr3t');
    expect(h.logs.join('\n')).not.toContain('s3cr3t');
  });

  it('at a start: no env value in lastError or the log', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { TOKEN: "s3cr3t-value\\0x" }\n    restart: { policy: never }\n')));
    const s = await waitFor(async () => { const x = await statusOf(h, 'demo'); return x?.state === 'failed' ? x : undefined; }, 'demo failed');
    expect(s.lastError).toMatch(/^spawn failed: /);
    expect(JSON.stringify(s)).not.toContain('s3cr3t');
    expect(h.logs.join('\n')).not.toContain('s3cr3t');
  });
});
