import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, authKeys, closeAll, demoServer, getJson, manifest, running, startHarness, waitFor, type Harness, type Json, type TestKey } from '../helpers/gateway.ts';
import { openSse } from '../helpers/sse.ts';
import { spawnGateway } from '../helpers/process-gateway.ts';

afterEach(closeAll);

const ADMIN = 'admin-key-0123456789abcdef';
const DEMO_ONLY = 'demo-key-0123456789abcdef';
const OTHER_ONLY = 'other-key-0123456789abcdef';
const OPS: TestKey = { name: 'ops', key: ADMIN, servers: '*', admin: true };
/** Given by value: the gateway reads it from its environment. */
const CI: TestKey = { name: 'ci', keyEnv: 'TEST_OTHER_KEY', servers: '[other]' };

/** Servers demo and other behind `keys`. */
function keyed(keys: readonly TestKey[] = [OPS, { name: 'laptop', key: DEMO_ONLY, servers: '[demo]' }, CI]): string {
  return manifest(demoServer('demo') + demoServer('other'), authKeys(keys));
}

const env = { ...process.env, PORT: undefined, TEST_OTHER_KEY: OTHER_ONLY };
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** One request per face; the status it got. */
async function faces(h: Harness, headers: Record<string, string>): Promise<Record<string, number>> {
  const go = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(`${h.url}${p}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } });
    await res.body?.cancel();
    return res.status;
  };
  return {
    classic: await go('/mcp/demo/command', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) }),
    stream: await go('/mcp/demo/sse'),
    streamable: await go('/mcp/demo/mcp', { method: 'POST', headers: MCP_HEADERS, body: INIT }),
    legacy: await go('/mcp/demo/legacy/sse'),
    admin: await go('/mcp/demo/restart', { method: 'POST' }),
  };
}

describe('keys on every face', () => {
  it('401 without a key, 401 with a wrong key, 403 out of scope, 200 with the right key', async () => {
    const h = await startHarness(keyed(), { env });
    await running(h.url, 'demo', 5000).catch(() => undefined); // /mcp/servers needs a key now
    const all = (n: number) => ({ classic: n, stream: n, streamable: n, legacy: n, admin: n });
    expect(await faces(h, {})).toEqual(all(401));
    expect(await faces(h, bearer('not-a-key-at-all'))).toEqual(all(401));
    expect(await faces(h, bearer(OTHER_ONLY))).toEqual(all(403));
    expect(await faces(h, bearer(DEMO_ONLY))).toEqual({ classic: 200, stream: 403, streamable: 200, legacy: 200, admin: 403 });
    expect(await faces(h, { 'x-api-key': ADMIN })).toEqual(all(200));
    const res = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: MCP_HEADERS, body: INIT });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="mcp-gateway"');
    expect(((await res.json()) as Json).error.code).toBe(-32000);
  });

  it('keeps /, /healthz and /readyz open, and shows a key only its servers', async () => {
    const h = await startHarness(keyed(), { env });
    for (const p of ['/', '/healthz', '/readyz']) expect((await fetch(`${h.url}${p}`)).status, p).toBe(200);
    expect((await fetch(`${h.url}/mcp/servers`)).status).toBe(401);
    const mine = await getJson(`${h.url}/mcp/servers`, { headers: bearer(DEMO_ONLY) });
    expect(mine.servers.map((s: { name: string }) => s.name)).toEqual(['demo']);
    // The reload status names every server (its last plan, its errors): not for a key scoped to some.
    expect(mine.manifest).toEqual({ state: 'ok' });
    const all = await getJson(`${h.url}/mcp/servers`, { headers: bearer(ADMIN) });
    expect(all.servers.map((s: { name: string }) => s.name).sort()).toEqual(['demo', 'other']);
    expect(all.manifest.lastPlan).toMatch(/demo/);
  });

  it('closes the stream and the session of a key removed from the manifest', async () => {
    const h = await startHarness(keyed(), { env });
    const stream = await openSse(`${h.url}/mcp/demo/sse`, bearer(ADMIN));
    await stream.next((e) => e.event === 'status');
    const init = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(DEMO_ONLY) }, body: INIT });
    const session = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    const get = await openSse(`${h.url}/mcp/demo/mcp`, { ...bearer(DEMO_ONLY), 'mcp-session-id': session });
    expect(get.status).toBe(200);

    h.write(keyed([CI, { name: 'ops2', key: 'another-admin-key-xyz', servers: '*', admin: true }]));
    await Promise.all([stream.ended, get.ended]);
    const after = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(DEMO_ONLY), 'mcp-session-id': session }, body: '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' });
    expect(after.status).toBe(401);
  });

  it('closes the classic stream of an admin key that loses the stream\'s server', async () => {
    const scoped = (servers: string): TestKey[] => [{ ...OPS, servers }];
    const h = await startHarness(keyed(scoped('[demo, other]')), { env });
    const stream = await openSse(`${h.url}/mcp/other/sse`, bearer(ADMIN));
    await stream.next((e) => e.event === 'status');
    const kept = await openSse(`${h.url}/mcp/demo/sse`, bearer(ADMIN));
    await kept.next((e) => e.event === 'status');
    h.write(keyed(scoped('[demo]')));
    await stream.ended;
    // The stream of the server it keeps stays open: it still carries what the child says.
    const ping = await fetch(`${h.url}/mcp/demo/command`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ADMIN) }, body: '{"jsonrpc":"2.0","id":"still-here","method":"ping"}' });
    expect(ping.status).toBe(200);
    await kept.next((e) => e.data.includes('still-here'));
    kept.close();
  });

  it('closes the status page stream of a key removed from the manifest', async () => {
    const h = await startHarness(keyed(), { env });
    const status = await openSse(`${h.url}/status/events`, bearer(DEMO_ONLY));
    const first = await status.next(() => true);
    expect(JSON.parse(first.data).servers.map((s: { name: string }) => s.name)).toEqual(['demo']);
    h.write(keyed([OPS]));
    await status.ended;
  });
});

describe('safe defaults', () => {
  it('refuses a non-loopback address without keys, and starts with keys', async () => {
    const bin = path.join(ROOT, 'bin', 'mcp-gateway.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-public-'));
    try {
      const file = path.join(dir, 'm.yaml');
      writeFileSync(file, `version: 1\nlisten: { host: 0.0.0.0, port: 0 }\nservers:\n${demoServer('demo')}`);
      const refused = spawnSync(process.execPath, [bin, 'run', '--config', file], { encoding: 'utf8', env: { ...process.env, PORT: '0' }, timeout: 15_000 });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`${file}:2:17: listen.host: not a loopback address, and no auth.keys`);
      const h = await startHarness(`version: 1\nlisten: { host: 0.0.0.0, port: 0 }\n${authKeys([{ name: 'ops', key: ADMIN, servers: '*' }])}servers:\n${demoServer('demo')}`);
      // Bound to every interface; the test still only talks to loopback.
      const port = new URL(h.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('transport security', () => {
  it('serves HTTPS with a self-signed certificate', async () => {
    const h0 = await startHarness(`version: 1\nservers: {}\n`);
    const dir = h0.dir;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { cwd: dir, stdio: 'ignore' });
    const cert = readFileSync(path.join(dir, 'cert.pem'));
    const h = await startHarness(`version: 1\nlisten: { host: 127.0.0.1, port: 0, tls: { cert: ${JSON.stringify(path.join(dir, 'cert.pem'))}, key: ${JSON.stringify(path.join(dir, 'key.pem'))} } }\nservers:\n${demoServer('demo')}`);
    expect(h.url.startsWith('https://127.0.0.1:')).toBe(true);
    const { request } = await import('node:https');
    const body = await new Promise<string>((resolve, reject) => {
      request(`${h.url}/healthz`, { ca: cert }, (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString()));
        res.on('end', () => resolve(t));
      }).on('error', reject).end();
    });
    expect(JSON.parse(body)).toEqual({ status: 'ok' });
  });

  it('answers CORS preflight for an allowed origin, refuses another, and 403s a foreign Origin', async () => {
    const h = await startHarness(`version: 1\nlisten: { host: 127.0.0.1, port: 0, cors: { origins: ["https://app.example.com"] } }\nservers:\n${demoServer('demo')}`);
    const pre = (origin: string) =>
      fetch(`${h.url}/mcp/demo/mcp`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-session-id' } });
    const ok = await pre('https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-headers')).toContain('Mcp-Session-Id');
    expect(ok.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    expect((await pre('https://other.example.com')).status).toBe(403);
    const evil = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'http://evil.example' }, body: INIT });
    expect(evil.status).toBe(403);
    const allowed = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'https://app.example.com' }, body: INIT });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
  });
});

describe('limits', () => {
  it('refuses a 10 MiB body with 413 without holding it in memory', async () => {
    const h = await startHarness(`version: 1\nservers: {}\n`); // only for its temp folder
    writeFileSync(path.join(h.dir, 'm.yaml'), `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n${demoServer('demo')}`);
    const g = await spawnGateway(['--config', path.join(h.dir, 'm.yaml')]);
    try {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(10 * 1024 * 1024) } } });
      const send = async (init: RequestInit, p = '/mcp/demo/mcp') => {
        const res = await fetch(`${g.url}${p}`, { method: 'POST', ...init });
        const json = (await res.json()) as Json;
        return { status: res.status, code: json.error?.code };
      };
      const before = g.rssBytes();
      for (let i = 0; i < 10; i++) expect(await send({ headers: MCP_HEADERS, body })).toEqual({ status: 413, code: -32600 });
      // Chunked (no Content-Length): cut off at the limit while it streams in.
      const chunked = await send({ headers: { 'content-type': 'application/json' }, body: new Blob([body]).stream(), duplex: 'half' } as RequestInit, '/mcp/demo/command');
      expect(chunked).toEqual({ status: 413, code: -32600 });
      // Ten 10 MiB bodies held would be 100 MiB and more; what grows is the young generation and socket buffers.
      expect(g.rssBytes() - before).toBeLessThan(50 * 1024 * 1024);
    } finally {
      await g.stop();
    }
  });

  it('answers over-rate requests of a key with 429 and Retry-After', async () => {
    const h = await startHarness(keyed([{ name: 'slowpoke', key: DEMO_ONLY, servers: '*', extra: 'rateLimit: { rps: 5, burst: 10 }' }]), { env });
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () => fetch(`${h.url}/healthz`).then(() => fetch(`${h.url}/mcp/servers`, { headers: bearer(DEMO_ONLY) }))),
    );
    const limited = statuses.filter((r) => r.status === 429);
    // A burst of 10, then 5 a second: even if the 300 took 20 s on a loaded machine, 190 are over the rate.
    expect(limited.length).toBeGreaterThan(190);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await Promise.all(statuses.map((r) => r.body?.cancel()));
  });

  it('caps requests in flight per server with 503, while other servers still answer', async () => {
    const h = await startHarness(`version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n${demoServer('busy', '    maxInFlight: 2\n    queueTimeout: 200ms\n')}${demoServer('calm')}`);
    await running(h.url, 'busy');
    await running(h.url, 'calm');
    const call = (server: string, ms: number) =>
      fetch(`${h.url}/mcp/${server}/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms } } }) });
    const slow = [call('busy', 1500), call('busy', 1500)];
    await waitFor(async () => (await getJson(`${h.url}/mcp/servers`)).servers.find((s: Json) => s.name === 'busy').inFlight === 2, 'two in flight');
    const third = await call('busy', 10);
    expect(third.status).toBe(503);
    expect(((await third.json()) as Json).error.message).toContain('busy');
    const other = await call('calm', 10);
    expect(other.status).toBe(200);
    for (const r of await Promise.all(slow)) expect(r.status).toBe(200);
  });
});

describe('route spellings', () => {
  it('never lets a spelling of an admin route past with less than an admin key', async () => {
    const h = await startHarness(keyed(), { env });
    const tries: [string, string][] = [
      ['GET', '/METRICS'], ['GET', '/metrics/'], ['POST', '/ADMIN/reload'], ['POST', '/Admin/reload/'], ['POST', '/admin/reload/'],
      ['GET', '/mcp/demo/stderr/'], ['GET', '/mcp/demo/STDERR'], ['GET', '/mcp/demo/%73tderr'], ['POST', '/mcp/demo/restart/'],
      ['POST', '/mcp/demo/Restart'], ['POST', '/MCP/other/restart'], ['GET', '/mcp/demo/sse/'], ['GET', '/mcp/demo/SSE'],
    ];
    for (const [method, p] of tries) {
      const res = await fetch(`${h.url}${p}`, { method, headers: bearer(DEMO_ONLY) });
      await res.body?.cancel();
      expect([403, 404], `${method} ${p}`).toContain(res.status);
    }
  });
});

describe('classic API callers', () => {
  it('lets a key cancel only its own requests', async () => {
    const h = await startHarness(keyed(), { env });
    const call = (key: string, body: object) =>
      fetch(`${h.url}/mcp/demo/command`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify(body) });
    const slow = call(DEMO_ONLY, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 600 } } });
    await waitFor(async () => (await getJson(`${h.url}/mcp/servers`, { headers: bearer(ADMIN) })).servers.find((s: Json) => s.name === 'demo').inFlight === 1, 'in flight');
    const cancel = await call(ADMIN, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    expect(cancel.status).toBe(202);
    const answer = (await (await slow).json()) as Json;
    expect(answer.result.content[0].text).toBe('waited 600ms');
  });
});
