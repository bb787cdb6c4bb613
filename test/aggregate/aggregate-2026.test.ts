// The aggregate endpoint for a 2026-07-28 client (the v2 SDK client, pinned to 2026): discover, merged
// lists across servers (one per-session), a call that reaches its own child, and an input-required round
// (MRTR) through the aggregate: the retry comes back to /mcp and continues the parked call on its member.
import { afterEach, describe, expect, it } from 'vitest';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport, type ElicitResult } from '@modelcontextprotocol/client';
import { closeAll, demoServer, getJson, manifest, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { textOf } from '../helpers/mcp-client.ts';
import { CONFORMANCE, V2026 } from '../stateless/helpers.ts';
import { allToolNames as allTools } from './walk.ts';

const clients = new Set<V2Client>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close().catch(() => {})));
  clients.clear();
  await closeAll();
});

async function connect(h: Harness, setup?: (c: V2Client) => void, capabilities: Record<string, object> = {}): Promise<V2Client> {
  const client = new V2Client({ name: 'aggregate-2026', version: '1' }, { capabilities, versionNegotiation: { mode: { pin: V2026 } } });
  setup?.(client);
  await client.connect(new V2Transport(new URL(`${h.url}/mcp`)));
  clients.add(client);
  return client;
}


const SERVERS = demoServer('a') + demoServer('c', '    sharing: per-session\n') + `  conf:\n    command: node\n    args: [${JSON.stringify(CONFORMANCE)}]\n    clientCapabilities: [sampling, elicitation, roots]\n`;

describe('the aggregate endpoint for 2026 clients', () => {
  it("a listen stream on /mcp hears a member list_changed, and the aggregate's own after a reload adds a server", async () => {
    const h = await startHarness(manifest(SERVERS));
    let changed = 0;
    const client = await connect(h, (c) => c.setNotificationHandler('notifications/tools/list_changed', () => void changed++));
    const sub = await client.listen({ toolsListChanged: true });
    expect(sub.honoredFilter).toMatchObject({ toolsListChanged: true });
    await client.callTool({ name: 'conf__test_trigger_tool_change', arguments: {} });
    await waitFor(() => changed >= 1, 'a member list_changed on the aggregate listen stream');
    const before = changed;
    h.write(manifest(SERVERS + demoServer('d')));
    await waitFor(() => changed > before, "the aggregate's list_changed after the reload", 10_000);
    expect(await allTools(client)).toContain('d__echo');
    await sub.close();
    await waitFor(() => h.gateway.stateless.listenStreams === 0, 'the listen stream released');
  });

  it('lists across servers and routes each call to its own child', async () => {
    const h = await startHarness(manifest(SERVERS));
    const client = await connect(h);
    const names = await allTools(client);
    expect(names).toEqual(expect.arrayContaining(['a__echo', 'a__pid', 'c__pid', 'conf__test_input_required_result_elicitation']));
    const rows = (await getJson(`${h.url}/mcp/servers`)).servers as { name: string; pid: number | null; children?: { pid: number }[] }[];
    expect(textOf(await client.callTool({ name: 'a__pid', arguments: {} }))).toBe(String(rows.find((r) => r.name === 'a')!.pid));
    // The per-session server keeps one child for this principal: the call reaches it.
    const c = textOf(await client.callTool({ name: 'c__pid', arguments: {} }));
    const after = (await getJson(`${h.url}/mcp/servers`)).servers as { name: string; children?: { pid: number }[] }[];
    expect(after.find((r) => r.name === 'c')!.children!.map((ch) => String(ch.pid))).toContain(c);
    await expect(client.callTool({ name: 'zz__echo', arguments: {} })).rejects.toThrow(/names no tool/);
  });

  it('an elicitation of a member comes back as an input-required round and completes through /mcp', async () => {
    const h = await startHarness(manifest(SERVERS));
    const asked: unknown[] = [];
    const client = await connect(
      h,
      (c) =>
        c.setRequestHandler('elicitation/create', async (request): Promise<ElicitResult> => {
          asked.push(request.params);
          return { action: 'accept', content: { name: 'Ada' } };
        }),
      { elicitation: {} },
    );
    const result = await client.callTool({ name: 'conf__test_input_required_result_elicitation', arguments: {} });
    expect(textOf(result)).toBe('Hello, Ada!');
    expect(asked).toHaveLength(1);
    expect(h.gateway.stateless.parkedCalls).toBe(0);
  });

  it('server/discover unites what the members offer', async () => {
    const h = await startHarness(manifest(SERVERS));
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V2026, 'mcp-method': 'server/discover' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': V2026, 'io.modelcontextprotocol/clientCapabilities': {} } } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: Record<string, any> };
    expect(body.result.capabilities.tools).toEqual({ listChanged: true });
    expect(body.result.capabilities.prompts).toEqual({ listChanged: true });
    expect(body.result.capabilities.resources).toEqual({ listChanged: true, subscribe: true });
    expect(body.result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('mcp-gateway');
    expect(body.result.instructions).toMatch(/a, c, conf/);
  });
});
