import { afterEach, describe, expect, it } from 'vitest';
import { getJson, post, DEMO, alive, callTool, closeAll, command, demoServer, manifest, running, server, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';

afterEach(closeAll);

const fast = '    restart: { policy: always, backoff: { initial: 50ms, max: 200ms }, limit: { count: 3, window: 30s } }\n';

/**
 * A whole reconcile pass: the manifest re-read and compared with what runs. A server left down on purpose
 * (by policy, the start limit or a stop by hand) must stay down after it, not be "repaired". The state
 * itself (exited, failed or stopped, never backoff) is the supervisor's word that no restart is pending.
 */
async function reconcilePass(h: Harness): Promise<void> {
  expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
}

describe('Supervisor restart policy', () => {
  it('restarts a crashed child with backoff, then serves again', async () => {
    const h = await startHarness(manifest(demoServer('demo', fast)));
    const first = await running(h.url, 'demo');
    // The backoff lasts 25-50 ms: heard from the supervisor itself, since polling over HTTP can miss it.
    const seen: { state: string; reason: string | null; lastError: string | null }[] = [];
    h.gateway.reconciler.servers.get('demo')!.onStatus((s) => void seen.push({ state: s.state, reason: s.reason, lastError: s.lastError }));
    await command(h.url, 'demo', callTool(1, 'crash', { code: 3 }));
    const backoff = await waitFor(() => seen.find((s) => s.state === 'backoff'), 'backoff state');
    expect(backoff).toMatchObject({ reason: 'Crashed', lastError: 'exited with code 3' });
    const again = await waitFor(async () => {
      const s = await server(h.url, 'demo');
      return s?.state === 'running' && s.pid !== first.pid ? s : undefined;
    }, 'restarted');
    expect(again.restarts).toBe(1);
    expect((await command(h.url, 'demo', callTool(2, 'echo', { text: 'back' }))).body.result.content[0].text).toBe('back');
  });

  it('leaves a crashed child down under policy never', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    restart: { policy: never }\n')));
    await running(h.url, 'demo');
    await command(h.url, 'demo', callTool(1, 'crash', {}));
    await waitFor(async () => (await server(h.url, 'demo'))?.state === 'exited', 'exited');
    await reconcilePass(h);
    expect(await server(h.url, 'demo')).toMatchObject({ state: 'exited', pid: null, restarts: 0, reason: 'Crashed' });
  });

  it('ends a crash loop in failed once the start limit is hit; a start by hand clears it', async () => {
    const h = await startHarness(manifest(`  loop:\n    command: node\n    args: ["-e", "process.exit(5)"]\n${fast}`));
    const failed = await waitFor(async () => {
      const s = await server(h.url, 'loop');
      return s?.state === 'failed' ? s : undefined;
    }, 'failed', 5000);
    expect(failed.reason).toBe('StartLimit');
    expect(failed.restarts).toBe(3);
    expect(failed.lastError).toContain('start limit');
    await reconcilePass(h);
    expect((await server(h.url, 'loop'))?.state).toBe('failed');
    const res = await fetch(`${h.url}/mcp/loop/start`, { method: 'POST' });
    expect(res.status).toBe(200);
    await waitFor(async () => (await server(h.url, 'loop'))?.state === 'backoff', 'trying again after a start by hand');
  });

  it('keeps a server stopped by hand stopped', async () => {
    const h = await startHarness(manifest(demoServer('demo', fast)));
    const { pid } = await running(h.url, 'demo');
    await fetch(`${h.url}/mcp/demo/stop`, { method: 'POST' });
    expect(alive(pid!)).toBe(false);
    await reconcilePass(h);
    expect(await server(h.url, 'demo')).toMatchObject({ state: 'stopped', pid: null });
  });

  it('counts a child that never answers initialize as a failed start', async () => {
    const h = await startHarness(
      manifest(`  mute:\n    command: node\n    args: ["-e", "setInterval(() => {}, 1000)"]\n    startTimeout: 300ms\n    restart: { policy: never }\n`),
    );
    const s = await waitFor(async () => {
      const row = await server(h.url, 'mute');
      return row?.state === 'failed' ? row : undefined;
    }, 'failed start');
    expect(s.reason).toBe('FailedStart');
    expect(s.lastError).toContain('initialize not answered within 300ms');
  });

  it('reports a command that cannot be spawned', async () => {
    const h = await startHarness(manifest(`  ghost:\n    command: /nonexistent/mcp-server\n    restart: { policy: never }\n`));
    const s = await waitFor(async () => {
      const row = await server(h.url, 'ghost');
      return row?.state === 'failed' ? row : undefined;
    }, 'failed spawn');
    expect(s.lastError).toContain('ENOENT');
  });
});

describe('Supervisor stop', () => {
  it('escalates to SIGKILL for a child that ignores stdin close and SIGTERM', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { DEMO_STUBBORN: "1" }\n    stopTimeout: 300ms\n')));
    const { pid } = await running(h.url, 'demo');
    const res = await post(`${h.url}/mcp/demo/stop`);
    expect(res.server.lastExit.signal).toBe('SIGKILL');
    expect(alive(pid!)).toBe(false);
  });

  it('takes grandchildren down with the child (process group)', async () => {
    const script = `node -e 'setInterval(() => {}, 1000)' & echo "grandchild=$!" >&2; exec node ${JSON.stringify(DEMO)}`;
    const h = await startHarness(manifest(`  family:\n    command: sh\n    args: ["-c", ${JSON.stringify(script)}]\n`));
    await running(h.url, 'family');
    const line = await waitFor(async () => {
      const lines: string[] = (await getJson(`${h.url}/mcp/family/stderr`)).lines;
      return lines.find((l) => l.startsWith('grandchild='));
    }, 'grandchild pid on stderr');
    const grandchild = Number(line.split('=')[1]);
    expect(alive(grandchild)).toBe(true);
    await fetch(`${h.url}/mcp/family/stop`, { method: 'POST' });
    await waitFor(() => !alive(grandchild), 'grandchild gone', 3000);
  });
});

describe('stderr', () => {
  it('cuts a huge stderr line instead of holding it, and keeps a last line without a newline', async () => {
    const script = `process.stderr.write('x'.repeat(20 * 1024 * 1024) + '\\n'); process.stderr.write('tail without newline')`;
    const h = await startHarness(manifest(`  loud:\n    command: node\n    args: ["-e", ${JSON.stringify(script)}]\n    restart: { policy: never }\n`));
    const lines: string[] = await waitFor(async () => {
      const l: string[] = (await getJson(`${h.url}/mcp/loud/stderr`)).lines;
      return l.length >= 2 ? l : undefined;
    }, 'stderr lines');
    expect(lines[0]!.length).toBeLessThan(20_000);
    expect(lines[0]).toContain(`…[line of ${20 * 1024 * 1024} bytes cut]`);
    expect(lines[1]).toBe('tail without newline');
  });

  it('logs each line with the server name and keeps the last lines for the API', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    stderrLines: 3\n')));
    await running(h.url, 'demo');
    for (let i = 1; i <= 5; i++) await command(h.url, 'demo', callTool(i, 'log', { text: `line ${i}` }));
    const body = await getJson(`${h.url}/mcp/demo/stderr`);
    expect(body.lines).toEqual(['line 3', 'line 4', 'line 5']);
    const logged = h.logs.map((l) => JSON.parse(l)).filter((l) => l.stderr === 'line 1');
    expect(logged[0]).toMatchObject({ server: 'demo', stderr: 'line 1' });
  });
});

describe('Supervisor stop during a slow start', () => {
  it('does not wait for the start timeout: a stop ends the start under way at once', async () => {
    // The child answers initialize after 30 s and may take 10 min: a stop that waited for either would
    // outlast the test's own timeout.
    const h = await startHarness(manifest(demoServer('slow', '    env: { DEMO_INIT_DELAY_MS: "30000" }\n    startTimeout: 10m\n')));
    await waitFor(async () => (await server(h.url, 'slow'))?.state === 'starting', 'starting');
    const res = await post(`${h.url}/mcp/slow/stop`);
    expect(res.server).toMatchObject({ state: 'stopped', pid: null });
    await reconcilePass(h);
    expect((await server(h.url, 'slow'))?.state).toBe('stopped');
  });
});
