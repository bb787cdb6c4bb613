// On-demand servers through a real gateway: no process until the first request (any face), answered;
// idle after idleStop with its process gone; started again by the next request.
import { afterEach, describe, expect, it } from 'vitest';
import { alive, closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { statusOf as status } from './helpers.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

async function command(h: Harness, method: string, params: Json = {}): Promise<Json> {
  const res = await fetch(`${h.url}/mcp/demo/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as Json;
}

const spawns = (h: Harness): number => h.logs.filter((l) => l.includes('"msg":"child spawned"')).length;

describe('start: on-demand', () => {
  it('has no process until its first request, answers it, goes idle after idleStop with the process gone, and starts again', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    idleStop: 1s\n')));
    const boot = await status(h, 'demo');
    expect(boot).toMatchObject({ state: 'idle', pid: null, lastStartAt: null });
    expect(await (await fetch(`${h.url}/metrics`)).text()).toContain('mcp_gateway_server_state{server="demo",state="idle"} 1');
    expect(spawns(h)).toBe(0);
    expect(((await (await fetch(`${h.url}/mcp/servers`)).json()) as Json).manifest.lastPlan).toBe('added demo (on demand)');

    const first = await command(h, 'tools/call', { name: 'pid', arguments: {} });
    const pid = Number(textOf(first.result));
    expect(pid).toBeGreaterThan(0);
    const running = await status(h, 'demo');
    expect(running).toMatchObject({ state: 'running', pid });
    expect(running.lastStartAt).not.toBeNull();

    const idle = await waitFor(async () => {
      const s = await status(h, 'demo');
      return s.state === 'idle' ? s : undefined;
    }, 'idle after idleStop', 5000);
    expect(idle).toMatchObject({ pid: null, reason: 'IdleStop' });
    expect(idle.lastStartAt).toBe(running.lastStartAt);
    await waitFor(() => !alive(pid), 'the process gone');

    const again = Number(textOf((await command(h, 'tools/call', { name: 'pid', arguments: {} })).result));
    expect(again).not.toBe(pid);
    expect(spawns(h)).toBe(2);
  });

  it('a Streamable HTTP session starts it; initialize is answered from the last run without a process; an open stream keeps it running', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    idleStop: 600ms\n')));
    // Never run: the first initialize waits for the child.
    const c = await connect(`${h.url}/mcp/demo/mcp`);
    expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('echo');
    // The SDK client holds its GET stream open: the server stays up while it does.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status(h, 'demo')).state).toBe('running');
    await c.close();
    await waitFor(async () => (await status(h, 'demo')).state === 'idle', 'idle once the session left', 5000);

    const before = spawns(h);
    const d = await connect(`${h.url}/mcp/demo/mcp`); // initialize: answered from what the last child said
    expect(spawns(h)).toBe(before);
    expect(d.client.getServerVersion()?.name).toBe('demo');
    expect(textOf(await d.client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    expect(spawns(h)).toBe(before + 1);
  });

  it('a legacy SSE client starts it', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n')));
    expect((await status(h, 'demo')).state).toBe('idle');
    const c = await connect(`${h.url}/mcp/demo/legacy/sse`, { legacy: true });
    expect(textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'old' } }))).toBe('old');
    expect((await status(h, 'demo')).state).toBe('running');
  });

  it('a cron restart of an idle server does nothing; a manifest edit keeps it idle; start: always wakes it', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    schedule: { restart: "* * * * * *" }\n')));
    await new Promise((r) => setTimeout(r, 1300));
    expect(await status(h, 'demo')).toMatchObject({ state: 'idle', pid: null });
    expect(spawns(h)).toBe(0);
    h.write(manifest(demoServer('demo', '    start: on-demand\n    env: { GREETING: edited }\n')));
    await waitFor(async () => ((await (await fetch(`${h.url}/mcp/servers`)).json()) as Json).manifest.lastPlan?.includes('restarted demo'), 'edit applied');
    expect(await status(h, 'demo')).toMatchObject({ state: 'idle', pid: null });
    expect(textOf((await command(h, 'tools/call', { name: 'greet', arguments: {} })).result)).toBe('edited, world!');
    h.write(manifest(demoServer('demo', '    start: on-demand\n    env: { GREETING: edited }\n    idleStop: 200ms\n')));
    await waitFor(async () => (await status(h, 'demo')).state === 'idle', 'idle again', 5000);
    h.write(manifest(demoServer('demo', '    env: { GREETING: edited }\n')));
    await waitFor(async () => (await status(h, 'demo')).state === 'running', 'started: always', 5000);
  });

  it('a request that arrives while the idle stop is under way waits and starts it again', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    idleStop: 300ms\n    env: { DEMO_STUBBORN: "1" }\n    stopTimeout: 500ms\n')));
    await command(h, 'ping');
    await waitFor(async () => (await status(h, 'demo')).state === 'stopping', 'stopping for idleness', 5000);
    const r = await command(h, 'tools/call', { name: 'echo', arguments: { text: 'late' } });
    expect(textOf(r.result)).toBe('late');
  });
});
