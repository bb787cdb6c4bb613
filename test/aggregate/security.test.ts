// Review probes (adversarial): what a key that lost a server by a reload still gets through the aggregate
// endpoint, and what odd input costs the gateway. Each test states the expected (safe) behaviour; a
// failure is the finding.
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { textOf } from '../helpers/mcp-client.ts';
import { ALL, SCOPED, bearer, init25, keyed, listen26, post25, post26, session25, type OpenListen } from './wire-helpers.ts';

const clients = new Set<Client>();
const listens = new Set<OpenListen>();
afterEach(async () => {
  for (const l of listens) l.close();
  listens.clear();
  await Promise.all([...clients].map((c) => c.close().catch(() => {})));
  clients.clear();
  await closeAll();
});

async function connect(h: Harness, key: string | undefined, path = '/mcp'): Promise<Client> {
  const client = new Client({ name: 'review', version: '1' }, { capabilities: {} });
  clients.add(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.url}${path}`), { requestInit: { headers: bearer(key) } }));
  return client;
}

/** Applies the manifest now (the file watch would too, later). */
async function reload(h: Harness, yaml: string): Promise<void> {
  h.write(yaml);
  const outcome = await h.gateway.reconciler.reload('api');
  expect(outcome.ok).toBe(true);
}

const listChanged = (l: OpenListen): number => l.messages.filter((m) => m.method === 'notifications/tools/list_changed').length;

describe('2026 subscriptions/listen on /mcp after a reload takes a server from the key', () => {
  it('no longer carries that server\'s notifications', async () => {
    const servers = demoServer('a') + demoServer('b');
    const h = await startHarness(keyed(servers, '[a, b]'));
    const l = await listen26(h, '/mcp', SCOPED, { toolsListChanged: true });
    listens.add(l);
    expect(l.status).toBe(200);
    await waitFor(() => l.messages.some((m) => m.method === 'notifications/subscriptions/acknowledged'), 'the acknowledgement');

    // Control: while the key may use b, b's list_changed reaches the stream.
    expect((await post26(h, '/mcp/b/mcp', ALL, 'tools/call', { name: 'changed', arguments: {} })).status).toBe(200);
    await waitFor(() => listChanged(l) === 1, "b's list_changed while the key may use b");

    await reload(h, keyed(servers, '[a]'));
    await new Promise((r) => setTimeout(r, 300));
    const before = listChanged(l);
    // Another key makes b say its tools changed: the scoped key may no longer use b.
    expect((await post26(h, '/mcp/b/mcp', ALL, 'tools/call', { name: 'changed', arguments: {} })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(listChanged(l), "b's notification reached a key that lost b").toBe(before);
  });
});

describe('a 2025 session on /mcp that initializes while a reload takes a server from its key', () => {
  it('does not keep the server the key lost', async () => {
    // c (per-session, a slow initialize) holds the aggregate's initialize open while the reload lands.
    const servers = demoServer('a') + demoServer('b') + demoServer('c', '    sharing: per-session\n    env: { DEMO_INIT_DELAY_MS: "2500" }\n');
    const h = await startHarness(keyed(servers, '[a, b, c]'));
    const opening = session25(h, '/mcp', SCOPED);
    await new Promise((r) => setTimeout(r, 500));
    await reload(h, keyed(servers, '[a, c]'));
    const session = await opening;

    // A session opened after the reload: b is gone for the key.
    const fresh = await session25(h, '/mcp', SCOPED);
    const freshCall = await post25(h, '/mcp', SCOPED, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'b__pid', arguments: {} } }, fresh);
    expect(freshCall.message.error?.message).toMatch(/names no tool/);

    // The session that was initializing during the reload must not differ.
    const list = await post25(h, '/mcp', SCOPED, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }, session);
    const names: string[] = [];
    let page = list.message.result;
    names.push(...page.tools.map((t: Json) => t.name));
    for (let i = 4; page.nextCursor !== undefined && i < 20; i++) {
      page = (await post25(h, '/mcp', SCOPED, { jsonrpc: '2.0', id: i, method: 'tools/list', params: { cursor: page.nextCursor } }, session)).message.result;
      names.push(...page.tools.map((t: Json) => t.name));
    }
    expect.soft(names.filter((n) => n.startsWith('b__')), 'b listed to a key that lost b').toEqual([]);
    const call = await post25(h, '/mcp', SCOPED, { jsonrpc: '2.0', id: 30, method: 'tools/call', params: { name: 'b__pid', arguments: {} } }, session);
    expect(call.message.error?.message, `b reached: ${JSON.stringify(call.message)}`).toMatch(/names no tool/);
  });
});

describe('odd input against a manifest glob', () => {
  it('a long tool name against a deny glob with two stars does not stall the gateway', async () => {
    const h = await startHarness(manifest(demoServer('a', '    tools: { deny: ["*admin*delete*"] }\n')));
    const client = await connect(h, undefined);
    expect(textOf(await client.callTool({ name: 'a__echo', arguments: { text: 'up' } }))).toBe('up');
    // ~200 kB of name, well under the 4 MiB body limit; the glob's regex backtracks quadratically.
    const name = `a__${'admin'.repeat(40_000)}`;
    // The gateway runs in this process: a stall of its event loop shows as a late timer here.
    let last = Date.now();
    let worst = 0;
    const tick = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 20);
    const started = Date.now();
    await client.callTool({ name, arguments: {} }).catch(() => undefined); // the child's unknown tool: the deny glob did not match
    const callMs = Date.now() - started;
    clearInterval(tick);
    expect(worst, `the event loop stalled ${worst} ms in one tools/call (${callMs} ms); /healthz and every other client wait that long`).toBeLessThan(500);
  });
});

describe('the aggregate endpoint\'s session bound', () => {
  it('a key that may use one server cannot take every /mcp session from the other keys', async () => {
    const h = await startHarness(keyed(demoServer('a') + demoServer('b'), '[a]'));
    // The scoped key opens sessions until the endpoint refuses (256 at the time of this review).
    let opened = 0;
    for (; opened < 400; opened++) {
      const r = await post25(h, '/mcp', SCOPED, init25(opened));
      if (r.session === null) break;
    }
    // Another key, with every server, still gets a session on /mcp.
    const other = await post25(h, '/mcp', ALL, init25('other'));
    expect(other.status, `after ${opened} sessions of the scoped key: ${JSON.stringify(other.message)}`).toBe(200);
  });
});

describe('2026 listen with many unknown URIs', () => {
  it('one listen request does not make every member list its resources once per URI', async () => {
    const h = await startHarness(manifest(demoServer('a', '    env: { DEMO_TRACE: "1" }\n    stderrLines: 5000\n')));
    const uris = Array.from({ length: 256 }, (_, i) => `nowhere://x/${i}`);
    const l = await listen26(h, '/mcp', undefined, { resourceSubscriptions: uris });
    listens.add(l);
    await waitFor(() => l.messages.some((m) => m.method === 'notifications/subscriptions/acknowledged'), 'the acknowledgement', 15_000);
    const lines = ((await (await fetch(`${h.url}/mcp/a/stderr`)).json()) as Json).lines as string[];
    const lists = lines.filter((x) => x === 'trace: resources/list' || x === 'trace: resources/templates/list').length;
    expect(lists, 'list requests the child got for one listen POST').toBeLessThanOrEqual(4);
  });
});

describe('GET /mcp/servers for a scoped key', () => {
  it('does not name bundles that hold only servers the key may not use', async () => {
    const h = await startHarness(keyed(demoServer('a') + demoServer('b'), '[a]', 'endpoints:\n  payroll-b: { servers: [b], description: "b: the payroll export tools" }\n'));
    const body = (await (await fetch(`${h.url}/mcp/servers`, { headers: bearer(SCOPED) })).json()) as Json;
    expect.soft(JSON.stringify(body.endpoints), 'a bundle of b named to a key without b').not.toMatch(/payroll/);
    // And the bundle answers as one that does not exist (404), not with an empty session.
    const r = await post25(h, '/mcp/@payroll-b', SCOPED, init25());
    expect(r.status).toBe(404);
  });
});

describe('a server\'s tools.deny, for a key that may use the server (policy question)', () => {
  // The documented rule (README, "One endpoint for all servers"): a server's filters shape the aggregate
  // endpoints; its own URL serves the server whole to whoever may use it (keys' servers are the control).
  it("a server's filters shape the aggregate endpoints, not the server's own URL", async () => {
    const h = await startHarness(keyed(demoServer('a', '    tools: { deny: [env_names] }\n'), '[a]'));
    const onMcp = await post26(h, '/mcp', SCOPED, 'tools/call', { name: 'a__env_names', arguments: {} });
    expect(onMcp.message.error?.message).toMatch(/names no tool/);
    const own = await post26(h, '/mcp/a/mcp', SCOPED, 'tools/call', { name: 'env_names', arguments: {} });
    expect(own.message.result).toBeDefined();
  });
});

describe('odd requests on /mcp and a bundle', () => {
  it('are each answered with an error, and the gateway stays up', async () => {
    const h = await startHarness(keyed(demoServer('a', '    prefix: ""\n') + demoServer('b'), '[a]', 'endpoints:\n  only-b: { servers: [b] }\n'));
    const session = await session25(h, '/mcp', SCOPED);
    const odd: Json[] = [
      { method: 'tools/call', params: { name: { toString: 'x' } } },
      { method: 'tools/call', params: { name: '' } },
      { method: 'tools/call', params: { name: '__proto__' } },
      { method: 'tools/call', params: { name: 'constructor' } },
      { method: 'tools/call', params: { name: 'b__' } },
      { method: 'tools/call', params: { name: '__echo' } },
      { method: 'tools/call', params: { name: 'b____echo' } },
      { method: 'tools/call' },
      { method: 'prompts/get', params: { name: 7 } },
      { method: 'tools/list', params: { cursor: 12 } },
      { method: 'tools/list', params: { cursor: '' } },
      { method: 'tools/list', params: { cursor: 'W10' } },

      { method: 'resources/read', params: { uri: 7 } },
      { method: 'resources/read', params: { uri: '' } },
      { method: 'resources/subscribe', params: {} },
      { method: 'completion/complete', params: { ref: 'x' } },
      { method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: null } } },
      { method: 'completion/complete', params: { ref: { type: 'ref/resource' } } },
      { method: 'sampling/createMessage', params: {} },
      { method: 'initialize', params: {} },
    ];
    let id = 100;
    for (const m of odd) {
      const r = await post25(h, '/mcp', SCOPED, { jsonrpc: '2.0', id: ++id, ...m }, session);
      expect(r.message?.error, `${JSON.stringify(m)} → ${r.status} ${JSON.stringify(r.message)}`).toBeDefined();
      const r26 = await post26(h, '/mcp/@only-b', SCOPED, m.method, m.params ?? {}, ++id);
      expect(r26.status >= 400 || r26.message?.error !== undefined, `2026 ${JSON.stringify(m)} → ${r26.status} ${JSON.stringify(r26.message)}`).toBe(true);
    }
    // A cursor naming a server the caller does not see goes on with the next one it sees (a, prefix "",
    // sorts after "__proto__"): a page of a's, nothing of b's.
    const crafted = await post25(h, '/mcp', SCOPED, { jsonrpc: '2.0', id: ++id, method: 'tools/list', params: { cursor: Buffer.from('["__proto__"]').toString('base64url') } }, session);
    expect((crafted.message?.result?.tools as { name: string }[]).every((t) => !t.name.startsWith('b__'))).toBe(true);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect(h.logs.filter((l) => l.includes('MCP request failed'))).toEqual([]);
  });
});
