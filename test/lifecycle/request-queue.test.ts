// Acceptance: a request waiting for a maxInFlight slot whose client gives up never reaches the child.
// Real gateway, real HTTP on 127.0.0.1, the demo server tracing every method it receives (DEMO_TRACE=1).
import { afterEach, describe, expect, it } from 'vitest';
import type { Router } from '../../src/router/router.ts';
import { callTool, closeAll, command, demoServer, getJson, manifest, running, server, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

const oneAtATime = manifest(demoServer('demo', '    env: { DEMO_TRACE: "1" }\n    maxInFlight: 1\n    queueTimeout: 30s\n'));

function routerOf(h: Harness): Router {
  const router = h.gateway.reconciler.servers.get('demo')?.router;
  if (router === undefined) throw new Error('no shared router');
  return router;
}

async function traces(h: Harness): Promise<string[]> {
  return ((await getJson(`${h.url}/mcp/demo/stderr`)).lines as string[]).filter((l) => l.startsWith('trace: '));
}

/**
 * After the slot is free again: a last request (tools/list) goes through. The line is first come first
 * served, so once the child has seen it, a queued request that was still in line would have been
 * seen before it.
 */
async function childSawAfterwards(h: Harness): Promise<string[]> {
  const list = await command(h.url, 'demo', { jsonrpc: '2.0', id: 'last', method: 'tools/list' });
  expect(list.status).toBe(200);
  return waitFor(async () => {
    const t = await traces(h);
    return t.includes('trace: tools/list') ? t : undefined;
  }, 'tools/list traced by the child');
}

describe('a request queued for a maxInFlight slot', () => {
  it('whose HTTP client aborts (classic command) leaves the line and never reaches the child', async () => {
    const h = await startHarness(oneAtATime);
    await running(h.url, 'demo');
    const first = command(h.url, 'demo', callTool(1, 'slow', { ms: 1000, steps: 2 }));
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 1, 'the slow call holds the slot');

    const abort = new AbortController();
    const second = fetch(`${h.url}/mcp/demo/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(callTool(2, 'echo', { text: 'never' })),
      signal: abort.signal,
    });
    await waitFor(() => routerOf(h).queued === 1, 'the second request in line');
    abort.abort();
    await expect(second).rejects.toThrow();
    await waitFor(() => routerOf(h).queued === 0, 'the second request left the line');

    expect((await first).body.result.content[0].text).toBe('waited 1000ms');
    const seen = await childSawAfterwards(h);
    expect(seen.filter((l) => l === 'trace: tools/call')).toHaveLength(1); // the slow call only
    expect(seen).not.toContain('trace: notifications/cancelled');
  });

  it('whose Streamable HTTP client cancels (notifications/cancelled) leaves the line and never reaches the child', async () => {
    const h = await startHarness(oneAtATime);
    await running(h.url, 'demo');
    const a = await connect(`${h.url}/mcp/demo/mcp`);
    const b = await connect(`${h.url}/mcp/demo/mcp`);
    const first = a.client.callTool({ name: 'slow', arguments: { ms: 1000, steps: 2 } });
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 1, 'the slow call holds the slot');

    const abort = new AbortController();
    const second = b.client.callTool({ name: 'echo', arguments: { text: 'never' } }, undefined, { signal: abort.signal });
    await waitFor(() => routerOf(h).queued === 1, 'the second call in line');
    abort.abort('the user gave up');
    await expect(second).rejects.toThrow();
    await waitFor(() => routerOf(h).queued === 0, 'the second call left the line');

    expect(textOf(await first)).toBe('waited 1000ms');
    const seen = await childSawAfterwards(h);
    expect(seen.filter((l) => l === 'trace: tools/call')).toHaveLength(1);
    expect(seen).not.toContain('trace: notifications/cancelled');
  });
});
