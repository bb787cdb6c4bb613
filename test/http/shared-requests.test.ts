import { afterEach, describe, expect, it } from 'vitest';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { closeAll, demoServer, manifest, server, startHarness, waitFor } from '../helpers/gateway.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

const sampler = (name: string, delayMs = 0) => ({
  name,
  capabilities: { sampling: {} },
  setup: (c: import('@modelcontextprotocol/sdk/client/index.js').Client) =>
    c.setRequestHandler(CreateMessageRequestSchema, async () => {
      await new Promise((r) => setTimeout(r, delayMs));
      return { role: 'assistant' as const, model: name, content: { type: 'text' as const, text: `from ${name}` } };
    }),
});

describe('server-to-client requests from a shared child', () => {
  it('are refused at once when the manifest offers nothing (the default)', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const { client } = await connect(`${h.url}/mcp/demo/mcp`, sampler('alice'));
    const r = await client.callTool({ name: 'sample', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('not offered');
  });

  it('go to the one session with a request in flight, on that request’s stream', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    clientCapabilities: [sampling]\n')));
    const a = await connect(`${h.url}/mcp/demo/mcp`, sampler('alice'));
    await connect(`${h.url}/mcp/demo/mcp`, sampler('bob')); // idle: never asked
    expect(textOf(await a.client.callTool({ name: 'sample', arguments: {} }))).toBe('from alice');
  });

  it('are refused when requests of two sessions are in flight; both calls end', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    clientCapabilities: [sampling]\n')));
    const a = await connect(`${h.url}/mcp/demo/mcp`, sampler('alice'));
    const b = await connect(`${h.url}/mcp/demo/mcp`, sampler('bob'));
    const slow = b.client.callTool({ name: 'slow', arguments: { ms: 800 } });
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 1, 'bob in flight');
    const sampled = await a.client.callTool({ name: 'sample', arguments: {} });
    // Refused at once, not after bob's call: bob's is still in flight when alice has her answer.
    expect((await server(h.url, 'demo'))?.inFlight).toBe(1);
    expect(sampled.isError).toBe(true);
    expect(textOf(sampled)).toContain('2 clients are in flight');
    expect(textOf(await slow)).toBe('waited 800ms');
  });

  it('are refused when the client did not declare the capability', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    clientCapabilities: [sampling]\n')));
    const { client } = await connect(`${h.url}/mcp/demo/mcp`, { name: 'plain' });
    const r = await client.callTool({ name: 'sample', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('did not declare the "sampling" capability');
  });

  it('work over the legacy SSE transport too', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    clientCapabilities: [sampling]\n')));
    const { client } = await connect(`${h.url}/mcp/demo/legacy/sse`, { ...sampler('carol'), legacy: true });
    expect(textOf(await client.callTool({ name: 'sample', arguments: {} }))).toBe('from carol');
  });
});
