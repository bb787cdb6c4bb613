// On-demand servers through a real gateway: no process until the first request (any face), answered;
// idle after idleStop with its process gone; started again by the next request.
import { afterEach, describe, expect, it } from 'vitest';
import { alive, closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { statusOf as status } from './helpers.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';
import { allToolNames } from '../aggregate/walk.ts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

async function command(h: Harness, method: string, params: Json = {}, server = 'demo'): Promise<Json> {
  const res = await fetch(`${h.url}/mcp/${server}/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as Json;
}

async function allResources(client: Client): Promise<unknown[]> {
  const all: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listResources(cursor === undefined ? {} : { cursor });
    all.push(...page.resources);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
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

  it('a list asked while the idle stop is under way is answered from the lists just read; the child is not started again', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    idleStop: 300ms\n    env: { DEMO_STUBBORN: "1" }\n    stopTimeout: 800ms\n')));
    await command(h, 'ping');
    await waitFor(async () => (await status(h, 'demo')).state === 'stopping', 'stopping for idleness', 5000);
    const r = await command(h, 'tools/list');
    expect(r.result.tools.map((t: Json) => t.name)).toContain('echo');
    expect(await status(h, 'demo')).toMatchObject({ state: 'idle', pid: null });
    expect(spawns(h)).toBe(1);
  });

  it('an idle server answers its lists from its last child: listing /mcp starts none of them, a call starts only its own, an edit forgets them', async () => {
    const od = '    start: on-demand\n    idleStop: 300ms\n';
    const h = await startHarness(manifest(demoServer('a', od) + demoServer('b', od)));
    const bothIdle = (): Promise<boolean> => waitFor(async () => (await status(h, 'a')).state === 'idle' && (await status(h, 'b')).state === 'idle', 'both idle', 8000);
    // Never run: nothing is known, so the first list starts them.
    const first = await connect(`${h.url}/mcp`);
    const names = (await allToolNames(first.client)).sort();
    expect(names).toEqual(expect.arrayContaining(['a__echo', 'b__echo']));
    const resources = await allResources(first.client);
    expect(spawns(h)).toBe(2);
    await first.close();
    await bothIdle();

    const later = await connect(`${h.url}/mcp`);
    expect((await allToolNames(later.client)).sort()).toEqual(names);
    expect(await allResources(later.client)).toEqual(resources);
    expect((await later.client.listResourceTemplates()).resourceTemplates).toEqual([]); // the demo has none: its "method not found" is kept too
    const direct = await command(h, 'tools/list', {}, 'b');
    expect((direct.result as Json).tools.map((t: Json) => t.name)).toContain('echo');
    expect(spawns(h)).toBe(2);
    expect(await status(h, 'a')).toMatchObject({ state: 'idle', pid: null });

    // A call needs the process: only its own server starts.
    expect(textOf(await later.client.callTool({ name: 'a__echo', arguments: { text: 'x' } }))).toBe('x');
    expect(spawns(h)).toBe(3);
    expect((await status(h, 'b')).state).toBe('idle');
    await later.close();
    await bothIdle();

    // An edit to b's process: what its last child listed may not hold, so the next list starts the new one.
    h.write(manifest(demoServer('a', od) + demoServer('b', `${od}    env: { DEMO_EXTRA_TOOL: fresh }\n`)));
    await waitFor(async () => ((await (await fetch(`${h.url}/mcp/servers`)).json()) as Json).manifest.lastPlan?.includes('restarted b'), 'edit applied');
    const edited = await command(h, 'tools/list', {}, 'b');
    expect((edited.result as Json).tools.map((t: Json) => t.name)).toContain('fresh');
    expect(spawns(h)).toBe(4);
    expect((await command(h, 'tools/list', {}, 'a')).result).toBeDefined();
    expect(spawns(h)).toBe(4);
  });
});
