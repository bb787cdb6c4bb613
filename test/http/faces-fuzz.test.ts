// Arbitrary bytes and JSON to every face that reads a body (fast-check, fixed seed): each answer is an HTTP
// error with a JSON-RPC error object (or the API's `{ error }`), a JSON-RPC answer, 202, or a stream; and
// the gateway and its child are alive and unchanged at the end.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoServer, manifest, running, startHarness, type Harness } from '../helpers/gateway.ts';
import { openSse, type SseReader } from '../helpers/sse.ts';
import { rawRequest } from '../helpers/raw-http.ts';

let h: Harness;
let sessionId: string;
let legacy: SseReader;
let legacyPath: string;
let pid: number | null;

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } };

beforeAll(async () => {
  h = await startHarness(manifest(demoServer('a')));
  pid = (await running(h.url, 'a')).pid;
  const res = await fetch(`${h.url}/mcp/a/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(INIT) });
  sessionId = res.headers.get('mcp-session-id')!;
  await res.text();
  legacy = await openSse(`${h.url}/mcp/a/legacy/sse`);
  legacyPath = (await legacy.next((e) => e.event === 'endpoint')).data;
});
afterAll(async () => {
  legacy?.close();
  await h?.close();
});

const FACES = [
  { name: 'streamable, no session', path: '/mcp/a/mcp', headers: [] as string[] },
  { name: 'streamable, in a session', path: '/mcp/a/mcp', headers: ['Mcp-Session-Id: SESSION'] },
  { name: 'streamable at /sse', path: '/mcp/a/sse', headers: ['Mcp-Session-Id: SESSION'] },
  { name: 'classic command', path: '/mcp/a/command', headers: [] },
  { name: 'legacy message', path: 'LEGACY', headers: [] },
  { name: 'admin plan', path: '/admin/plan', headers: [] },
];

const METHODS = ['ping', 'tools/list', 'prompts/list', 'resources/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe', 'initialize', 'notifications/initialized', 'notifications/cancelled', 'logging/setLevel', 'completion/complete', 'nope', ''];

const jsonRpcLike = fc
  .record(
    {
      jsonrpc: fc.constantFrom('2.0', '2.0', '1.0', 2),
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.double(), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 })),
      method: fc.oneof(fc.constantFrom(...METHODS), fc.string({ maxLength: 12 })),
      params: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.array(fc.integer(), { maxLength: 3 }), fc.constant('x')),
      result: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s)),
  jsonRpcLike.map((s) => Buffer.from(s)),
  fc.array(jsonRpcLike, { minLength: 1, maxLength: 3 }).map((a) => Buffer.from(`[${a.join(',')}]`)),
);

function checkAnswer(status: number, headers: Readonly<Record<string, string>>, body: string, what: string): void {
  expect(status, what).toBeGreaterThanOrEqual(200);
  expect(status, what).toBeLessThan(600);
  expect(status, `${what}: the gateway failed`).not.toBe(500);
  if (status === 202 || headers['content-type']?.startsWith('text/event-stream')) return;
  expect(headers['content-type'], what).toMatch(/^application\/json/);
  const parsed = JSON.parse(body) as Record<string, unknown>;
  if (status === 422 && parsed.ok === false) {
    // The plan API's own shape: the manifest's problems, each a line.
    expect(Array.isArray(parsed.errors), what).toBe(true);
  } else if (status >= 400) {
    const rpc = parsed.error as { code?: unknown; message?: unknown; kind?: unknown } | undefined;
    expect(rpc, what).toBeDefined();
    expect(typeof rpc!.message, what).toBe('string');
    if (parsed.jsonrpc !== undefined) expect(typeof rpc!.code, what).toBe('number');
    else expect(typeof rpc!.kind, what).toBe('string');
  } else if (parsed.jsonrpc !== undefined) {
    expect('result' in parsed || 'error' in parsed, what).toBe(true);
  }
}

describe('every face, fed arbitrary bytes and JSON', () => {
  it('answers each with an error or an answer in its own shape, and stays up', async () => {
    const port = new URL(h.url).port;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FACES), bodies, fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', ''), async (face, body, type) => {
        const path = face.path === 'LEGACY' ? legacyPath : face.path;
        const head = [
          `POST ${path} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          'Connection: close',
          'Accept: application/json, text/event-stream',
          ...(type === '' ? [] : [`Content-Type: ${type}`]),
          ...face.headers.map((x) => x.replace('SESSION', sessionId)),
        ].join('\r\n');
        const answer = await rawRequest(h.url, head, body);
        checkAnswer(answer.status, answer.headers, answer.body, `${face.name} ← ${body.toString('utf8').slice(0, 120)}`);
      }),
      { seed: 4242, numRuns: 1200 },
    );
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
    const a = await running(h.url, 'a');
    expect(a.pid).toBe(pid);
    expect(a.restarts).toBe(0);
    // The session still works.
    const res = await fetch(`${h.url}/mcp/a/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'ping' }),
    });
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 'after', result: {} });
  }, 180_000);
});
