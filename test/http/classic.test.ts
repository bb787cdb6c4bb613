import { afterEach, describe, expect, it } from 'vitest';
import { getJson, post, callTool, closeAll, command, demoServer, manifest, running, server, startHarness, waitFor } from '../helpers/gateway.ts';
import { openSse } from '../helpers/sse.ts';

afterEach(closeAll);

describe('GET / and health', () => {
  it('answers name, version, uptime and server count; healthz and readyz are 200', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const root = await getJson(`${h.url}/`);
    expect(root).toMatchObject({ name: 'mcp-gateway', servers: 1 });
    expect(typeof root.version).toBe('string');
    expect(typeof root.uptime).toBe('number');
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });
});

describe('GET /mcp/servers', () => {
  it('lists each server with state, pid, restarts and the manifest status', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const row = await running(h.url, 'demo');
    expect(row.pid).toBeGreaterThan(0);
    expect(row.restarts).toBe(0);
    const body = await getJson(`${h.url}/mcp/servers`);
    expect(body.manifest).toMatchObject({ state: 'ok', errors: [] });
    expect(body.servers[0]).toHaveProperty('since');
    expect(body.servers[0]).toHaveProperty('lastExit');
    expect(body.servers[0]).toHaveProperty('lastError');
  });
});

describe('POST /mcp/:server/command', () => {
  it('answers a request with the child response under the caller id', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const r = await command(h.url, 'demo', callTool('mine', 'echo', { text: 'hi' }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ jsonrpc: '2.0', id: 'mine', result: { content: [{ type: 'text', text: 'hi' }] } });
    const zero = await command(h.url, 'demo', callTool(0, 'add', { a: 2, b: 3 }));
    expect(zero.body.id).toBe(0);
    expect(zero.body.result.content[0].text).toBe('5');
    const failed = await command(h.url, 'demo', callTool(7, 'fail', { message: 'nope' }));
    expect(failed.status).toBe(200);
    expect(failed.body.result).toEqual({ content: [{ type: 'text', text: 'nope' }], isError: true });
  });

  it('answers a notification with 202', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const r = await command(h.url, 'demo', { jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    expect(r.status).toBe(202);
  });

  it('answers initialize from the kept result; the child sees one initialize only', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { DEMO_TRACE: "1" }\n')));
    await running(h.url, 'demo');
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    for (let i = 0; i < 3; i++) {
      const r = await command(h.url, 'demo', init);
      expect(r.body.result.serverInfo).toEqual({ name: 'demo', version: '1.0.0' });
      expect((await command(h.url, 'demo', { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    }
    await command(h.url, 'demo', { jsonrpc: '2.0', id: 2, method: 'ping' });
    const lines: string[] = (await getJson(`${h.url}/mcp/demo/stderr`)).lines;
    expect(lines.filter((l) => l === 'trace: initialize')).toHaveLength(1);
    expect(lines.filter((l) => l === 'trace: notifications/initialized')).toHaveLength(1);
    expect(lines).toContain('trace: ping');
  });

  it('answers a ping from the child on the gateway side', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const r = await command(h.url, 'demo', callTool(1, 'ping_client', {}));
    expect(r.body.result.content[0].text).toBe('pong');
  });

  it('maps bad input and unavailable servers to clear errors', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    requestTimeout: 300ms\n')));
    await running(h.url, 'demo');

    const parse = await command(h.url, 'demo', '{"jsonrpc": "2.0", "id": 1,');
    expect(parse.status).toBe(400);
    expect(parse.body.error.code).toBe(-32700);

    const invalid = await command(h.url, 'demo', { jsonrpc: '1.0', id: 1, method: 'ping' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe(-32600);
    const both = await command(h.url, 'demo', { jsonrpc: '2.0', id: 1, method: 'ping', error: { code: 1, message: 'x' } });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ code: -32600, message: expect.stringContaining('no result or error') });

    const unknown = await command(h.url, 'nope', { jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('nope');

    const timeout = await command(h.url, 'demo', callTool(9, 'slow', { ms: 2000 }));
    expect(timeout.status).toBe(504);
    expect(timeout.body).toMatchObject({ id: 9, error: { code: -32001 } });

    await fetch(`${h.url}/mcp/demo/stop`, { method: 'POST' });
    const down = await command(h.url, 'demo', { jsonrpc: '2.0', id: 3, method: 'ping' });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ id: 3, error: { code: -32010 } });
    expect(down.body.error.message).toBe('server "demo" is not running: stopped');
  });

  it('refuses a body over the limit with 413', async () => {
    const h = await startHarness(manifest(demoServer('demo')), { bodyLimit: 1024 });
    await running(h.url, 'demo');
    const r = await command(h.url, 'demo', callTool(1, 'echo', { text: 'x'.repeat(2048) }));
    expect(r.status).toBe(413);
  });
});

describe('POST /mcp/:server/start|stop|restart', () => {
  it('acts and answers the new state', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const first = await running(h.url, 'demo');
    const stop = await post(`${h.url}/mcp/demo/stop`);
    expect(stop.server).toMatchObject({ state: 'stopped', pid: null });
    const start = await post(`${h.url}/mcp/demo/start`);
    expect(start.server.state).toBe('running');
    const restart = await post(`${h.url}/mcp/demo/restart`);
    expect(restart.server.state).toBe('running');
    expect(restart.server.pid).not.toBe(first.pid);
    expect((await fetch(`${h.url}/mcp/ghost/restart`, { method: 'POST' })).status).toBe(404);
  });
});

describe('GET /mcp/:server/sse', () => {
  it('streams responses (caller ids), progress (caller tokens), status and stderr events as JSON', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const sse = await openSse(`${h.url}/mcp/demo/sse`);
    expect(sse.status).toBe(200);
    await sse.next((e) => e.event === 'status');
    await command(h.url, 'demo', callTool('p1', 'slow', { ms: 100, steps: 2 }, { progressToken: 'tok' }));
    const progress = await sse.next((e) => e.event === 'message' && JSON.parse(e.data).method === 'notifications/progress');
    expect(JSON.parse(progress.data).params.progressToken).toBe('tok');
    const response = await sse.next((e) => e.event === 'message' && JSON.parse(e.data).id === 'p1');
    expect(JSON.parse(response.data).result.content[0].text).toBe('waited 100ms');
    await command(h.url, 'demo', callTool(2, 'log', { text: 'to stderr' }));
    const stderr = await sse.next((e) => e.event === 'stderr');
    expect(JSON.parse(stderr.data)).toEqual({ line: 'to stderr' });
    await fetch(`${h.url}/mcp/demo/restart`, { method: 'POST' });
    // A restart rolls out: the new child is provisioned beside the running one, then swapped in.
    const provisioning = await sse.next((e) => e.event === 'status' && JSON.parse(e.data).rollout === 'provisioning');
    expect(JSON.parse(provisioning.data)).toMatchObject({ name: 'demo', state: 'running' });
    await sse.next((e) => e.event === 'status' && JSON.parse(e.data).rollouts.succeeded === 1);
    sse.close();
  });

  it('sends keep-alive comments', async () => {
    const h = await startHarness(manifest(demoServer('demo')), { sse: { keepAliveMs: 50 } });
    const res = await fetch(`${h.url}/mcp/demo/sse`);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(': keep-alive')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
  });

  it('drops a client that stops reading instead of buffering without bound', async () => {
    const h = await startHarness(manifest(demoServer('demo')), { sse: { maxBufferedBytes: 256 * 1024 } });
    await running(h.url, 'demo');
    const { request } = await import('node:http');
    const req = request(`${h.url}/mcp/demo/sse`);
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.end();
    });
    res.pause(); // a reader that never reads again
    await waitFor(async () => (await server(h.url, 'demo'))?.sseClients === 1, 'stream registered');
    const big = 'y'.repeat(512 * 1024);
    for (let i = 0; i < 40 && (await server(h.url, 'demo'))?.sseClients === 1; i++) {
      await command(h.url, 'demo', callTool(i, 'echo', { text: big }));
    }
    await waitFor(async () => (await server(h.url, 'demo'))?.sseClients === 0, 'slow client dropped');
    res.destroy();
  });
});
