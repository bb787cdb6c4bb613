// The gate and the route table, tried as an adversary with a valid key for one server would: request
// targets that fetch cannot send (absolute-form, fragments, dot segments, encodings), over raw sockets,
// by hand and generated (fast-check, fixed seed). The expected needs below are written out by hand, apart
// from the code: a route added without an expectation fails the first test.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Need } from '../../src/http/route-table.ts';
import { parseTarget } from '../../src/http/target.ts';
import { authKeys, demoServer, manifest, servers, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { closeAuthServers, startAuthServer } from '../helpers/oidc.ts';

const ADMIN = 'gate-admin-key-0123456789';
const KEY_A = 'gate-a-key-0123456789abc';

type Kind = 'probe' | 'public' | 'any-key' | 'server' | 'server-admin' | 'admin';
/** `token-a`: a bearer JWT of a trusted issuer, for the resource /mcp/a/mcp, whose scope grants server a. */
type Who = 'admin' | 'a' | 'token-a' | 'none' | 'wrong';

/** Every route, by method, pattern and (for GET /mcp/:server/sse) whether an Mcp-Session-Id is sent. */
const EXPECTED: Readonly<Record<string, Kind>> = (() => {
  const e: Record<string, Kind> = {};
  const get = (p: string, k: Kind) => {
    e[`GET ${p}`] = k;
    e[`HEAD ${p}`] = k;
  };
  for (const p of ['/healthz', '/readyz']) get(p, 'probe');
  for (const p of ['/', '/status/page.js', '/status/page.css']) get(p, 'public');
  // RFC 9728 metadata: a client that got a 401 has nothing to show yet.
  for (let depth = 0; depth <= 8; depth++) get(`/.well-known/oauth-protected-resource${Array.from({ length: depth }, (_, i) => `/:p${i}`).join('')}`, 'public');
  get('/metrics', 'admin');
  // Streams have no HEAD: its answer would never end.
  e['GET /status/events'] = 'any-key';
  get('/mcp/servers', 'any-key');
  get('/mcp/:server/stderr', 'server-admin');
  e['GET /mcp/:server/sse'] = 'server-admin';
  e['POST /admin/reload'] = 'admin';
  // A ticket for a browser's EventSource, asked for with the key or token it stands for.
  e['POST /auth/ticket'] = 'any-key';
  e['POST /admin/plan'] = 'admin';
  for (const a of ['start', 'stop', 'restart']) e[`POST /mcp/:server/${a}`] = 'server-admin';
  e['POST /mcp/:server/command'] = 'server';
  e['GET /mcp/:server/sse session'] = 'server';
  for (const m of ['POST', 'DELETE']) e[`${m} /mcp/:server/sse`] = 'server';
  // The aggregate endpoint: any key (what it shows follows the key's servers).
  for (const m of ['POST', 'GET', 'DELETE']) e[`${m} /mcp`] = 'any-key';
  // Bundles, /mcp/@<name>: any key, the same way (an unknown name is 404 after the gate).
  for (const m of ['POST', 'GET', 'DELETE']) e[`${m} /mcp/:endpoint`] = 'any-key';
  // The aggregate over legacy HTTP+SSE, and a bundle's.
  e['GET /sse'] = 'any-key';
  e['POST /message'] = 'any-key';
  e['GET /sse/:endpoint'] = 'any-key';
  e['POST /message/:endpoint'] = 'any-key';
  for (const m of ['POST', 'GET', 'DELETE']) e[`${m} /mcp/:server/mcp`] = 'server';
  e['GET /mcp/:server/legacy/sse'] = 'server';
  e['POST /mcp/:server/legacy/message'] = 'server';
  return e;
})();

const kindOf = (need: Need): Kind => (need.kind === 'server' ? (need.admin ? 'server-admin' : 'server') : need.kind);

/** What the written-out expectation allows `who` to do on a route of `kind` for `server`. */
function allowed(who: Who, kind: Kind, server: string | undefined): boolean {
  if (kind === 'probe' || kind === 'public') return true;
  if (who === 'none' || who === 'wrong') return false;
  if (who === 'admin') return true;
  // Its audience is server a's resource: every other route (the gateway's own, the aggregate) refuses it.
  if (who === 'token-a') return kind === 'server' && server === 'a';
  return kind === 'any-key' || (kind === 'server' && server === 'a');
}

let h: Harness;
let port: string;
let tokenA = '';
const headersFor = (who: Who): string[] =>
  who === 'admin' ? [`Authorization: Bearer ${ADMIN}`] : who === 'a' ? [`X-API-Key: ${KEY_A}`] : who === 'token-a' ? [`Authorization: Bearer ${tokenA}`] : who === 'wrong' ? ['Authorization: Bearer not-a-key'] : [];

function send(method: string, target: string, who: Who, extra: string[] = [], body = '') {
  const head = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...headersFor(who), ...extra].join('\r\n');
  return rawRequest(h.url, head, body);
}

beforeAll(async () => {
  const keys = authKeys([
    { name: 'ops', key: ADMIN, servers: '*', admin: true },
    { name: 'a-only', key: KEY_A, servers: '[a]', unlimited: true },
  ]);
  const yaml = (oauth: string) => manifest(demoServer('a') + demoServer('b'), keys + oauth);
  h = await startHarness(yaml(''));
  port = new URL(h.url).port;
  // A real authorization server, trusted by a live edit (it had to know the gateway's URL first).
  const as = await startAuthServer({ gatewayBase: h.url, scopes: ['mcp:a'] });
  h.write(yaml(`  oauth:\n    issuers: [{ issuer: "${as.issuer}" }]\n    grants: [{ claim: scope, value: "mcp:a", servers: [a] }]\n`));
  await waitFor(async () => (await fetch(`${h.url}/.well-known/oauth-protected-resource`)).status === 200, 'auth.oauth applied', 10_000);
  tokenA = await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a' });
  await waitFor(async () => {
    const res = await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const body = (await res.json()) as { servers: { state: string }[] };
    return body.servers.every((s) => s.state === 'running');
  }, 'a and b running');
});
afterAll(async () => {
  await h?.close();
  await closeAuthServers();
});

async function snapshot(): Promise<string> {
  const res = await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = (await res.json()) as Awaited<ReturnType<typeof servers>> & { manifest: { appliedAt: string; lastAttemptAt: string } };
  return JSON.stringify({ servers: body.servers.map((s) => [s.name, s.state, s.pid, s.restarts]), applied: body.manifest.appliedAt, attempt: body.manifest.lastAttemptAt });
}

describe('the route table', () => {
  it('declares each route once, with the need written out above', () => {
    const declared: Record<string, Kind> = {};
    for (const r of h.gateway.routes.routes) {
      const session = r.when !== undefined && r.when({ 'mcp-session-id': 'x' }) ? ' session' : '';
      const key = `${r.method} ${r.pattern}${session}`;
      expect(declared[key], `${key} declared twice`).toBeUndefined();
      declared[key] = kindOf(r.need);
    }
    expect(declared).toEqual(EXPECTED);
  });
});

describe('the gate, over raw sockets', () => {
  it('authorizes an absolute-form target for the route it reaches, with its authority as Host', async () => {
    const before = await snapshot();
    const abs = `http://127.0.0.1:${port}`;
    expect((await send('POST', `${abs}/mcp/b/stop`, 'a')).status).toBe(403);
    expect((await send('POST', `${abs}/mcp/a/restart`, 'a')).status).toBe(403);
    expect((await send('POST', `${abs}/admin/reload`, 'a')).status).toBe(403);
    expect((await send('GET', `${abs}/metrics`, 'a')).status).toBe(403);
    expect((await send('GET', `${abs}/mcp/a/stderr`, 'a')).status).toBe(403);
    expect((await send('GET', `${abs}/mcp/b/stderr`, 'none')).status).toBe(401);
    // The same targets do what they say for those allowed.
    const metrics = await send('GET', `${abs}/metrics`, 'admin');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('# HELP');
    const ping = await send('POST', `${abs}/mcp/a/command`, 'a', ['Content-Type: application/json'], '{"jsonrpc":"2.0","id":7,"method":"ping"}');
    expect(ping.status).toBe(200);
    expect(JSON.parse(ping.body)).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    // The authority stands in for Host: a rebound name is refused there too, whatever Host says.
    expect((await send('GET', `http://evil.example:${port}/mcp/servers`, 'admin')).status).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it('refuses fragments, dot segments, other target forms and bad encodings with 400', async () => {
    for (const [method, target] of [
      ['GET', '/metrics#x'],
      ['GET', '/mcp/servers#'],
      ['POST', '/mcp/a/../b/stop'],
      ['POST', '/mcp/a/%2e%2e/b/stop'],
      ['GET', '/./metrics'],
      ['GET', '*'],
      ['OPTIONS', '*'],
      ['CONNECT', `127.0.0.1:${port}`],
      ['GET', `//127.0.0.1:${port}/metrics`],
      ['GET', '/mcp/%zz/mcp'],
      ['GET', 'metrics'],
    ] as const) {
      const answer = await send(method, target, 'a');
      expect(answer.status, `${method} ${target}`).toBe(400);
    }
  });

  it('decodes percent-encoding once, so every spelling needs what the route needs', async () => {
    expect((await send('GET', '/%6Detrics', 'a')).status).toBe(403);
    expect((await send('GET', '/%6detrics', 'admin')).status).toBe(200);
    expect((await send('GET', '/mcp/a/st%64err', 'a')).status).toBe(403);
    expect((await send('POST', '/mcp/%62/st%6Fp', 'a')).status).toBe(403);
    expect((await send('GET', '/mcp/a/%73se', 'a')).status).toBe(403);
    // Other spellings name no route: 404 for a key holder, 401 for anyone else.
    expect((await send('GET', '/METRICS', 'a')).status).toBe(404);
    expect((await send('GET', '/metrics/', 'a')).status).toBe(404);
    expect((await send('GET', '/metrics;x', 'a')).status).toBe(404);
    expect((await send('GET', '/metrics/', 'none')).status).toBe(401);
    expect((await send('POST', '/mcp//stop', 'a')).status).toBe(404);
    expect((await send('POST', '/mcp/b%2Fstop/x', 'a')).status).toBe(404);
    expect((await send('PUT', '/mcp/a/stop', 'a')).status).toBe(405);
  });
});

// --- generated targets -------------------------------------------------------------------------------

interface Canonical {
  readonly method: string;
  readonly pattern: string;
  readonly server: string | undefined;
  readonly session: boolean;
}

const canonicals: Canonical[] = Object.keys(EXPECTED).flatMap((k) => {
  const [method, pattern, session] = k.split(' ') as [string, string, string | undefined];
  const servers = pattern.includes(':server') ? ['a', 'b'] : [undefined];
  return servers.map((server) => ({ method, pattern, server, session: session !== undefined }));
});
const expectedKind = (c: Canonical): Kind => EXPECTED[`${c.method} ${c.pattern}${c.session ? ' session' : ''}`]!;

type Transform = 'encode' | 'absolute' | 'query' | 'case' | 'double-slash' | 'trailing-slash' | 'dot' | 'fragment' | 'param' | 'encoded-slash';
const BENIGN: ReadonlySet<Transform> = new Set(['encode', 'absolute', 'query']);

const encodeChar = (c: string, upper: boolean): string => {
  const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex}`;
};

/** A spelling of a canonical target: the transforms, applied with choices drawn by fast-check. */
const spelling = (c: Canonical) =>
  fc
    .record({
      transforms: fc.uniqueArray(fc.constantFrom<Transform>('encode', 'absolute', 'query', 'case', 'double-slash', 'trailing-slash', 'dot', 'fragment', 'param', 'encoded-slash'), { maxLength: 3 }),
      picks: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
      upper: fc.boolean(),
    })
    .map(({ transforms, picks, upper }) => {
      let segs = c.pattern === '/' ? [] : c.pattern.slice(1).split('/').map((s) => (s === ':server' ? c.server! : s === ':endpoint' ? '@bundle' : s));
      const pick = (i: number, n: number) => (n === 0 ? 0 : picks[i]! % n);
      for (const t of transforms) {
        if (segs.length === 0 && t !== 'absolute' && t !== 'query' && t !== 'fragment' && t !== 'dot') continue;
        const i = pick(0, segs.length);
        if (t === 'encode') {
          const s = segs[i]!;
          const j = pick(1, s.length);
          segs = segs.map((x, k) => (k === i ? s.slice(0, j) + encodeChar(s[j] ?? 'x', upper) + s.slice(j + 1) : x));
        } else if (t === 'case') segs = segs.map((x, k) => (k === i ? (x.toUpperCase() === x ? x.toLowerCase() : x.toUpperCase()) : x));
        else if (t === 'double-slash') segs = [...segs.slice(0, i), '', ...segs.slice(i)];
        else if (t === 'trailing-slash') segs = [...segs, ''];
        else if (t === 'dot') segs = [...segs.slice(0, i), ['.', '..', '%2e', '%2E%2e'][pick(2, 4)]!, ...segs.slice(i)];
        else if (t === 'param') segs = segs.map((x, k) => (k === i ? `${x};v=1` : x));
        else if (t === 'encoded-slash' && segs.length > 1) segs = [...segs.slice(0, i), `${segs[i]}%2F${segs[i + 1] ?? ''}`, ...segs.slice(i + 2)];
      }
      let target = `/${segs.join('/')}`;
      if (transforms.includes('query')) target += ['?', '?x=1', '?sessionId=nope', '?a=/../metrics'][pick(3, 4)];
      if (transforms.includes('fragment')) target += ['#', '#x', '#/../metrics'][pick(4, 3)];
      if (transforms.includes('absolute')) target = `${['http', 'HTTP', 'https'][pick(5, 3)]}://${['127.0.0.1', 'localhost'][pick(6, 2)]}:${port}${target}`;
      return { target, benign: transforms.every((t) => BENIGN.has(t)) };
    });

const generated = fc.constantFrom(...canonicals).chain((c) => spelling(c).map((s) => ({ c, ...s })));

describe('the gate, around the routes', () => {
  it('survives a CONNECT whose client resets the connection', async () => {
    const { connect } = await import('node:net');
    for (const wait of [false, true]) {
      await new Promise<void>((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () => {
          s.write(`CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
          if (!wait) s.resetAndDestroy();
        });
        s.on('data', () => s.resetAndDestroy());
        s.on('close', () => resolve());
        s.on('error', () => {});
      });
    }
    expect((await send('GET', '/healthz', 'none')).status).toBe(200);
  });

  it('has no HEAD for streams, so nothing waits behind one on a keep-alive connection', async () => {
    expect((await send('HEAD', '/status/events', 'a')).status).toBe(405);
    expect((await send('HEAD', '/mcp/a/sse', 'admin')).status).toBe(405);
    expect((await send('HEAD', '/mcp/servers', 'a')).status).toBe(200);
  });

  it('checks Host on public routes (DNS rebinding), but not on the health probes', async () => {
    const foreign = (target: string) => rawRequest(h.url, [`GET ${target} HTTP/1.1`, 'Host: evil.example', 'Connection: close'].join('\r\n'));
    expect((await foreign('/')).status).toBe(403);
    expect((await foreign('/status/page.js')).status).toBe(403);
    expect((await foreign('/healthz')).status).toBe(200);
    expect((await foreign('/readyz')).status).toBe(200);
  });
});

describe('generated request targets', () => {
  it('reach the route they spell or none, and never need less than it (pure: parse and match)', () => {
    fc.assert(
      fc.property(generated, ({ c, target, benign }) => {
        const parsed = parseTarget(target);
        const headers = c.session ? { 'mcp-session-id': 'x' } : {};
        if ('error' in parsed) {
          expect(benign, `${target} refused: ${parsed.error}`).toBe(false);
          return;
        }
        const found = h.gateway.routes.match(c.method, parsed.segments, headers);
        if (benign) {
          expect(found.kind, target).toBe('route');
          if (found.kind !== 'route') return;
          expect(found.route.pattern, target).toBe(c.pattern);
          expect(found.params.server, target).toBe(c.server);
        }
        if (found.kind !== 'route') return;
        const reached = EXPECTED[`${c.method} ${found.route.pattern}${found.route.when?.({ 'mcp-session-id': 'x' }) ? ' session' : ''}`];
        expect(reached, `${target} reached an undeclared route`).toBeDefined();
        for (const who of ['admin', 'a', 'none'] as const) {
          if (allowed(who, reached!, found.params.server)) expect(allowed(who, expectedKind(c), c.server), `${who} ${c.method} ${target}`).toBe(true);
        }
      }),
      { seed: 1313, numRuns: 4000 },
    );
  });

  it('sent over raw sockets: a key or a token for server a, a wrong key or none never gets past what the route needs', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(generated, fc.constantFrom<Who>('a', 'a', 'token-a', 'token-a', 'none', 'wrong'), async ({ c, target }, who) => {
        const extra = c.session ? ['Mcp-Session-Id: not-a-session'] : [];
        const answer = await send(c.method, target, who, extra);
        const canonicalAllowed = allowed(who, expectedKind(c), c.server);
        if (!canonicalAllowed) {
          // A token for a is refused with 401 where its audience is not this route's resource.
          const refused = who === 'a' ? [400, 403, 404, 405] : who === 'token-a' ? [400, 401, 403, 404, 405] : [400, 401, 405];
          expect(refused, `${who} ${c.method} ${target} → ${answer.status}`).toContain(answer.status);
        }
        expect(answer.body).not.toContain('# HELP');
      }),
      { seed: 2026, numRuns: 1500 },
    );
    // Nothing was stopped, restarted or reloaded by any of it.
    expect(await snapshot()).toBe(before);
  }, 180_000);
});
