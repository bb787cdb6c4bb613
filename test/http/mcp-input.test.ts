import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, getJson, manifest, server, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';

afterEach(closeAll);

const ACCEPT = 'application/json, text/event-stream';
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

async function post(h: Harness, body: string, headers: Record<string, string> = {}, path = '/mcp/demo/mcp') {
  const res = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Json };
}

/** fetch() may not set Host; node:http may. */
async function rawPost(h: Harness, body: string, headers: Record<string, string>) {
  const { request } = await import('node:http');
  return new Promise<{ status: number; body: Json }>((resolve, reject) => {
    const req = request(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function session(h: Harness): Promise<string> {
  const r = await post(h, JSON.stringify(INIT));
  expect(r.status).toBe(200);
  return r.headers.get('mcp-session-id')!;
}

async function traceCount(h: Harness): Promise<number> {
  return ((await getJson(`${h.url}/mcp/demo/stderr`)).lines as string[]).filter((l) => l.startsWith('trace:')).length;
}

describe('Streamable HTTP: bad input gets the spec status and a JSON-RPC error, and never reaches the child', () => {
  it('covers each kind of bad request', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { DEMO_TRACE: "1" }\n')), { bodyLimit: 4096 });
    const id = await session(h);
    const withSession = { 'mcp-session-id': id };
    const before = await traceCount(h);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });

    const cases: [string, Promise<{ status: number; body: Json }>, number, number][] = [
      ['non-JSON body', post(h, '{"jsonrpc":', withSession), 400, -32700],
      ['JSON that is not JSON-RPC', post(h, JSON.stringify({ hello: 'world' }), withSession), 400, -32600],
      ['a batch', post(h, `[${list}]`, withSession), 400, -32600],
      ['a request that is also a response', post(h, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list', result: {} }), withSession), 400, -32600],
      ['wrong Content-Type', post(h, list, { ...withSession, 'content-type': 'text/plain' }), 415, -32000],
      ['missing Accept', post(h, list, { ...withSession, accept: 'application/json' }), 406, -32000],
      ['no session', post(h, list), 400, -32000],
      ['unknown session', post(h, list, { 'mcp-session-id': 'nope' }), 404, -32001],
      ['unsupported protocol version', post(h, list, { ...withSession, 'mcp-protocol-version': '1999-01-01' }), 400, -32000],
      ['Origin not allowed', post(h, list, { ...withSession, origin: 'http://evil.example.com' }), 403, -32000],
      ['Host not allowed', rawPost(h, list, { ...withSession, host: 'evil.example.com' }), 403, -32000],
      ['body over the limit', post(h, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(8192) } } }), withSession), 413, -32600],
      ['unknown server', post(h, JSON.stringify(INIT), {}, '/mcp/ghost/mcp'), 404, -32600],
      ['initialize with a session id', post(h, JSON.stringify(INIT), withSession), 400, -32600],
    ];
    for (const [what, answer, status, code] of cases) {
      const r = await answer;
      expect(r.status, what).toBe(status);
      expect(r.body, what).toMatchObject({ jsonrpc: '2.0', error: { code } });
    }
    expect(await traceCount(h)).toBe(before);
    // …and the gateway still works.
    const ok = await post(h, list, withSession);
    expect(ok.status).toBe(200);
    expect(ok.body.result.tools.length).toBeGreaterThan(3);
  });

  it('answers notifications and responses with 202, an unknown method with 405', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const id = await session(h);
    const n = await post(h, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), { 'mcp-session-id': id });
    expect(n.status).toBe(202);
    const r = await post(h, JSON.stringify({ jsonrpc: '2.0', id: 'gw-99', result: {} }), { 'mcp-session-id': id });
    expect(r.status).toBe(202);
    const put = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
  });

  it('accepts an allowed browser origin and loopback ones', async () => {
    const g = await startHarness(`version: 1\nlisten: { host: 127.0.0.1, port: 0, cors: { origins: ["https://app.example.com"] } }\nservers:\n${demoServer('demo')}`);
    for (const origin of ['https://app.example.com', 'http://localhost:5173', 'http://127.0.0.1:8080']) {
      const r = await post(g, JSON.stringify(INIT), { origin });
      expect(r.status, origin).toBe(200);
    }
    expect((await post(g, JSON.stringify(INIT), { origin: 'https://other.example.com' })).status).toBe(403);
  });

  it('allows one GET stream per session (409 for a second) and resumes it with Last-Event-ID', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const id = await session(h);
    const headers = { accept: 'text/event-stream', 'mcp-session-id': id };
    const first = await fetch(`${h.url}/mcp/demo/mcp`, { headers });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/event-stream');
    expect((await getJson(`${h.url}/mcp/servers`)).servers[0].sseClients).toBe(1); // session streams count too
    const second = await fetch(`${h.url}/mcp/demo/mcp`, { headers });
    expect(second.status).toBe(409);
    await second.body?.cancel();
    // A broadcast notification goes to the GET stream with an event id.
    await post(h, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'changed', arguments: {} } }), { 'mcp-session-id': id });
    const reader = first.body!.getReader();
    let text = '';
    while (!text.includes('list_changed')) text += new TextDecoder().decode((await reader.read()).value);
    // The stream's first event is its priming one (an id, empty data): resume from the list_changed's own id.
    expect(text).toMatch(/^id: \d+\nretry: \d+\ndata: \n\n/);
    const eventId = /id: (\d+)\ndata: [^\n]*list_changed/.exec(text)![1]!;
    await reader.cancel();
    // Two more while disconnected, then a resume from the first one's id replays exactly those.
    await new Promise((r) => setTimeout(r, 50));
    for (const n of [6, 7]) await post(h, JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: 'changed', arguments: {} } }), { 'mcp-session-id': id });
    const resumed = await fetch(`${h.url}/mcp/demo/mcp`, { headers: { ...headers, 'last-event-id': eventId } });
    const r2 = resumed.body!.getReader();
    let replay = '';
    while ((replay.match(/list_changed/g) ?? []).length < 2) replay += new TextDecoder().decode((await r2.read()).value);
    expect((replay.match(/list_changed/g) ?? []).length).toBe(2);
    await r2.cancel();
  });
});

describe('Streamable HTTP: ids and resumption', () => {
  it('refuses a second request with an id already in flight in the session, and answers the first', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const id = await session(h);
    const slow = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: { ms: 400 } } });
    const first = post(h, slow, { 'mcp-session-id': id });
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 1, 'the first in flight');
    const second = await post(h, slow, { 'mcp-session-id': id });
    expect(second.body).toMatchObject({ id: 7, error: { code: -32600 } });
    expect((await first).body.result.content[0].text).toBe('waited 400ms');
  });

  it('lets a client resume a broken POST stream with Last-Event-ID, and does not cancel it', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { DEMO_TRACE: "1" }\n')));
    const id = await session(h);
    const res = await fetch(`${h.url}/mcp/demo/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-session-id': id },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'r1', method: 'tools/call', params: { name: 'slow', arguments: { ms: 800, steps: 4 }, _meta: { progressToken: 'p' } } }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    // The first event is the priming one (an id, empty data); break after the first progress event.
    const progressId = /id: (\d+)\ndata: [^\n]*"progress":1,/;
    while (!progressId.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    const lastId = progressId.exec(text)![1]!;
    await reader.cancel(); // the connection breaks after the first progress event
    await new Promise((r) => setTimeout(r, 300));
    const resumed = await fetch(`${h.url}/mcp/demo/mcp`, { headers: { accept: 'text/event-stream', 'mcp-session-id': id, 'last-event-id': lastId } });
    const rest = await resumed.text(); // the resumed stream ends with the request's answer
    expect(rest).toContain('"progress":4');
    expect(rest).toContain('"id":"r1"');
    expect(rest).toContain('waited 800ms');
    expect(rest).not.toContain('"progress":1,');
    const lines: string[] = (await getJson(`${h.url}/mcp/demo/stderr`)).lines;
    expect(lines).not.toContain('trace: notifications/cancelled');
  });
});
