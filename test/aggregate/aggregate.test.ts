// The aggregate endpoint (/mcp) with the stock SDK client: one URL over every server a key may use;
// tools and prompts named <server>__<name>, resources routed by URI, pages across servers, calls that reach
// the right child (by pid), per-key views, and lists that follow reloads through list_changed.
import { afterEach, describe, expect, it } from 'vitest';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { authKeys, closeAll, demoServer, getJson, manifest, running, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { textOf } from '../helpers/mcp-client.ts';
import { allToolNames as allTools } from './walk.ts';

const ALL = 'aggregate-key-for-everything';
const ONLY_A = 'aggregate-key-for-a-only';
const CAREFUL = 'aggregate-key-without-crash-tools';

function manifestWith(servers: string): string {
  const keys = authKeys([
    { name: 'all', key: ALL, servers: '*' },
    { name: 'only-a', key: ONLY_A, servers: '[a]' },
    { name: 'careful', key: CAREFUL, servers: '*', extra: 'tools: { deny: ["*__crash", "*__fail"] }' },
  ]);
  return manifest(servers, keys);
}

const THREE = demoServer('a') + demoServer('b') + demoServer('c', '    sharing: per-session\n');

const clients = new Set<Client>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close().catch(() => {})));
  clients.clear();
  await closeAll();
});

async function connect(h: Harness, key: string, setup?: (c: Client) => void): Promise<Client> {
  const client = new Client({ name: 'aggregate-test', version: '1' }, { capabilities: {} });
  setup?.(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  clients.add(client);
  return client;
}


async function serverRows(h: Harness): Promise<{ name: string; pid: number | null; children?: { pid: number | null }[] }[]> {
  return (await getJson(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${ALL}` } })).servers;
}

describe('the aggregate endpoint /mcp', () => {
  it('lists the tools of three servers (one per-session) across pages, and each call reaches its own child', async () => {
    const h = await startHarness(manifestWith(THREE));
    await running(h.url, 'a').catch(() => undefined);
    const client = await connect(h, ALL);
    expect(client.getServerVersion()?.name).toBe('mcp-gateway');
    expect(client.getServerCapabilities()?.tools).toMatchObject({ listChanged: true });
    const names = await allTools(client);
    for (const s of ['a', 'b', 'c']) expect(names).toEqual(expect.arrayContaining([`${s}__echo`, `${s}__pid`, `${s}__slow`]));
    expect(names.filter((n) => n.endsWith('__echo'))).toHaveLength(3);

    const rows = await serverRows(h);
    const pidOf = (name: string): number | null | undefined => rows.find((r) => r.name === name)?.pid;
    expect(textOf(await client.callTool({ name: 'a__pid', arguments: {} }))).toBe(String(pidOf('a')));
    expect(textOf(await client.callTool({ name: 'b__pid', arguments: {} }))).toBe(String(pidOf('b')));
    // The per-session server started a child for this session: the call reaches exactly that one.
    const c = rows.find((r) => r.name === 'c')!;
    expect(c.children).toHaveLength(1);
    expect(textOf(await client.callTool({ name: 'c__pid', arguments: {} }))).toBe(String(c.children![0]!.pid));
    expect(textOf(await client.callTool({ name: 'b__echo', arguments: { text: 'through b' } }))).toBe('through b');
  });

  it('shows a key only its servers, and refuses a hidden tool called by name', async () => {
    const h = await startHarness(manifestWith(THREE));
    const onlyA = await connect(h, ONLY_A);
    const names = await allTools(onlyA);
    expect(names.length).toBeGreaterThan(3);
    expect(names.every((n) => n.startsWith('a__'))).toBe(true);
    await expect(onlyA.callTool({ name: 'b__echo', arguments: { text: 'x' } })).rejects.toThrow(/names no tool of this endpoint/);
    // The other key sees all three at once.
    const all = await connect(h, ALL);
    expect(new Set((await allTools(all)).map((n) => n.split('__')[0]))).toEqual(new Set(['a', 'b', 'c']));
  });

  it("keeps a key's tool globs: hidden tools are neither listed nor callable, for that key only", async () => {
    const h = await startHarness(manifestWith(THREE));
    const careful = await connect(h, CAREFUL);
    const names = await allTools(careful);
    expect(names).toContain('a__echo');
    expect(names.some((n) => n.endsWith('__crash') || n.endsWith('__fail'))).toBe(false);
    await expect(careful.callTool({ name: 'a__crash', arguments: {} })).rejects.toThrow(/names no tool of this endpoint/);
    expect(await allTools(await connect(h, ALL))).toContain('a__crash');
  });

  it('routes progress, resources by URI, and refuses a name or cursor it never gave', async () => {
    const h = await startHarness(manifestWith(THREE));
    const client = await connect(h, ALL);
    const progress: number[] = [];
    const slow = await client.callTool({ name: 'b__slow', arguments: { ms: 300, steps: 3 } }, undefined, { onprogress: (p) => void progress.push(p.progress) });
    expect(textOf(slow)).toBe('waited 300ms');
    expect(progress).toEqual([1, 2, 3]);
    const resources = await client.listResources();
    expect(resources.resources.map((r) => r.uri)).toContain('demo://notes/hello');
    const read = await client.readResource({ uri: 'demo://notes/hello' });
    expect(read.contents[0]).toMatchObject({ text: 'note hello' });
    await expect(client.callTool({ name: 'nosuch__echo', arguments: {} })).rejects.toThrow(/names no tool/);
    await expect(client.listTools({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
  });

  it('follows a reload that adds a server and removes another: list_changed, then the new list, without reconnecting', async () => {
    const h = await startHarness(manifestWith(demoServer('a') + demoServer('b')));
    let changed = 0;
    const client = await connect(h, ALL, (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++));
    expect(new Set((await allTools(client)).map((n) => n.split('__')[0]))).toEqual(new Set(['a', 'b']));
    h.write(manifestWith(demoServer('a') + demoServer('d')));
    await waitFor(() => changed > 0, 'tools/list_changed after the reload', 10_000);
    // The first list_changed may be b going down, before the reload is applied in full: a client lists
    // again on each one, and the list settles on the new members.
    const servers = async (): Promise<string> => [...new Set((await allTools(client)).map((n) => n.split('__')[0]))].sort().join(',');
    await waitFor(async () => (await servers()) === 'a,d', 'the list of a and d', 10_000);
    expect(textOf(await client.callTool({ name: 'd__echo', arguments: { text: 'new server' } }))).toBe('new server');
    await expect(client.callTool({ name: 'b__echo', arguments: { text: 'x' } })).rejects.toThrow(/names no tool/);
  });

  it("an idle session ends after its members' shortest sessionIdleTimeout, and lets its per-session child go", async () => {
    const h = await startHarness(manifestWith(demoServer('a') + demoServer('c', '    sharing: per-session\n    sessionIdleTimeout: 1s\n')));
    const client = await connect(h, ALL);
    expect(textOf(await client.callTool({ name: 'a__echo', arguments: { text: 'x' } }))).toBe('x');
    expect((await serverRows(h)).find((r) => r.name === 'c')!.children).toHaveLength(1);
    // The client goes without ending its session (its GET stream closes; no DELETE), as the Inspector's CLI does.
    await client.close();
    clients.delete(client);
    await waitFor(async () => (await serverRows(h)).find((r) => r.name === 'c')!.children!.length === 0, "c's child stopped with the idle session", 8000);
    expect(h.gateway.sessions.size).toBe(0);
  });

  it('keeps serving when a member crashes: its calls get an error that names it, the others answer', async () => {
    const h = await startHarness(manifestWith(demoServer('a', '    restart: { policy: never }\n') + demoServer('b')));
    const client = await connect(h, ALL);
    await client.callTool({ name: 'a__crash', arguments: {} }).catch(() => undefined);
    await waitFor(async () => (await serverRows(h)).find((r) => r.name === 'a')?.pid === null, 'a exited');
    await expect(client.callTool({ name: 'a__echo', arguments: { text: 'x' } })).rejects.toThrow(/"a"/);
    expect(textOf(await client.callTool({ name: 'b__echo', arguments: { text: 'still here' } }))).toBe('still here');
    expect((await allTools(client)).every((n) => n.startsWith('b__'))).toBe(true);
  });
});
