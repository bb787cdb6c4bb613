import { afterEach, describe, expect, it } from 'vitest';
import { getJson, authKeys, callTool, closeAll, command, demoServer, manifest, running, server, startHarness, waitFor } from '../helpers/gateway.ts';

afterEach(closeAll);

describe('Router id rewriting', () => {
  it('gives two callers that use the same id at the same time their own answers', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const [a, b] = await Promise.all([
      command(h.url, 'demo', callTool(1, 'echo', { text: 'from a' })),
      command(h.url, 'demo', callTool(1, 'echo', { text: 'from b' })),
    ]);
    expect(a.body).toMatchObject({ id: 1, result: { content: [{ text: 'from a' }] } });
    expect(b.body).toMatchObject({ id: 1, result: { content: [{ text: 'from b' }] } });
  });

  it('matches 200 concurrent requests with random ids to their answers', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const ids = Array.from({ length: 200 }, (_, i) => (i % 2 ? Math.floor(Math.random() * 1000) : `r-${Math.random()}`));
    const answers = await Promise.all(ids.map((id, i) => command(h.url, 'demo', callTool(id, 'echo', { text: `n${i}` }))));
    answers.forEach((a, i) => {
      expect(a.body.id).toBe(ids[i]);
      expect(a.body.result.content[0].text).toBe(`n${i}`);
    });
  });

  it('answers all 10 requests in flight with errors at once when the child crashes', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    restart: { policy: never }\n')));
    const { pid } = await running(h.url, 'demo');
    const pending = Array.from({ length: 10 }, (_, i) => command(h.url, 'demo', callTool(i, 'slow', { ms: 30_000 })));
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 10, '10 requests in flight');
    const killedAt = Date.now();
    process.kill(pid!, 'SIGKILL');
    const answers = await Promise.all(pending);
    expect(Date.now() - killedAt).toBeLessThan(1000);
    answers.forEach((a, i) => {
      expect(a.status).toBe(502);
      expect(a.body).toMatchObject({ jsonrpc: '2.0', id: i, error: { code: -32000 } });
    });
  });

  it('ignores non-JSON noise on the child stdout and keeps working', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { DEMO_NOISE: "1" }\n')));
    await running(h.url, 'demo');
    const r = await command(h.url, 'demo', callTool(1, 'echo', { text: 'still fine' }));
    expect(r.body.result.content[0].text).toBe('still fine');
    expect(h.logs.some((l) => l.includes('non-JSON line') && l.includes('"server":"demo"'))).toBe(true);
  });

  it('forwards a cancel with the id the child knows, so the child stops the work', async () => {
    // The cancel comes on another connection than the call: under one key both are the same caller
    // (without keys, each connection is a caller of its own and could not cancel another's request).
    const key = 'routing-test-key';
    const keys = authKeys([{ name: 'tester', key, servers: '*', admin: true }]);
    const h = await startHarness(manifest(demoServer('demo', '    env: { DEMO_TRACE: "1" }\n    requestTimeout: 1s\n'), keys));
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const post = async (body: unknown) => {
      const res = await fetch(`${h.url}/mcp/demo/command`, { method: 'POST', headers, body: JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const demo = async () => (await getJson(`${h.url}/mcp/servers`, { headers })).servers.find((s: { name: string }) => s.name === 'demo');
    await waitFor(async () => (await demo())?.state === 'running', 'demo running');
    const slow = post(callTool('c1', 'slow', { ms: 400, steps: 4 }));
    await waitFor(async () => (await demo())?.inFlight === 1, 'request in flight');
    expect((await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c1' } })).status).toBe(202);
    const lines: string[] = await waitFor(async () => {
      const l: string[] = (await getJson(`${h.url}/mcp/demo/stderr`, { headers })).lines;
      return l.includes('trace: notifications/cancelled') ? l : undefined;
    }, 'cancel reached the child');
    expect(lines).toContain('trace: notifications/cancelled');
    // The child drops a cancelled request without answering: the gateway answers it at once.
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: 'c1', error: { code: -32800 } });
  });
});
