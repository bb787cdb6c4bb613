// How servers appear on the aggregate endpoint, from the manifest: prefixes ("" for none, with clashes
// reported), allow/deny globs, per-tool overrides, the separator, and named bundles at /mcp/@<name>;
// and what validate says of them. Real children, the stock SDK client.
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseManifest } from '../../src/config/load.ts';
import { globMatches, resolveName, shows, decodeCursor, encodeCursor } from '../../src/aggregate/names.ts';
import { closeAll, demoServer, getJson, manifest, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { closeClients, connect as connectLegacyOrNot, textOf } from '../helpers/mcp-client.ts';
import { allToolNames as toolNames } from './walk.ts';

const connectLegacy = (url: string) => connectLegacyOrNot(url, { legacy: true });

const clients = new Set<Client>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close().catch(() => {})));
  clients.clear();
  await closeClients();
  await closeAll();
});

async function connect(h: Harness, path = '/mcp'): Promise<Client> {
  const client = new Client({ name: 'exposure-test', version: '1' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.url}${path}`)));
  clients.add(client);
  return client;
}


async function pidOf(h: Harness, name: string): Promise<string> {
  const rows = (await getJson(`${h.url}/mcp/servers`)).servers as { name: string; pid: number | null }[];
  return String(rows.find((r) => r.name === name)!.pid);
}

describe('names (pure)', () => {
  it('globs, filters, longest-prefix resolution and cursors', () => {
    expect(globMatches('create_*', 'create_issue')).toBe(true);
    expect(globMatches('a.b', 'axb')).toBe(false);
    expect(globMatches('x?z', 'xyz')).toBe(true);
    expect(shows({ allow: ['list_*'], deny: ['list_secrets'] }, 'list_repos')).toBe(true);
    expect(shows({ allow: ['list_*'], deny: ['list_secrets'] }, 'list_secrets')).toBe(false);
    expect(shows({}, 'anything')).toBe(true);
    const prefixes = [['a', 'a'], ['a_b', 'a_b'], ['a__b', 'x']] as const;
    expect(resolveName('a__b__pid', prefixes)).toEqual({ server: 'x', name: 'pid' });
    expect(resolveName('a_b__pid', prefixes)).toEqual({ server: 'a_b', name: 'pid' });
    expect(resolveName('a__pid', prefixes)).toEqual({ server: 'a', name: 'pid' });
    expect(resolveName('pid', prefixes)).toBeUndefined();
    expect(resolveName('pid', prefixes, '__', new Map([['pid', 'plain']]))).toEqual({ server: 'plain', name: 'pid' });
    expect(resolveName('a.pid', [['a', 'a']], '.')).toEqual({ server: 'a', name: 'pid' });
    expect(decodeCursor(encodeCursor({ server: 's', cursor: 'c' }))).toEqual({ server: 's', cursor: 'c' });
    expect(decodeCursor('bm90IGpzb24')).toBeUndefined();
    expect(decodeCursor(Buffer.from('[1]').toString('base64url'))).toBeUndefined();
  });
});

describe('validate', () => {
  const errors = (src: string): string[] => {
    const r = parseManifest('/srv/gw/mcp-gateway.yaml', src, {});
    return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`);
  };
  it('refuses two servers with one prefix, and a bundle that names no server', () => {
    expect(errors('version: 1\nservers:\n  a: { command: node }\n  b: { command: node, prefix: a }\n')).toEqual([
      "4:31: servers.b: its prefix on the aggregate endpoint is also server a's; give one of them another prefix",
    ]);
    expect(errors('version: 1\nservers:\n  a: { command: node }\nendpoints:\n  ops: { servers: [a, nope] }\n')).toEqual([
      '5:23: endpoints.ops.servers[1]: no server of that name in servers; fix the name or remove it',
    ]);
    expect(errors('version: 1\nservers:\n  a: { command: node, prefix: "" }\n  b: { command: node, prefix: "" }\n')).toEqual([]);
  });
});

describe('exposure on /mcp', () => {
  it('a prefix of its own, allow/deny globs (a hidden tool refused by name), and overrides', async () => {
    const h = await startHarness(
      manifest(
        demoServer('a', '    prefix: alpha\n    tools:\n      allow: ["e*", "pid"]\n      deny: [echo]\n      override:\n        env_names: { title: "Env", description: "What the child sees" }\n') +
          demoServer('b'),
      ),
    );
    const client = await connect(h);
    const names = await toolNames(client);
    expect(names.filter((n) => n.startsWith('alpha__')).sort()).toEqual(['alpha__env_names', 'alpha__pid']);
    expect(names).toContain('b__echo');
    const listed = (await client.listTools()).tools.find((t) => t.name === 'alpha__env_names');
    expect(listed).toMatchObject({ title: 'Env', description: 'What the child sees' });
    expect(textOf(await client.callTool({ name: 'alpha__pid', arguments: {} }))).toBe(await pidOf(h, 'a'));
    await expect(client.callTool({ name: 'alpha__echo', arguments: { text: 'x' } })).rejects.toThrow(/names no tool of this endpoint/);
    await expect(client.callTool({ name: 'a__pid', arguments: {} })).rejects.toThrow(/names no tool of this endpoint/);
  });

  it('servers without a prefix: names as they are, a clash shown for the first only and reported', async () => {
    const h = await startHarness(manifest(demoServer('a', '    prefix: ""\n') + demoServer('b', '    prefix: ""\n')));
    const client = await connect(h);
    const names = await toolNames(client);
    expect(names.filter((n) => n === 'echo')).toHaveLength(1);
    expect(names.every((n) => !n.includes('__'))).toBe(true);
    expect(textOf(await client.callTool({ name: 'pid', arguments: {} }))).toBe(await pidOf(h, 'a'));
    await waitFor(() => h.logs.some((l) => l.includes('tool \\"pid\\" of server \\"b\\" is hidden')), 'the clash in the log');
  });

  it('another separator', async () => {
    const h = await startHarness(manifest(demoServer('a'), 'aggregate: { separator: "." }\n'));
    const client = await connect(h);
    expect(await toolNames(client)).toContain('a.echo');
    expect(textOf(await client.callTool({ name: 'a.echo', arguments: { text: 'dot' } }))).toBe('dot');
  });

  it('a filter edited by a reload: list_changed, and the tool goes', async () => {
    const h = await startHarness(manifest(demoServer('a')));
    const client = await connect(h);
    let changed = 0;
    client.fallbackNotificationHandler = async (n) => void (n.method === 'notifications/tools/list_changed' && changed++);
    expect(await toolNames(client)).toContain('a__echo');
    h.write(manifest(demoServer('a', '    tools: { deny: [echo] }\n')));
    await waitFor(() => changed > 0, 'list_changed after the filter changed', 10_000);
    expect(await toolNames(client)).not.toContain('a__echo');
  });
});

describe('the legacy HTTP+SSE aggregate', () => {
  it('serves /sse (and a bundle at /sse/@<name>) to the SDK SSE client', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b'), 'endpoints:\n  only-b: { servers: [b] }\n'));
    const all = await connectLegacy(`${h.url}/sse`);
    const names = await toolNames(all.client);
    expect(names).toEqual(expect.arrayContaining(['a__echo', 'b__echo']));
    expect(textOf(await all.client.callTool({ name: 'b__pid', arguments: {} }))).toBe(await pidOf(h, 'b'));
    const bundle = await connectLegacy(`${h.url}/sse/@only-b`);
    expect((await toolNames(bundle.client)).every((n) => n.startsWith('b__'))).toBe(true);
    expect((await fetch(`${h.url}/sse/@nope`)).status).toBe(404);
  });
});

describe('named bundles', () => {
  it('serves /mcp/@<name> with its servers and tool globs; an unknown bundle is 404', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b'), 'endpoints:\n  ops:\n    servers: [b]\n    tools: { deny: ["b__crash"] }\n'));
    const client = await connect(h, '/mcp/@ops');
    const names = await toolNames(client);
    expect(names.every((n) => n.startsWith('b__'))).toBe(true);
    expect(names).toContain('b__echo');
    expect(names).not.toContain('b__crash');
    await expect(client.callTool({ name: 'b__crash', arguments: {} })).rejects.toThrow(/names no tool of this endpoint/);
    expect(textOf(await client.callTool({ name: 'b__pid', arguments: {} }))).toBe(await pidOf(h, 'b'));
    const unknown = await fetch(`${h.url}/mcp/@nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    expect(unknown.status).toBe(404);
    // A server name never reaches the bundle route: /mcp/b is no endpoint.
    expect((await fetch(`${h.url}/mcp/b`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
  });
});

describe('observability of the aggregate', () => {
  it('the access log and metrics name the endpoint and the server a call went to', async () => {
    const yaml = `version: 1\nlisten: { host: 127.0.0.1, port: 0, accessLog: true }\nservers:\n${demoServer('a')}${demoServer('b')}endpoints:\n  ops: { servers: [b] }\n`;
    const h = await startHarness(yaml);
    const client = await connect(h);
    await client.callTool({ name: 'a__echo', arguments: { text: 'x' } });
    const bundle = await connect(h, '/mcp/@ops');
    await bundle.callTool({ name: 'b__echo', arguments: { text: 'y' } });
    const access = () => h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'access' && l.method === 'tools/call');
    await waitFor(() => access().length >= 2, 'two access lines');
    expect(access().map((l) => [l.endpoint, l.server])).toEqual([
      ['@', 'a'],
      ['@ops', 'b'],
    ]);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('mcp_gateway_aggregate_requests_total{endpoint="@",server="a",method="tools/call"} 1');
    expect(metrics).toContain('mcp_gateway_aggregate_requests_total{endpoint="@ops",server="b",method="tools/call"} 1');
  });
});

describe('discovery mode (a bundle with discovery: true)', () => {
  it('starts a session with search_tools and enable_tools; enabled tools join its list with list_changed', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b'), 'endpoints:\n  big: { servers: "*", discovery: true }\n'));
    const client = await connect(h, '/mcp/@big');
    let changed = 0;
    client.fallbackNotificationHandler = async (n) => void (n.method === 'notifications/tools/list_changed' && changed++);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['search_tools', 'enable_tools']);
    const found = textOf(await client.callTool({ name: 'search_tools', arguments: { query: 'pid' } }));
    expect(found).toContain('a__pid');
    expect(found).toContain('b__pid');
    await expect(client.callTool({ name: 'b__pid', arguments: {} })).rejects.toThrow(/not enabled for this session/);
    const enabled = textOf(await client.callTool({ name: 'enable_tools', arguments: { names: ['b__pid', 'nope'] } }));
    expect(enabled).toBe('Enabled: b__pid. Not in the catalog: nope (use search_tools).');
    await waitFor(() => changed === 1, 'tools/list_changed after enable_tools');
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['search_tools', 'enable_tools', 'b__pid']);
    expect(textOf(await client.callTool({ name: 'b__pid', arguments: {} }))).toBe(await pidOf(h, 'b'));
    // Another session starts from the two tools again.
    const other = await connect(h, '/mcp/@big');
    expect((await other.listTools()).tools).toHaveLength(2);
  });
});
