// Review probes: the aggregate endpoint's own state over time (members opened for a session, the names
// and URIs it learnt) against sessions that end, lists that change, children that restart and reloads.
// Each test states the expected behaviour; a failure is the finding.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { alive, closeAll, demoServer, getJson, manifest, running, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { textOf } from '../helpers/mcp-client.ts';
import { LISTS_CHILD, SCOPED, bearer, keyed, listsServer, post26 } from './wire-helpers.ts';
import { allToolNames as allTools } from './walk.ts';

const clients = new Set<Client>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close().catch(() => {})));
  clients.clear();
  await closeAll();
});

async function connect(h: Harness, key?: string, setup?: (c: Client) => void): Promise<Client> {
  const client = new Client({ name: 'review', version: '1' }, { capabilities: {} });
  setup?.(client);
  clients.add(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: bearer(key) } }));
  return client;
}


async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    return `result: ${textOf(await p)}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

async function pidsOf(h: Harness, name: string): Promise<number[]> {
  const rows = (await getJson(`${h.url}/mcp/servers`)).servers as { name: string; children?: { pid: number | null }[] }[];
  return (rows.find((r) => r.name === name)?.children ?? []).map((c) => c.pid).filter((p): p is number => p !== null);
}

/** resources/list answers after 1 s (the aggregate lists to learn whose a URI is). */
const SLOW_LIST = `
import { createInterface } from 'node:readline';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined || m.method === undefined) return;
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { resources: {} }, serverInfo: { name: 'slow-list', version: '1' } } });
  if (m.method === 'resources/list') return void setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: { resources: [{ uri: 'slow://x', name: 'x' }] } }), 1000);
  if (m.method === 'ping') return send({ jsonrpc: '2.0', id: m.id, result: {} });
  send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found: ' + m.method } });
});
lines.on('close', () => process.exit(0));
`;

describe('an aggregate session that ends while a request of it is still walking the members', () => {
  it('leaves no per-session child behind', async () => {
    const slow = `  s:\n    command: node\n    args: ["slow-list.mjs"]\n`;
    const h = await startHarness(manifest(slow + demoServer('z', '    sharing: per-session\n')), {}, { 'slow-list.mjs': SLOW_LIST });
    await running(h.url, 's');
    // Every pid z's children ever show.
    const seen = new Set<number>();
    const watch = setInterval(() => {
      void pidsOf(h, 'z').then((pids) => pids.forEach((p) => seen.add(p)), () => {});
    }, 25);
    try {
      const client = await connect(h);
      (await pidsOf(h, 'z')).forEach((p) => seen.add(p));
      expect(seen.size).toBe(1);
      // The first read of an unknown URI lists every member (s first: 1 s) to learn whose it is.
      const read = client.readResource({ uri: 'nowhere://x' }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      await (client.transport as StreamableHTTPClientTransport).terminateSession();
      await read;
      await new Promise((r) => setTimeout(r, 1500));
      expect(h.gateway.sessions.size).toBe(0);
      // Every child of z the session had should be gone (given 5 s to stop).
      const living = await waitFor(() => ([...seen].some(alive) ? undefined : 'none'), 'every child of z stopped', 5000).catch(() => [...seen].filter(alive).join(','));
      expect(living, `children of z alive with no session left (pids seen: ${[...seen].join(',')}, listed now: ${(await pidsOf(h, 'z')).join(',')})`).toBe('none');
    } finally {
      clearInterval(watch);
    }
  });
});

describe('names of servers without a prefix, when a member\'s list changes', () => {
  it('a name only one member has now is shown and routed to that member', async () => {
    const files = { 'lists.mjs': LISTS_CHILD, 'a.json': JSON.stringify({ tools: ['x', 'only_a'] }), 'b.json': JSON.stringify({ tools: ['x', 'only_b'] }) };
    const h = await startHarness(manifest(listsServer('a', '    prefix: ""\n') + listsServer('b', '    prefix: ""\n')), {}, files);
    await running(h.url, 'a');
    await running(h.url, 'b');
    const client = await connect(h);
    expect((await allTools(client)).filter((n) => n === 'x')).toHaveLength(1);
    expect(await outcome(client.callTool({ name: 'x', arguments: {} }))).toBe('result: a:x');

    // a drops x (as a server may at any time, with list_changed): b's x is the only one left.
    writeFileSync(path.join(h.dir, 'a.json'), JSON.stringify({ tools: ['only_a'] }));
    const now = await allTools(client);
    expect.soft(now, "b's x, no longer clashing").toContain('x');
    expect(await outcome(client.callTool({ name: 'x', arguments: {} }))).toBe('result: b:x');
  });
});

describe('resource URIs the endpoint learnt, after a reload', () => {
  it('2026: a URI two members list is read from the one the key still has', async () => {
    // Both demo servers list demo://notes/hello; a (first by name) owns it while the key has a.
    const servers = demoServer('a') + demoServer('b');
    const h = await startHarness(keyed(servers, '[a, b]'));
    const first = await post26(h, '/mcp', SCOPED, 'resources/read', { uri: 'demo://notes/hello' });
    expect(first.message.result?.contents?.[0]?.text).toBe('note hello');

    h.write(keyed(servers, '[b]'));
    expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
    const again = await post26(h, '/mcp', SCOPED, 'resources/read', { uri: 'demo://notes/hello' }, 'r2');
    expect(again.message.result?.contents?.[0]?.text, JSON.stringify(again.message)).toBe('note hello');
  });

  it('2025: after a filter hides a URI at its first owner, the other member that lists it serves it', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b')));
    const client = await connect(h);
    expect((await client.readResource({ uri: 'demo://notes/hello' })).contents[0]).toMatchObject({ text: 'note hello' });
    h.write(manifest(demoServer('a', '    resources: { deny: ["demo://*"] }\n') + demoServer('b')));
    expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
    // A new session reads it from b.
    const fresh = await connect(h);
    expect((await fresh.readResource({ uri: 'demo://notes/hello' })).contents[0]).toMatchObject({ text: 'note hello' });
    // So must the session that learnt the URI as a's.
    expect(await outcome(client.readResource({ uri: 'demo://notes/hello' }).then((r) => ({ content: [{ type: 'text', text: String((r.contents[0] as Json).text) }] })))).toBe('result: note hello');
  });
});

describe('a shared member whose child restarts with other lists', () => {
  it('the aggregate session hears tools/list_changed', async () => {
    const files = { 'lists.mjs': LISTS_CHILD, 'a.json': JSON.stringify({ tools: ['old_tool'] }) };
    const h = await startHarness(manifest(listsServer('a', '    restart: { policy: always }\n')), {}, files);
    await running(h.url, 'a');
    let changed = 0;
    const client = await connect(h, undefined, (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++));
    expect(await allTools(client)).toContain('a__old_tool');
    const before = (await getJson(`${h.url}/mcp/servers`)).servers.find((r: Json) => r.name === 'a').pid;

    writeFileSync(path.join(h.dir, 'a.json'), JSON.stringify({ tools: ['new_tool'] }));
    await client.callTool({ name: 'a__crash', arguments: {} }).catch(() => undefined);
    await waitFor(async () => {
      const row = (await getJson(`${h.url}/mcp/servers`)).servers.find((r: Json) => r.name === 'a');
      return row.state === 'running' && row.pid !== before;
    }, 'a restarted', 10_000);
    expect(await allTools(client)).toContain('a__new_tool');
    await new Promise((r) => setTimeout(r, 300));
    expect(changed, 'tools/list_changed after the member came back with other tools').toBeGreaterThan(0);
  });
});

describe('a resource subscription of a 2025 aggregate session, after a reload hides the URI', () => {
  it('no longer brings resources/updated for it', async () => {
    const h = await startHarness(manifest(demoServer('a')));
    const updates: string[] = [];
    const client = await connect(h, undefined, (c) => c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri)));
    await client.subscribeResource({ uri: 'demo://notes/hello' });
    await client.callTool({ name: 'a__touch', arguments: { uri: 'demo://notes/hello' } });
    await waitFor(() => updates.length === 1, 'the update (control)');

    h.write(manifest(demoServer('a', '    resources: { deny: ["demo://notes/*"] }\n')));
    expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
    await expect(client.readResource({ uri: 'demo://notes/hello' })).rejects.toThrow(/Resource not found/);
    await client.callTool({ name: 'a__touch', arguments: { uri: 'demo://notes/hello' } });
    await new Promise((r) => setTimeout(r, 400));
    expect(updates, 'updates of a URI the manifest now hides').toEqual(['demo://notes/hello']);
  });
});

describe('a per-session member whose child ends', () => {
  it('the aggregate session hears list_changed (its lists lost the member), and the member comes back', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('c', '    sharing: per-session\n')));
    let changed = 0;
    const client = await connect(h, undefined, (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++));
    const pid = textOf(await client.callTool({ name: 'c__pid', arguments: {} }));
    await client.callTool({ name: 'c__crash', arguments: {} }).catch(() => undefined);
    const heard = await waitFor(() => (changed > 0 ? 'yes' : undefined), 'tools/list_changed after c\'s child ended', 3000).catch(() => 'no');
    // The member is opened again for the session: a new child.
    const again = textOf(await client.callTool({ name: 'c__pid', arguments: {} }));
    expect(again).not.toBe(pid);
    expect(heard, 'list_changed when the session\'s child of c ended').toBe('yes');
  });
});

describe('per-session members and maxSessions', () => {
  it('an aggregate session takes one of the member\'s places, gives it back when it ends, and a full member is refused by name', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('c', '    sharing: per-session\n    maxSessions: 1\n')));
    const first = await connect(h);
    expect((await pidsOf(h, 'c')).length).toBe(1);
    const second = await connect(h);
    expect((await pidsOf(h, 'c')).length).toBe(1);
    expect(await outcome(second.callTool({ name: 'c__pid', arguments: {} }))).toMatch(/^error: .*maxSessions/);
    expect(await outcome(second.callTool({ name: 'a__echo', arguments: { text: 'ok' } }))).toBe('result: ok');
    await (first.transport as StreamableHTTPClientTransport).terminateSession();
    await waitFor(async () => (await pidsOf(h, 'c')).length === 0, 'c without children once the first session ended');
    expect(await outcome(second.callTool({ name: 'c__pid', arguments: {} }))).toMatch(/^result: \d+$/);
  });
});

describe('pages across members when one is down', () => {
  it('the down member is skipped, its cursor still works, and the list ends', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b') + demoServer('c')));
    const client = await connect(h);
    expect(new Set((await allTools(client)).map((n) => n.split('__')[0]))).toEqual(new Set(['a', 'b', 'c']));
    const page1 = await client.listTools();
    expect(page1.nextCursor).toBeDefined();
    expect((await fetch(`${h.url}/mcp/b/stop`, { method: 'POST' })).status).toBe(200);
    // The cursor a gave (it names b) goes on past b to c.
    const page2 = await client.listTools({ cursor: page1.nextCursor });
    expect(page2.tools.every((t) => t.name.startsWith('c__'))).toBe(true);
    expect(new Set((await allTools(client)).map((n) => n.split('__')[0]))).toEqual(new Set(['a', 'c']));
    await expect(client.callTool({ name: 'b__echo', arguments: { text: 'x' } })).rejects.toThrow(/"b"/);
    // c down too: a's page is the last.
    expect((await fetch(`${h.url}/mcp/c/stop`, { method: 'POST' })).status).toBe(200);
    const only = await client.listTools();
    expect(only.tools.every((t) => t.name.startsWith('a__'))).toBe(true);
    const rest = only.nextCursor === undefined ? [] : (await client.listTools({ cursor: only.nextCursor })).tools;
    expect(rest).toEqual([]);
  });
});
