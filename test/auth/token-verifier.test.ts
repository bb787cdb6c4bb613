// TokenVerifier against real tokens from a real authorization server (oidc-provider on loopback): audience
// binding, expiry, issuer, signature, algorithms, key rotation and the refetch rate limit, a JWKS outage,
// discovery, and the verified-token cache. VerifiedCache and metadataUrls are pure and tested alone.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { metadataUrls } from '../../src/auth/oauth/issuer-keys.ts';
import { TokenVerifier, type IssuerSpec, type Verified } from '../../src/auth/oauth/token-verifier.ts';
import { cacheKey, VerifiedCache } from '../../src/auth/oauth/verified-cache.ts';
import { closeAuthServers, startAuthServer, type AuthServer } from '../helpers/oidc.ts';

const BASE = 'http://127.0.0.1:18080';
const A = `${BASE}/mcp/a/mcp`;
const B = `${BASE}/mcp/b/mcp`;
const verifiers = new Set<TokenVerifier>();

afterEach(async () => {
  for (const v of verifiers) v.close();
  verifiers.clear();
  await closeAuthServers();
});

function spec(as: AuthServer, extra: Partial<IssuerSpec> = {}): IssuerSpec {
  return { issuer: as.issuer, jwksUri: as.jwksUri, audiences: [], algorithms: ['RS256'], clockSkewMs: 0, ...extra };
}

function verifier(specs: IssuerSpec[], options: ConstructorParameters<typeof TokenVerifier>[1] = {}): TokenVerifier {
  const v = new TokenVerifier(specs, options);
  verifiers.add(v);
  return v;
}

function reason(v: Verified): string {
  return v.ok ? 'ok' : v.reason;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The token with its header's `kid` replaced (the signature no longer matches, but key selection fails first). */
function withKid(token: string, kid: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), kid };
  return [Buffer.from(JSON.stringify(header)).toString('base64url'), p, s].join('.');
}

function expectNoTokenIn(v: Verified, token: string): void {
  const text = JSON.stringify(v);
  for (const part of token.split('.')) expect(text).not.toContain(part);
}

describe('TokenVerifier.verify', () => {
  it('accepts a token for the resource it was minted for, with its subject, scopes and claims', async () => {
    const as = await startAuthServer({ gatewayBase: BASE, clientClaims: { groups: ['mcp-admins'] } });
    const v = verifier([spec(as)]);
    const token = await as.token({ resource: A, scope: 'mcp:a mcp:admin' });
    const r = await v.verify(token, A);
    expect(r).toMatchObject({ ok: true, issuer: as.issuer, subject: as.confidential.clientId, scopes: ['mcp:a', 'mcp:admin'] });
    if (!r.ok) throw new Error('not ok');
    expect(r.claims.groups).toEqual(['mcp-admins']);
    expect(r.expiresAt).toBeGreaterThan(Date.now());
    expect(r.expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('accepts a token of the authorization code flow with PKCE, for the account that logged in', async () => {
    const as = await startAuthServer({ gatewayBase: BASE, accountClaims: { alice: { groups: ['mcp-admins'] } } });
    const verifierCode = randomBytes(32).toString('base64url');
    const redirectUri = 'http://127.0.0.1:43210/callback'; // a native client's loopback: any port
    const authorization = new URL(`${as.issuer}/auth`);
    authorization.search = new URLSearchParams({
      client_id: as.public.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      code_challenge: createHash('sha256').update(verifierCode).digest('base64url'),
      code_challenge_method: 'S256',
      scope: 'mcp:a',
      resource: A,
      state: 'st',
    }).toString();
    const back = await as.authorize(authorization, 'alice');
    expect(back.origin + back.pathname).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('st');
    const res = await fetch(`${as.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifierCode, client_id: as.public.clientId, resource: A }),
    });
    const { access_token: token } = (await res.json()) as { access_token: string };
    const r = await verifier([spec(as)]).verify(token, A);
    expect(r).toMatchObject({ ok: true, subject: 'alice', scopes: ['mcp:a'], claims: { groups: ['mcp-admins'] } });
  });

  it('refuses a token minted for resource A at resource B (audience), unless B lists A among its audiences', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const token = await as.token({ resource: A });
    const r = await verifier([spec(as)]).verify(token, B);
    expect(r).toMatchObject({ ok: false, reason: 'wrong-audience' });
    expectNoTokenIn(r, token);
    expect(reason(await verifier([spec(as, { audiences: [A] })]).verify(token, B))).toBe('ok');
  });

  it('requires the typ header an issuer names in tokenType, and no typ when it names none', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const token = await as.token({ resource: A }); // RFC 9068: typ at+jwt
    expect(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).typ).toBe('at+jwt');
    expect(reason(await verifier([spec(as)]).verify(token, A))).toBe('ok');
    expect(reason(await verifier([spec(as, { tokenType: 'at+jwt' })]).verify(token, A))).toBe('ok');
    const strict = await verifier([spec(as, { tokenType: 'JWT' })]).verify(token, A);
    expect(strict).toMatchObject({ ok: false, reason: 'malformed' });
    expect(JSON.stringify(strict)).toContain('tokenType');
    expectNoTokenIn(strict, token);
  });

  it('refuses an expired token, within the clock skew it still passes', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const token = await as.token({ resource: A, ttlSeconds: 60 });
    const later = () => Date.now() + 65_000;
    expect(await verifier([spec(as)], { now: later }).verify(token, A)).toMatchObject({ ok: false, reason: 'expired' });
    expect(reason(await verifier([spec(as, { clockSkewMs: 10_000 })], { now: later }).verify(token, A))).toBe('ok');
  });

  it('does not serve a cached token past its expiry (real time)', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const v = verifier([spec(as)]);
    // exp is whole seconds after a whole-second iat: 2 s leaves at least 1 s to verify it once.
    const token = await as.token({ resource: A, ttlSeconds: 2 });
    const first = await v.verify(token, A);
    if (!first.ok) throw new Error(`not ok: ${first.reason}`);
    await sleep(first.expiresAt - Date.now() + 50);
    expect(reason(await v.verify(token, A))).toBe('expired');
  });

  it('refuses a token not valid yet (nbf, iat) unless within the clock skew', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const soon = Math.floor(Date.now() / 1000) + 30;
    const nbf = await as.token({ resource: A, claims: { nbf: soon } });
    const iat = await as.token({ resource: A, claims: { iat: soon } });
    const strict = verifier([spec(as)]);
    expect(reason(await strict.verify(nbf, A))).toBe('not-yet-valid');
    expect(reason(await strict.verify(iat, A))).toBe('not-yet-valid');
    const lenient = verifier([spec(as, { clockSkewMs: 60_000 })]);
    expect(reason(await lenient.verify(nbf, A))).toBe('ok');
    expect(reason(await lenient.verify(iat, A))).toBe('ok');
  });

  it('refuses a token of an issuer it does not trust without any request to that issuer', async () => {
    const trusted = await startAuthServer({ gatewayBase: BASE });
    const other = await startAuthServer({ gatewayBase: BASE });
    const token = await other.token({ resource: A });
    const before = other.allRequests;
    const r = await verifier([spec(trusted), { ...spec(trusted), issuer: `${other.issuer}/elsewhere`, jwksUri: other.jwksUri }]).verify(token, A);
    expect(r).toMatchObject({ ok: false, reason: 'unknown-issuer' });
    expect(other.allRequests).toBe(before);
    expect(trusted.allRequests).toBe(0);
  });

  it('refuses a token whose signature or payload was changed', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const v = verifier([spec(as)]);
    const token = await as.token({ resource: A, scope: 'mcp:a' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10] = (sig[10] as number) ^ 0x01;
    const badSig = [h, p, sig.toString('base64url')].join('.');
    const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'mcp:a mcp:admin' };
    const badPayload = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
    for (const forged of [badSig, badPayload]) {
      const r = await v.verify(forged, A);
      expect(r).toMatchObject({ ok: false, reason: 'bad-signature' });
      expectNoTokenIn(r, forged);
    }
    expect(reason(await v.verify(token, A))).toBe('ok');
  });

  it('refuses algorithms outside the allow-list, alg none, and malformed tokens; refuses HS* and none in the spec', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const token = await as.token({ resource: A });
    expect(reason(await verifier([spec(as, { algorithms: ['ES256'] })]).verify(token, A))).toBe('algorithm');
    const v = verifier([spec(as)]);
    const [, p] = token.split('.') as [string, string];
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
    expect(reason(await v.verify(none, A))).toBe('algorithm');
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url')}.${p}.c2ln`;
    expect(reason(await v.verify(hs, A))).toBe('algorithm');
    expect(reason(await v.verify('not-a-jwt', A))).toBe('malformed');
    expect(reason(await v.verify('a.b.c', A))).toBe('malformed');
    expect(reason(await v.verify(await as.token({ resource: A, claims: { sub: null } }), A))).toBe('malformed');
    expect(() => new TokenVerifier([spec(as, { algorithms: ['RS256', 'HS256'] })])).toThrow(/HS256/);
    expect(() => new TokenVerifier([spec(as, { algorithms: ['none'] })])).toThrow(/none/);
  });

  it('after a key rotation verifies a token with the new kid with one JWKS refetch', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const v = verifier([spec(as)], { cooldownMs: 0 });
    const old = await as.token({ resource: A });
    expect(reason(await v.verify(old, A))).toBe('ok');
    expect(as.requests).toBe(1);
    const kid = await as.rotateKeys();
    const fresh = await as.token({ resource: A });
    expect(JSON.parse(Buffer.from(fresh.split('.')[0] as string, 'base64url').toString()).kid).toBe(kid);
    expect(reason(await v.verify(fresh, A))).toBe('ok');
    expect(as.requests).toBe(2);
    expect(reason(await v.verify(await as.token({ resource: A }), A))).toBe('ok');
    expect(as.requests).toBe(2);
  });

  it('refetches the JWKS at most once per cooldown however many unknown kids arrive', async () => {
    // ES256: a new key is made in a millisecond, well within the cooldown.
    const as = await startAuthServer({ gatewayBase: BASE, alg: 'ES256' });
    const v = verifier([spec(as, { algorithms: ['ES256'] })], { cooldownMs: 1000 });
    expect(reason(await v.verify(await as.token({ resource: A }), A))).toBe('ok');
    expect(as.requests).toBe(1);
    // Within the cooldown of the first fetch: an unknown kid is refused without a fetch.
    await as.rotateKeys();
    const fresh = await as.token({ resource: A });
    expect(reason(await v.verify(fresh, A))).toBe('bad-signature');
    expect(as.requests).toBe(1);
    await sleep(1100);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => v.verify(withKid(fresh, `unknown-${i}`), A)));
    expect(burst.map(reason)).toEqual(Array(20).fill('bad-signature'));
    expect(as.requests).toBe(2);
    // That one refetch brought the new key; more unknown kids within the cooldown fetch nothing.
    expect(reason(await v.verify(fresh, A))).toBe('ok');
    for (let i = 0; i < 5; i += 1) expect(reason(await v.verify(withKid(fresh, `again-${i}`), A))).toBe('bad-signature');
    expect(as.requests).toBe(2);
  });

  it('keeps verifying with the last good keys while the JWKS endpoint is down; a new key is then keys-unavailable', async () => {
    const as = await startAuthServer({ gatewayBase: BASE, alg: 'ES256' });
    const v = verifier([spec(as, { algorithms: ['ES256'] })], { cooldownMs: 1000, cacheMaxAgeMs: 100 });
    const [t1, t2, t3] = await Promise.all([1, 2, 3].map(() => as.token({ resource: A })));
    expect(reason(await v.verify(t1 as string, A))).toBe('ok');
    as.jwksDown(true);
    await sleep(150); // the cached keys are now stale: jose refetches before use, and that fails
    expect(reason(await v.verify(t2 as string, A))).toBe('ok');
    expect(as.requests).toBe(2);
    // Within the cooldown after the failure: no fetch at all, the last good keys serve, and a token
    // signed with a key they lack is keys-unavailable (not bad-signature: the keys may be new).
    expect(reason(await v.verify(t3 as string, A))).toBe('ok');
    await as.rotateKeys();
    const rotated = await as.token({ resource: A });
    const r = await v.verify(rotated, A);
    expect(r).toMatchObject({ ok: false, reason: 'keys-unavailable' });
    expectNoTokenIn(r, rotated);
    expect(as.requests).toBe(2);
    // After the cooldown: one more try, which fails again.
    await sleep(1050);
    expect(reason(await v.verify(rotated, A))).toBe('keys-unavailable');
    expect(as.requests).toBe(3);
    // The endpoint back, after the cooldown: the new key is fetched.
    as.jwksDown(false);
    await sleep(1050);
    expect(reason(await v.verify(rotated, A))).toBe('ok');
    expect(as.requests).toBe(4);
  });

  it('without jwksUri discovers the JWKS from the issuer metadata once', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const v = verifier([{ ...spec(as), jwksUri: undefined }]);
    expect(reason(await v.verify(await as.token({ resource: A }), A))).toBe('ok');
    const after = as.allRequests;
    expect(as.requests).toBe(1);
    expect(reason(await v.verify(await as.token({ resource: B }), B))).toBe('ok');
    expect(as.allRequests - after).toBe(1); // the token request only
    expect(as.requests).toBe(1);
  });

  it('answers a token seen before from its cache, per resource', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const v = verifier([spec(as)]);
    const token = await as.token({ resource: A });
    const first = await v.verify(token, A);
    expect(first.ok).toBe(true);
    // The same object back: nothing was decoded or verified again.
    expect(await v.verify(token, A)).toBe(first);
    expect(reason(await v.verify(token, B))).toBe('wrong-audience');
  });
});

describe('TokenVerifier.close', () => {
  it('is idempotent and makes verify fail without a fetch', async () => {
    const as = await startAuthServer({ gatewayBase: BASE });
    const v = verifier([spec(as)]);
    const token = await as.token({ resource: A });
    expect(reason(await v.verify(token, A))).toBe('ok');
    v.close();
    v.close();
    expect(reason(await v.verify(token, A))).toBe('keys-unavailable');
    expect(as.requests).toBe(1);
  });
});

describe('VerifiedCache', () => {
  it('drops the oldest entry when full and never returns one past its deadline', () => {
    const c = new VerifiedCache<number>(2);
    c.set('a', 1, 100);
    c.set('b', 2, 100);
    c.set('c', 3, 50);
    expect(c.size).toBe(2);
    expect(c.get('a', 0)).toBeUndefined();
    expect(c.get('b', 0)).toBe(2);
    expect(c.get('c', 49)).toBe(3);
    expect(c.get('c', 50)).toBeUndefined();
    expect(c.size).toBe(1);
  });

  it('keys by digest of token and resource', () => {
    expect(cacheKey('t', A)).not.toBe(cacheKey('t', B));
    expect(cacheKey('t', A)).not.toContain('t.');
    expect(cacheKey('t', A)).toMatch(/^[\w-]{43}$/);
  });
});

describe('metadataUrls', () => {
  it('inserts the issuer path after the well-known prefix, then appends OpenID discovery', () => {
    expect(metadataUrls('https://as.example')).toEqual([
      'https://as.example/.well-known/oauth-authorization-server',
      'https://as.example/.well-known/openid-configuration',
    ]);
    expect(metadataUrls('https://kc.example/realms/mcp/')).toEqual([
      'https://kc.example/.well-known/oauth-authorization-server/realms/mcp',
      'https://kc.example/.well-known/openid-configuration/realms/mcp',
      'https://kc.example/realms/mcp/.well-known/openid-configuration',
    ]);
  });
});
