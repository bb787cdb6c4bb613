// The 2026-07-28 request checks on the gateway's MCP URL, seen from the wire: a fast-check property (fixed
// seed) over header/body combinations sent over raw sockets, each answer compared with an oracle written
// here from the spec (Streamable HTTP "Request Metadata" and "Server Validation"; basic "_meta"; versioning),
// not with the gateway's own checker. Where one request breaks several rules, the oracle takes them in the
// order the gateway documents (src/protocol/modern.ts): header/body version mismatch (-32020), unknown
// version (-32022), invalid _meta (-32602), then the Mcp-Method and Mcp-Name headers (-32020). The era rule
// is the gateway's (a dual-era URL): a session id, a 2025 MCP-Protocol-Version, or no version anywhere is the
// 2025 session path. Then: eras never mix, removed methods, result fields, and request-scoped log messages.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type Json } from '../helpers/gateway.ts';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.ts';
import { ACCEPT_BOTH, KEY_B, V2026, allRunning, callParams, conformanceServer, keyedManifest, meta, modern, readAnswer, textOf } from './helpers.ts';

let h: Harness;
let port: string;

beforeAll(async () => {
  h = await startHarness(keyedManifest(conformanceServer('a', { clientCapabilities: ['sampling', 'elicitation', 'roots'] }) + conformanceServer('p', { sharing: 'per-session' })));
  port = new URL(h.url).port;
  await allRunning(h, ['a']);
}, 30_000);
afterAll(() => h?.close());

// ---------------------------------------------------------------- the oracle (from the spec, by hand)

const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const INFO = 'io.modelcontextprotocol/clientInfo';
const LEVEL = 'io.modelcontextprotocol/logLevel';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Record<string, unknown>, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** What a server that checks Mcp-Name sees for a header value as sent (UTF-8 on the wire), decoded per "Value Encoding"; undefined: invalid. */
function headerValueSeen(sent: string): string | undefined {
  // A plain value must be visible ASCII, space or tab, without surrounding whitespace; anything else is invalid.
  const sentinel = /^=\?base64\?(.*)\?=$/s.exec(sent);
  if (sentinel !== null) {
    const b64 = sentinel[1]!;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) return undefined;
    return Buffer.from(b64, 'base64').toString('utf8');
  }
  if (!/^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/.test(sent)) return undefined;
  return sent;
}

interface Case {
  readonly id: string | number | undefined;
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** undefined: no _meta key at all. */
  readonly meta: unknown;
  readonly versionHeader: string | undefined;
  readonly methodHeader: string | undefined;
  readonly nameHeader: string | undefined;
  /** Header names as spelled on the wire (names are case-insensitive). */
  readonly spelling: readonly [string, string, string];
}

type Expected = { readonly status: number; readonly code?: number; readonly era: 'legacy' | 'modern' };

const NAMED: Record<string, 'name' | 'uri'> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

function oracle(c: Case): Expected {
  const m = isPlainObject(c.meta) ? c.meta : undefined;
  const modern = c.versionHeader !== undefined ? !LEGACY_VERSIONS.includes(c.versionHeader) : c.method !== 'initialize' && m !== undefined && has(m, PV);
  if (!modern) return { status: 400, code: -32000, era: 'legacy' }; // 2025 path, no session: "Mcp-Session-Id required"
  if (c.id === undefined) return { status: 202, era: 'modern' }; // a notification: accepted
  const fail = (status: number, code: number): Expected => ({ status, code, era: 'modern' });
  // MCP-Protocol-Version: required, equal to _meta's protocolVersion, and a version the server implements.
  if (c.versionHeader === undefined) return fail(400, -32020);
  if (m !== undefined && has(m, PV) && m[PV] !== c.versionHeader) return fail(400, -32020);
  if (c.versionHeader !== V2026) return fail(400, -32022);
  // _meta: protocolVersion (string) and clientCapabilities (object) required; clientInfo an object, logLevel a level.
  if (m === undefined || typeof m[PV] !== 'string') return fail(400, -32602);
  if (!isPlainObject(m[CAPS])) return fail(400, -32602);
  if (has(m, INFO) && !isPlainObject(m[INFO])) return fail(400, -32602);
  if (has(m, LEVEL) && !LOG_LEVELS.includes(m[LEVEL] as string)) return fail(400, -32602);
  // Mcp-Method on every request, Mcp-Name for the named ones; values compared case-sensitively, Mcp-Name decoded.
  if (c.methodHeader !== c.method) return fail(400, -32020);
  const field = NAMED[c.method];
  if (field !== undefined) {
    if (c.nameHeader === undefined) return fail(400, -32020);
    const seen = headerValueSeen(c.nameHeader);
    if (seen === undefined || seen !== c.params[field]) return fail(400, -32020);
  }
  if (c.method === 'ping') return fail(404, -32601); // removed in 2026-07-28
  return { status: 200, era: 'modern' };
}

// ---------------------------------------------------------------- the generator

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Targets by method: plain ASCII ones, and ones that need the Base64 sentinel (non-ASCII, padding, sentinel-like). */
const TARGETS: Record<string, string[]> = {
  'tools/call': ['test_simple_text', 'test_simple_text', 'caf\u00e9 \u4e16\u754c', ' padded ', '=?base64?literal?='],
  'prompts/get': ['test_simple_prompt'],
  'resources/read': ['test://static-text', 'test://template/caf\u00e9/data'],
};
const METHODS = ['tools/list', 'tools/call', 'prompts/get', 'resources/read', 'prompts/list', 'server/discover', 'ping'];

/** Mostly the good value, sometimes one of the bad ones (so that most runs break one rule, or none). */
const mostly = <T,>(good: fc.Arbitrary<T>, ...bad: unknown[]): fc.Arbitrary<unknown> => fc.oneof({ weight: 7, arbitrary: good }, { weight: 1, arbitrary: fc.constantFrom(...bad) });
/** Marks a _meta field left out. */
const ABSENT = Symbol('absent');

const metaArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(undefined, 'x', null, [], [1]) },
  {
    weight: 12,
    arbitrary: fc
      .record({
        [PV]: mostly(fc.constant(V2026), ABSENT, '2025-11-25', 'garbage', 5, null),
        [CAPS]: mostly(fc.constantFrom({}, { sampling: {} }, { elicitation: {}, roots: {} }), ABSENT, [], 'all', null),
        [INFO]: mostly(fc.constantFrom(ABSENT, { name: 'fuzz', version: '1' }), 'fuzz', 7, null),
        [LEVEL]: mostly(fc.constantFrom(ABSENT, 'info', 'debug', 'emergency'), 'loud', 'INFO', 3),
        'com.example/other': fc.constantFrom(ABSENT, 1),
      })
      .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== ABSENT))),
  },
);

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    id: fc.oneof({ weight: 8, arbitrary: fc.oneof(fc.integer({ min: -1000, max: 1_000_000 }), fc.string({ maxLength: 10 })) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    method: fc.constantFrom(...METHODS),
    targetIndex: fc.nat(),
    meta: metaArb,
    /** A client that names one version in both places (so an unknown version meets no mismatch first). */
    consistent: fc.boolean(),
    versionHeader: fc.oneof({ weight: 5, arbitrary: fc.constant(V2026) }, { weight: 2, arbitrary: fc.constantFrom(undefined, ...LEGACY_VERSIONS, '2026-07-29', 'garbage', '') }),
    methodHeader: fc.oneof({ weight: 6, arbitrary: fc.constant('same' as const) }, { weight: 1, arbitrary: fc.constantFrom('absent' as const, 'other' as const, 'case' as const) }),
    nameHeader: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('plain' as const, 'sentinel' as const) },
      { weight: 1, arbitrary: fc.constantFrom('absent' as const, 'other' as const, 'sentinel-other' as const, 'sentinel-broken' as const, 'sentinel-uppercase' as const) },
    ),
    spelling: fc.tuple(
      fc.constantFrom('MCP-Protocol-Version', 'mcp-protocol-version', 'Mcp-Protocol-Version'),
      fc.constantFrom('Mcp-Method', 'mcp-method', 'MCP-METHOD'),
      fc.constantFrom('Mcp-Name', 'mcp-name', 'MCP-NAME'),
    ),
  })
  .map((g): Case => {
    const targets = TARGETS[g.method];
    const target = targets === undefined ? 'test_simple_text' : targets[g.targetIndex % targets.length]!;
    const field = NAMED[g.method];
    const m = g.consistent && isPlainObject(g.meta) && has(g.meta, PV) && g.versionHeader !== undefined ? { ...g.meta, [PV]: g.versionHeader } : g.meta;
    const params: Record<string, unknown> = field === 'uri' ? { uri: target } : field === 'name' ? { name: target, arguments: {} } : {};
    if (m !== undefined) params._meta = m;
    const nameHeader = {
      plain: target,
      sentinel: `=?base64?${b64(target)}?=`,
      absent: undefined,
      other: 'some_other_name',
      'sentinel-other': `=?base64?${b64('some_other_name')}?=`,
      'sentinel-broken': '=?base64?not*base64!?=',
      'sentinel-uppercase': `=?BASE64?${b64(target)}?=`,
    }[g.nameHeader];
    const methodHeader = { same: g.method, absent: undefined, other: g.method === 'tools/list' ? 'prompts/list' : 'tools/list', case: g.method.toUpperCase() }[g.methodHeader];
    return { id: g.id, method: g.method, params, meta: m, versionHeader: g.versionHeader, methodHeader, nameHeader, spelling: g.spelling };
  });

function send(c: Case): Promise<RawAnswer> {
  const [pv, mm, mn] = c.spelling;
  const head = [
    'POST /mcp/a/mcp HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Connection: close',
    'Content-Type: application/json',
    `Accept: ${ACCEPT_BOTH}`,
    `Authorization: Bearer ${KEY_B}`,
    ...(c.versionHeader === undefined ? [] : [`${pv}: ${c.versionHeader}`]),
    ...(c.methodHeader === undefined ? [] : [`${mm}: ${c.methodHeader}`]),
    ...(c.nameHeader === undefined ? [] : [`${mn}: ${c.nameHeader}`]),
  ].join('\r\n');
  const body: Record<string, unknown> = { jsonrpc: '2.0', method: c.method, params: c.params };
  if (c.id !== undefined) body.id = c.id;
  return rawRequest(h.url, head, JSON.stringify(body));
}

/** The body of a raw answer, chunked transfer coding removed. */
function bodyOf(a: RawAnswer): string {
  if (a.headers['transfer-encoding'] !== 'chunked') return a.body;
  let rest = a.body;
  let out = '';
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

/** Checks one answer against the oracle; returns a description of the first difference, or undefined. */
function check(c: Case, raw: RawAnswer): string | undefined {
  const a = { ...raw, body: bodyOf(raw) };
  const want = oracle(c);
  if (a.status !== want.status) return `status ${a.status}, expected ${want.status} (code ${want.code}): ${a.body.slice(0, 300)}`;
  if (want.status === 202) return a.body === '' ? undefined : `202 with a body: ${a.body}`;
  if (!(a.headers['content-type'] ?? '').startsWith('application/json')) return `content-type ${a.headers['content-type']}`;
  const body = JSON.parse(a.body) as Json;
  // Every answer to a request with an id names that id: errors included.
  if (body.id !== (c.id ?? null)) return `id ${JSON.stringify(body.id)}, expected ${JSON.stringify(c.id ?? null)}`;
  if (want.code !== undefined) {
    if (body.error?.code !== want.code) return `code ${body.error?.code}, expected ${want.code}: ${a.body.slice(0, 300)}`;
    if (body.result !== undefined) return 'an error with a result';
    if (want.code === -32022 && !(body.error.data?.supported ?? []).includes(V2026)) return `-32022 without the supported list: ${a.body}`;
    return undefined;
  }
  // Accepted 2026 requests: a 2026 result (or, for a tool the child does not have, the child's own error).
  if (body.error !== undefined) {
    if (c.method === 'tools/call' && c.params.name !== 'test_simple_text' && ![-32020, -32021, -32022].includes(body.error.code)) return undefined;
    return `unexpected error ${a.body.slice(0, 300)}`;
  }
  const r = body.result;
  if (r.resultType !== 'complete') return `resultType ${r.resultType}`;
  if (c.method === 'tools/call' && c.params.name === 'test_simple_text' && textOf(r) !== 'This is a simple text response for testing.') return `text ${textOf(r)}`;
  if (['tools/list', 'prompts/list', 'server/discover', 'resources/read'].includes(c.method) && (r.ttlMs !== 0 || !['public', 'private'].includes(r.cacheScope))) return `caching hints ${r.ttlMs}/${r.cacheScope}`;
  return undefined;
}

describe('2026 request validation (property, raw sockets)', () => {
  it('answers 1500 generated header/body combinations as the spec says, echoing every id', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const want = oracle(c);
        const label = `${want.era} ${want.status} ${want.code ?? ''}`;
        seen.set(label, (seen.get(label) ?? 0) + 1);
        const problem = check(c, await send(c));
        if (problem !== undefined) throw new Error(`${problem}\ncase: ${JSON.stringify(c)}`);
      }),
      { seed: 20260728, numRuns: 1500, endOnFailure: true },
    );
    // The generator reaches every answer the oracle knows.
    for (const label of ['legacy 400 -32000', 'modern 202 ', 'modern 400 -32020', 'modern 400 -32022', 'modern 400 -32602', 'modern 404 -32601', 'modern 200 ']) {
      expect(seen.get(label) ?? 0, `${label} in ${JSON.stringify([...seen])}`).toBeGreaterThan(20);
    }
    // Nothing was left behind: no sessions, no parked calls.
    expect(h.gateway.sessions.size).toBe(0);
    expect(h.gateway.stateless.parkedCalls).toBe(0);
  }, 180_000);
});

describe('2026 request headers, by hand (raw sockets)', () => {
  const base = (id: number, method: string, params: Record<string, unknown>) => JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta() } });
  const head = (extra: string[]) =>
    ['POST /mcp/a/mcp HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Connection: close', 'Content-Type: application/json', `Accept: ${ACCEPT_BOTH}`, `Authorization: Bearer ${KEY_B}`, ...extra].join('\r\n');

  it('refuses an Mcp-Name with raw non-ASCII bytes (obs-text) even when they read back as the body value', async () => {
    // "A header value contains invalid characters" is a validation failure (-32020): such a name must be sent
    // in the Base64 sentinel form. Sent as latin1 bytes, "café" reads back as "café" in Node's header parser.
    const name = 'caf\u00e9';
    const a = await rawRequest(
      h.url,
      head([`MCP-Protocol-Version: ${V2026}`, 'Mcp-Method: tools/call', `Mcp-Name: ${name}`]),
      base(41, 'tools/call', { name, arguments: {} }),
      10_000,
      'latin1',
    );
    expect(a.status, a.body).toBe(400);
    expect(JSON.parse(a.body)).toMatchObject({ id: 41, error: { code: -32020 } });
  });

  it('accepts the sentinel form of the same name (and the call reaches the child)', async () => {
    const name = 'caf\u00e9';
    const a = await rawRequest(h.url, head([`MCP-Protocol-Version: ${V2026}`, 'Mcp-Method: tools/call', `Mcp-Name: =?base64?${b64(name)}?=`]), base(42, 'tools/call', { name, arguments: {} }));
    expect(a.status, a.body).toBe(200);
    const body = JSON.parse(a.body);
    expect(body.id).toBe(42);
    expect([-32020, -32021, -32022]).not.toContain(body.error?.code);
  });

  it('answers a 2026 request whose Accept lacks text/event-stream with 406, echoing its id', async () => {
    const a = await rawRequest(
      h.url,
      head([`MCP-Protocol-Version: ${V2026}`, 'Mcp-Method: tools/list']).replace(`Accept: ${ACCEPT_BOTH}`, 'Accept: application/json'),
      base(46, 'tools/list', {}),
    );
    expect(a.status, a.body).toBe(406);
    expect(JSON.parse(a.body)).toMatchObject({ id: 46, error: {} });
  });

  it('refuses a repeated Mcp-Method header whose values differ (-32020)', async () => {
    const a = await rawRequest(h.url, head([`MCP-Protocol-Version: ${V2026}`, 'Mcp-Method: tools/list', 'Mcp-Method: ping']), base(43, 'tools/list', {}));
    expect(a.status, a.body).toBe(400);
    expect(JSON.parse(a.body)).toMatchObject({ id: 43, error: { code: -32020 } });
  });

  it('answers a body that is not JSON with a parse error, a batch and a response with -32600', async () => {
    const h2026 = head([`MCP-Protocol-Version: ${V2026}`, 'Mcp-Method: tools/list']);
    const parse = await rawRequest(h.url, h2026, '{"jsonrpc":"2.0","id":1,');
    expect(parse.status).toBe(400);
    expect(JSON.parse(parse.body).error.code).toBe(-32700);
    const batch = await rawRequest(h.url, h2026, `[${base(44, 'tools/list', {})}]`);
    expect(batch.status).toBe(400);
    expect(JSON.parse(batch.body).error.code).toBe(-32600);
    const response = await rawRequest(h.url, h2026, JSON.stringify({ jsonrpc: '2.0', id: 45, result: {} }));
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ id: 45, error: { code: -32600 } });
  });
});

describe('the two eras never mix', () => {
  const INIT = { jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'legacy', version: '1' } } };
  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(`${h.url}/mcp/a/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, authorization: `Bearer ${KEY_B}`, ...headers }, body: JSON.stringify(body) });

  async function initialize(headers: Record<string, string>, body: unknown = INIT): Promise<string> {
    const res = await post(headers, body);
    const a = await readAnswer(res);
    expect(a.status, a.text).toBe(200);
    expect(a.response.result.protocolVersion).toMatch(/^2025-/);
    expect(a.response.result.resultType).toBeUndefined();
    const sid = res.headers.get('mcp-session-id');
    expect(sid).toBeTruthy();
    return sid!;
  }

  it('takes initialize to the session path, with or without a 2025 version header, even with 2026 _meta in it', async () => {
    const before = h.gateway.sessions.size;
    const s1 = await initialize({});
    const s2 = await initialize({ 'mcp-protocol-version': '2025-11-25' });
    const s3 = await initialize({}, { ...INIT, params: { ...INIT.params, _meta: meta() } });
    expect(h.gateway.sessions.size).toBe(before + 3);
    for (const sid of [s1, s2, s3]) await fetch(`${h.url}/mcp/a/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid, authorization: `Bearer ${KEY_B}` } });
  });

  it('takes every request with a session id to the session path, whatever 2026 headers and _meta it carries', async () => {
    const sid = await initialize({});
    await post({ 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, { jsonrpc: '2.0', method: 'notifications/initialized' });
    const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': V2026, 'mcp-method': 'tools/list' };
    const a = await readAnswer(await post(headers, { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: meta() } }));
    // Whatever the session path answers (the child's list, or a 400 for a version a session does not speak),
    // it is not the stateless path's: no resultType, no header/body check.
    expect(a.response.id).toBe(7);
    expect(a.response.result?.resultType).toBeUndefined();
    expect(a.response.error?.code).not.toBe(-32020);
    // Even a broken 2026 request: a mismatched Mcp-Method is not looked at on the session path.
    const b = await readAnswer(await post({ ...headers, 'mcp-method': 'ping' }, { jsonrpc: '2.0', id: 8, method: 'tools/list', params: { _meta: meta() } }));
    expect(b.response.id).toBe(8);
    expect(b.response.error?.code).not.toBe(-32020);
    await fetch(`${h.url}/mcp/a/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid, authorization: `Bearer ${KEY_B}` } });
  });

  it('never opens a session for a 2026 request, initialize included', async () => {
    const before = h.gateway.sessions.size;
    const list = await modern(h, 'a', 'tools/list', {}, { id: 1 });
    expect(list.status).toBe(200);
    expect(list.response.result.resultType).toBe('complete');
    expect(list.headers.get('mcp-session-id')).toBeNull();
    const init = await modern(h, 'a', 'initialize', { protocolVersion: V2026, capabilities: {}, clientInfo: { name: 'x', version: '1' } }, { id: 2 });
    expect(init.status, init.text).toBe(404);
    expect(init.response).toMatchObject({ id: 2, error: { code: -32601 } });
    expect(init.headers.get('mcp-session-id')).toBeNull();
    // A request without a version header but with 2026 _meta is a 2026 request missing its header.
    const noHeader = await readAnswer(await post({ 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: meta() } }));
    expect(noHeader.status).toBe(400);
    expect(noHeader.response).toMatchObject({ id: 3, error: { code: -32020 } });
    expect(h.gateway.sessions.size).toBe(before);
  });

  it('answers the removed 2025 methods with 404 -32601 on the stateless path', async () => {
    for (const [method, params] of [
      ['ping', {}],
      ['logging/setLevel', { level: 'info' }],
      ['resources/subscribe', { uri: 'test://watched-resource' }],
      ['resources/unsubscribe', { uri: 'test://watched-resource' }],
    ] as const) {
      const a = await modern(h, 'a', method, { ...params }, { id: method });
      expect(a.status, `${method}: ${a.text}`).toBe(404);
      expect(a.response, method).toMatchObject({ id: method, error: { code: -32601 } });
    }
  });
});

describe('2026 results', () => {
  it('carries resultType, serverInfo and caching hints (public on a shared child, private on a per-principal one)', async () => {
    const shared = await modern(h, 'a', 'tools/list', {});
    expect(shared.response.result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'public' });
    expect(shared.response.result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('mcp-gateway-conformance-server');
    const own = await modern(h, 'p', 'tools/list', {});
    expect(own.response.result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
    const discover = await modern(h, 'a', 'server/discover', {});
    expect(discover.response.result.supportedVersions).toContain(V2026);
    expect(discover.response.result.supportedVersions).toContain('2025-11-25');
    expect(discover.response.result).toMatchObject({ resultType: 'complete', ttlMs: 0 });
    const call = await modern(h, 'a', 'tools/call', callParams('test_simple_text'));
    expect(call.response.result.resultType).toBe('complete');
    expect(call.response.result.ttlMs).toBeUndefined(); // tools/call is not a cacheable result
  });
});

describe('request-scoped log messages (logging: "MUST NOT emit notifications/message for a request that does not include" a logLevel)', () => {
  const logs = (a: Awaited<ReturnType<typeof modern>>) => a.messages.filter((m) => m.method === 'notifications/message');

  it('sends no log message to a request without io.modelcontextprotocol/logLevel', async () => {
    const a = await modern(h, 'a', 'tools/call', callParams('test_logging_tool'));
    expect(textOf(a.response.result)).toBe('Logging evaluated');
    expect(logs(a), a.text).toEqual([]);
  });

  it('sends no log message below the requested level', async () => {
    const a = await modern(h, 'a', 'tools/call', callParams('test_logging_tool'), { meta: meta({}, { 'io.modelcontextprotocol/logLevel': 'error' }) });
    expect(textOf(a.response.result)).toBe('Logging evaluated');
    expect(logs(a), a.text).toEqual([]);
  });

  it('may send log messages at or above the requested level, on the request’s own stream', async () => {
    const a = await modern(h, 'a', 'tools/call', callParams('test_logging_tool'), { meta: meta({}, { 'io.modelcontextprotocol/logLevel': 'info' }) });
    expect(textOf(a.response.result)).toBe('Logging evaluated');
    for (const m of logs(a)) expect(LOG_LEVELS.indexOf(m.params.level)).toBeGreaterThanOrEqual(LOG_LEVELS.indexOf('info'));
  });
});
