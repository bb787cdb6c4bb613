import { afterEach, describe, expect, it } from 'vitest';
import { CreateMessageRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { alive, closeAll, demoServer, manifest, server, startHarness, waitFor, type Json } from '../helpers/gateway.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

const perSession = (extra = '') => manifest(demoServer('solo', `    sharing: per-session\n${extra}`));

function answering(name: string) {
  return {
    name,
    capabilities: { sampling: {}, roots: {} },
    setup: (c: import('@modelcontextprotocol/sdk/client/index.js').Client) => {
      c.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant' as const, model: name, content: { type: 'text' as const, text: `sampled by ${name}` } }));
      c.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: `file:///home/${name}` }] }));
    },
  };
}

async function children(url: string): Promise<{ pid: number; state: string }[]> {
  return ((await server(url, 'solo')) as Json).children;
}

describe('per-session children', () => {
  it('spawns a child per session, routes sampling and roots to that session, and ends the child with it', async () => {
    const h = await startHarness(perSession());
    const a = await connect(`${h.url}/mcp/solo/mcp`, answering('alice'));
    const b = await connect(`${h.url}/mcp/solo/mcp`, answering('bob'));
    const pids = (await children(h.url)).map((c) => c.pid);
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);

    const [sa, sb] = await Promise.all([
      a.client.callTool({ name: 'sample', arguments: { prompt: 'hi' } }),
      b.client.callTool({ name: 'sample', arguments: { prompt: 'hi' } }),
    ]);
    expect(textOf(sa)).toBe('sampled by alice');
    expect(textOf(sb)).toBe('sampled by bob');
    expect(textOf(await b.client.callTool({ name: 'list_roots', arguments: {} }))).toBe('file:///home/bob');

    await (a.transport as { terminateSession(): Promise<void> }).terminateSession();
    const left = await waitFor(async () => {
      const c = await children(h.url);
      return c.length === 1 ? c : undefined;
    }, 'one child left');
    const gone = pids.find((p) => p !== left[0]!.pid)!;
    await waitFor(() => !alive(gone), 'the ended session’s child exited');
    expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here');
  });

  it('forwards the client’s own initialize to its child', async () => {
    const h = await startHarness(perSession('    env: { DEMO_TRACE: "1" }\n'));
    const a = await connect(`${h.url}/mcp/solo/mcp`, { name: 'custom-client' });
    expect(a.client.getServerVersion()?.name).toBe('demo');
    const lines: string[] = (await (await fetch(`${h.url}/mcp/solo/stderr`)).json() as Json).lines;
    expect(lines).toContain('trace: initialize');
  });

  it('refuses sessions beyond maxSessions with 503', async () => {
    const h = await startHarness(perSession('    maxSessions: 1\n'));
    await connect(`${h.url}/mcp/solo/mcp`);
    const res = await fetch(`${h.url}/mcp/solo/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).error.message).toContain('maxSessions (1)');
  });

  it('ends the session when its child crashes; the client gets 404 and can start over', async () => {
    const h = await startHarness(perSession());
    const a = await connect(`${h.url}/mcp/solo/mcp`);
    const [child] = await children(h.url);
    const call = a.client.callTool({ name: 'slow', arguments: { ms: 30_000 } }).then(() => 'answered', (e: Error) => e.message);
    await waitFor(async () => (await fetch(`${h.url}/mcp/servers`)).ok, 'gateway up');
    await new Promise((r) => setTimeout(r, 100));
    process.kill(child!.pid, 'SIGKILL');
    expect(await call).toMatch(/exited|killed|SIGKILL/);
    await waitFor(async () => (await children(h.url)).length === 0, 'child gone');
    await expect(a.client.listTools()).rejects.toThrow(/404|Session not found/);
    const again = await connect(`${h.url}/mcp/solo/mcp`);
    expect(textOf(await again.client.callTool({ name: 'echo', arguments: { text: 'new' } }))).toBe('new');
  });

  it('ends every session when the server is restarted by the API', async () => {
    const h = await startHarness(perSession());
    await connect(`${h.url}/mcp/solo/mcp`);
    await connect(`${h.url}/mcp/solo/mcp`);
    expect(await children(h.url)).toHaveLength(2);
    await fetch(`${h.url}/mcp/solo/restart`, { method: 'POST' });
    await waitFor(async () => (await children(h.url)).length === 0 && ((await server(h.url, 'solo')) as Json).sessions === 0, 'sessions ended');
  });
});

describe('per-session initialize', () => {
  it('keeps a session whose child takes longer to start than the idle timeout', async () => {
    const h = await startHarness(perSession('    env: { DEMO_INIT_DELAY_MS: "2000" }\n    sessionIdleTimeout: 1s\n'));
    const a = await connect(`${h.url}/mcp/solo/mcp`);
    expect(textOf(await a.client.callTool({ name: 'echo', arguments: { text: 'alive' } }))).toBe('alive');
    expect(await children(h.url)).toHaveLength(1);
  });
});
