import { afterEach, describe, expect, it } from 'vitest';
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { closeAll, demoServer, getJson, manifest, running, server, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

const traced = (extra = '') => demoServer('demo', `    env: { DEMO_TRACE: "1" }\n${extra}`);

async function traces(h: Harness, server = 'demo'): Promise<string[]> {
  return ((await getJson(`${h.url}/mcp/${server}/stderr`)).lines as string[]).filter((l) => l.startsWith('trace: '));
}

describe('Streamable HTTP with the SDK client', () => {
  it('initializes, lists and calls tools, and reports a tool error', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const { client, transport } = await connect(`${h.url}/mcp/demo/mcp`);
    expect((transport as { sessionId?: string }).sessionId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(client.getServerVersion()).toEqual({ name: 'demo', version: '1.0.0' });
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over http' } }))).toBe('over http');
    const failed = await client.callTool({ name: 'fail', arguments: { message: 'boom' } });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toBe('boom');
  });

  it('also serves Streamable HTTP on the classic /sse URL', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const { client } = await connect(`${h.url}/mcp/demo/sse`);
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toBe('3');
  });

  it('delivers progress only to the client that asked, even with equal tokens', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const a = await connect(`${h.url}/mcp/demo/mcp`);
    const b = await connect(`${h.url}/mcp/demo/mcp`);
    const seen = { a: [] as number[], b: [] as number[] };
    await Promise.all([
      a.client.callTool({ name: 'slow', arguments: { ms: 200, steps: 4 } }, undefined, { onprogress: (p) => void seen.a.push(p.progress) }),
      b.client.callTool({ name: 'slow', arguments: { ms: 200, steps: 2 } }, undefined, { onprogress: (p) => void seen.b.push(p.progress) }),
    ]);
    expect(seen.a).toEqual([1, 2, 3, 4]);
    expect(seen.b).toEqual([1, 2]);
  });

  it('forwards a client cancel to the child with the id the child knows', async () => {
    const h = await startHarness(manifest(traced()));
    const { client } = await connect(`${h.url}/mcp/demo/mcp`);
    const abort = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 5000 } }, undefined, { signal: abort.signal });
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 1, 'call in flight');
    abort.abort('user gave up');
    await expect(call).rejects.toThrow();
    await waitFor(async () => (await traces(h)).includes('trace: notifications/cancelled'), 'cancel at the child');
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 0, 'nothing left in flight');
  });

  it('sends list_changed to every session', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const got: string[] = [];
    const clients = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        connect(`${h.url}/mcp/demo/mcp`, { name, setup: (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void got.push(name)) }),
      ),
    );
    await clients[0]!.client.callTool({ name: 'changed', arguments: {} });
    await waitFor(() => got.length === 3, 'list_changed at every client');
    expect(got.sort()).toEqual(['a', 'b', 'c']);
  });

  it('ref-counts resource subscriptions and sends updates only to subscribers', async () => {
    const h = await startHarness(manifest(traced()));
    const updates: string[] = [];
    const mk = (name: string) =>
      connect(`${h.url}/mcp/demo/mcp`, {
        name,
        setup: (c) => c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(`${name}:${n.params.uri}`)),
      });
    const [a, b, c] = [await mk('a'), await mk('b'), await mk('c')];
    const uri = 'demo://notes/hello';
    await a.client.subscribeResource({ uri });
    await b.client.subscribeResource({ uri });
    expect((await traces(h)).filter((t) => t === 'trace: resources/subscribe')).toHaveLength(1);
    await c.client.callTool({ name: 'touch', arguments: { uri } });
    await waitFor(() => updates.length === 2, 'updates at both subscribers');
    await new Promise((r) => setTimeout(r, 100));
    expect(updates.sort()).toEqual([`a:${uri}`, `b:${uri}`]);
    await a.client.unsubscribeResource({ uri });
    expect((await traces(h)).filter((t) => t === 'trace: resources/unsubscribe')).toHaveLength(0);
    await b.client.unsubscribeResource({ uri });
    expect((await traces(h)).filter((t) => t === 'trace: resources/unsubscribe')).toHaveLength(1);
  });

  it('ends a session on DELETE; the id then gets 404', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const { transport } = await connect(`${h.url}/mcp/demo/mcp`);
    const id = (transport as { sessionId?: string }).sessionId!;
    expect((await server(h.url, 'demo')) as unknown as { sessions: number }).toMatchObject({ sessions: 1 });
    await (transport as { terminateSession(): Promise<void> }).terminateSession();
    expect((await server(h.url, 'demo')) as unknown as { sessions: number }).toMatchObject({ sessions: 0 });
    const res = await fetch(`${h.url}/mcp/demo/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32001);
  });

  it('expires an idle session', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    sessionIdleTimeout: 300ms\n')));
    const { transport, client } = await connect(`${h.url}/mcp/demo/mcp`);
    await client.listTools();
    await (transport as { close(): Promise<void> }).close(); // drops the GET stream; the session idles
    await waitFor(async () => ((await server(h.url, 'demo')) as unknown as { sessions: number }).sessions === 0, 'session expired', 3000);
  });

  it('gives ten parallel clients on one shared child their own answers', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(`${h.url}/mcp/demo/mcp`, { name: `c${i}` })));
    const { pid } = await running(h.url, 'demo');
    const answers = await Promise.all(
      clients.flatMap((c, i) => Array.from({ length: 5 }, (_, j) => c.client.callTool({ name: 'echo', arguments: { text: `${i}/${j}` } }).then((r) => [`${i}/${j}`, textOf(r)]))),
    );
    for (const [want, got] of answers) expect(got).toBe(want);
    expect((await running(h.url, 'demo')).pid).toBe(pid);
  });

  it('answers the pending requests of three sessions when the child dies, then serves them again', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    restart: { policy: always, backoff: { initial: 50ms, max: 100ms } }\n')));
    const clients = await Promise.all([0, 1, 2].map(() => connect(`${h.url}/mcp/demo/mcp`)));
    const { pid } = await running(h.url, 'demo');
    const pending = clients.map((c) => c.client.callTool({ name: 'slow', arguments: { ms: 30_000 } }).then(() => 'answered', (e: Error) => e.message));
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 3, 'three calls in flight');
    process.kill(pid!, 'SIGKILL');
    const outcomes = await Promise.all(pending);
    for (const o of outcomes) expect(o).toMatch(/exited|killed|SIGKILL/);
    await waitFor(async () => {
      const s = await server(h.url, 'demo');
      return s?.state === 'running' && s.pid !== pid;
    }, 'restarted');
    for (const c of clients) expect(textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
  });
});

describe('legacy HTTP+SSE with the SDK client', () => {
  it('connects through the endpoint event and calls tools', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const { client } = await connect(`${h.url}/mcp/demo/legacy/sse`, { legacy: true });
    expect((await client.listTools()).tools.length).toBeGreaterThan(3);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'legacy' } }))).toBe('legacy');
    const seen: number[] = [];
    await client.callTool({ name: 'slow', arguments: { ms: 200, steps: 4 } }, undefined, { onprogress: (p) => void seen.push(p.progress) });
    // The SDK client drops a progress that lands in the same tick as the result; the earlier ones arrive.
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
  });
});

