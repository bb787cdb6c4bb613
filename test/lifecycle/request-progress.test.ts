// Acceptance: a long tool call that reports progress outlives requestTimeout, up to requestTimeoutMax,
// through a real gateway, real HTTP on 127.0.0.1 and the demo server as the child.
import { afterEach, describe, expect, it } from 'vitest';
import type { Router } from '../../src/router/router.ts';
import { callTool, closeAll, command, demoServer, manifest, running, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

/** `slow` for 1.8 s, with progress every 300 ms: longer than requestTimeout (1 s), alive all along. */
const longCall = (id: number) => callTool(id, 'slow', { ms: 1800, steps: 6 }, { progressToken: `p${id}` });

function routerOf(h: Harness, name: string): Router {
  const router = h.gateway.reconciler.servers.get(name)?.router;
  if (router === undefined) throw new Error(`no shared router for ${name}`);
  return router;
}

describe('a request that reports progress (requestTimeout: 1s)', () => {
  it('completes with its result through POST /mcp/<server>/command', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    requestTimeout: 1s\n')));
    await running(h.url, 'demo');
    const answer = await command(h.url, 'demo', longCall(1));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'waited 1800ms' }] } });
  });

  it('completes through Streamable HTTP, shared and per-session, the client hearing every progress', async () => {
    const h = await startHarness(manifest(demoServer('shared', '    requestTimeout: 1s\n') + demoServer('own', '    sharing: per-session\n    requestTimeout: 1s\n')));
    for (const name of ['shared', 'own']) {
      const { client } = await connect(`${h.url}/mcp/${name}/mcp`);
      const seen: number[] = [];
      const result = await client.callTool({ name: 'slow', arguments: { ms: 1800, steps: 6 } }, undefined, {
        onprogress: (p) => void seen.push(p.progress),
        resetTimeoutOnProgress: true,
      });
      expect(textOf(result)).toBe('waited 1800ms');
      expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('is cut at requestTimeoutMax, which says so; a reload that raises it lets the same call through', async () => {
    const spec = (max: string) => manifest(demoServer('demo', `    requestTimeout: 1s\n    requestTimeoutMax: ${max}\n`));
    const h = await startHarness(spec('1500ms'));
    await running(h.url, 'demo');
    const cut = await command(h.url, 'demo', longCall(1));
    expect(cut.status).toBe(504);
    expect(cut.body).toMatchObject({ id: 1, error: { code: -32001, message: 'server "demo": request timed out after 1500ms in all (requestTimeoutMax), although it reported progress' } });

    h.write(spec('10s'));
    await waitFor(() => routerOf(h, 'demo').requestTimeoutMaxMs === 10_000, 'the reload applied to the router');
    const through = await command(h.url, 'demo', longCall(2));
    expect(through.status).toBe(200);
    expect(through.body.result.content[0].text).toBe('waited 1800ms');
  });

  it('without progress, is still cut at requestTimeout', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    requestTimeout: 1s\n')));
    await running(h.url, 'demo');
    const answer = await command(h.url, 'demo', callTool(1, 'slow', { ms: 1800, steps: 6 })); // no progressToken
    expect(answer.status).toBe(504);
    expect(answer.body.error.message).toBe('server "demo": request timed out after 1000ms (requestTimeout)');
  });
});
