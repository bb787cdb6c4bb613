// Test harness: a real OAuth 2.1 / OpenID authorization server (oidc-provider, a certified implementation)
// on an ephemeral loopback port. It issues RFC 9068 JWT access tokens (typ at+jwt) for resources under the
// gateway's base URL (RFC 8707: aud = the resource), to a confidential client by client_credentials and to
// a public client by authorization code + PKCE, whose login and consent the test drives with `authorize`.
// A small node:http server sits in front of the provider: it counts requests, can make the JWKS endpoint
// answer 503, and swaps in a provider with new keys on `rotateKeys` (same issuer, same port).
// Every server is closed by `closeAuthServers()` in afterEach.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type ProviderContext, type TokenLike } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

type Claims = Readonly<Record<string, unknown>>;

export interface AuthServerOptions {
  /** Resource indicators equal to this URL or under it (`<base>/…`) are accepted; any other is invalid_target. */
  readonly gatewayBase: string;
  /** Scopes every resource offers; any requested `mcp:<name>` is offered too. Default: mcp:demo mcp:admin. */
  readonly scopes?: readonly string[];
  /** Access token lifetime in seconds (default 300); `token({ ttlSeconds })` overrides it per token. */
  readonly accessTokenTtlSeconds?: number;
  /** Extra claims in every token of the confidential client (e.g. `{ groups: ['mcp-admins'] }`). */
  readonly clientClaims?: Claims;
  /** Extra claims in tokens issued to an account (authorization code flow), by account id. */
  readonly accountClaims?: Readonly<Record<string, Claims>>;
  /** Signing algorithm of the access tokens (default RS256). */
  readonly alg?: 'RS256' | 'PS256' | 'ES256';
  /** Open dynamic client registration (RFC 7591) at `/reg`, for clients that register themselves. */
  readonly registration?: boolean;
}

export interface TokenRequest {
  /** The resource indicator: becomes the token's `aud`. */
  readonly resource: string;
  /** Space-separated scopes; default: none requested (the token then has no `scope`). */
  readonly scope?: string;
  /** Claims set on this token only, after the provider's own (`null` removes one, e.g. `{ sub: null }`). */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly ttlSeconds?: number;
}

export interface AuthServer {
  readonly issuer: string;
  readonly jwksUri: string;
  /** The confidential client (client_credentials, client_secret_basic). */
  readonly confidential: { readonly clientId: string; readonly clientSecret: string };
  /** The public client (authorization code + PKCE S256, native: any loopback port on this path). */
  readonly public: { readonly clientId: string; readonly redirectUri: string };
  /** An access token from the token endpoint by client_credentials. Throws with the endpoint's error. */
  token(request: TokenRequest): Promise<string>;
  /**
   * Follows an authorization request (a URL the client built, with PKCE and `resource`) through login as
   * `account` and consent, and returns the URL the provider redirected to: the client's redirect URI with
   * `code` and `state` (or `error`).
   */
  authorize(authorizationUrl: string | URL, account: string): Promise<URL>;
  /** Signs from now on with a new key (new kid). `keepOld`: the old key stays in the JWKS (default false). */
  rotateKeys(options?: { keepOld?: boolean }): Promise<string>;
  /** The kid tokens are signed with now. */
  readonly kid: string;
  /** While true, the JWKS endpoint answers 503 (fetches are still counted). */
  jwksDown(down: boolean): void;
  /** Fetches of the JWKS endpoint so far. */
  readonly requests: number;
  /** Every request to this server so far (metadata, JWKS, token…). */
  readonly allRequests: number;
  close(): Promise<void>;
}

const CLAIMS_PARAM = 'x_test_claims';
const TTL_PARAM = 'x_test_ttl';
const PUBLIC_REDIRECT = 'http://127.0.0.1/callback';
const open = new Set<AuthServer>();

export async function closeAuthServers(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
}

interface SigningKey {
  readonly kid: string;
  readonly jwk: JWK;
}

async function newKey(alg: string): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, jwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' } };
}

function isUnder(resource: string, base: string): boolean {
  const b = base.replace(/\/+$/, '');
  return resource === b || resource.startsWith(`${b}/`);
}

function scopesIn(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter((s) => s !== '') : [];
}

export async function startAuthServer(options: AuthServerOptions): Promise<AuthServer> {
  const alg = options.alg ?? 'RS256';
  const baseScopes = options.scopes ?? ['mcp:demo', 'mcp:admin'];
  const defaultTtl = options.accessTokenTtlSeconds ?? 300;
  const confidential = { clientId: 'gateway-tests', clientSecret: randomBytes(24).toString('base64url') };
  const publicClient = { clientId: 'mcp-public', redirectUri: PUBLIC_REDIRECT };
  const cookieKeys = [randomBytes(32).toString('base64url')];
  // One store for every provider this server runs: grants and sessions outlive a key rotation.
  const adapter = createMemoryAdapter(0);

  let keys: SigningKey[] = [await newKey(alg)];
  let down = false;
  let jwksFetches = 0;
  let all = 0;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const server = createServer((req, res) => {
    all += 1;
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/jwks') {
      jwksFetches += 1;
      if (down) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('JWKS endpoint down (test)');
        return;
      }
    }
    if (handler === undefined) res.writeHead(503).end();
    else handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** The scopes a resource offers: the configured ones and any mcp:<name> this request or its grant asks for. */
  function offered(ctx: ProviderContext): string {
    const oidc = ctx.oidc;
    const asked = [
      ...scopesIn(oidc?.params?.scope),
      ...scopesIn(oidc?.entities?.AuthorizationCode?.scope),
      ...scopesIn(oidc?.entities?.RefreshToken?.scope),
    ].filter((s) => /^mcp:[\w.*-]+$/.test(s));
    return [...new Set([...baseScopes, ...asked])].join(' ');
  }

  function build(): Provider {
    const signing = keys[0] as SigningKey;
    const provider = new Provider(issuer, {
      adapter,
      clients: [
        {
          client_id: confidential.clientId,
          client_secret: confidential.clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: publicClient.clientId,
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [publicClient.redirectUri],
        },
      ],
      jwks: { keys: keys.map((k) => k.jwk) },
      cookies: { keys: cookieKeys },
      // Clients sign ID tokens with the default RS256 unless told: with only an EC key, that is invalid metadata.
      clientDefaults: { id_token_signed_response_alg: alg },
      scopes: ['openid', 'offline_access'],
      findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
      clientBasedCORS: () => false,
      ttl: {
        AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? defaultTtl,
        ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? defaultTtl,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
        RefreshToken: 3600,
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        registration: { enabled: options.registration === true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (ctx: ProviderContext, resource: string) => {
            if (!isUnder(resource, options.gatewayBase)) throw new errors.InvalidTarget(`resource must be under ${options.gatewayBase}`);
            const ttl = Number(ctx.oidc?.body?.[TTL_PARAM] ?? defaultTtl);
            return { scope: offered(ctx), accessTokenFormat: 'jwt', accessTokenTTL: ttl, jwt: { sign: { alg, kid: signing.kid } } };
          },
        },
      },
      extraTokenClaims: async (_ctx: unknown, token: TokenLike) => {
        const byClient = token.clientId === confidential.clientId ? options.clientClaims : undefined;
        const byAccount = token.accountId === undefined ? undefined : options.accountClaims?.[token.accountId];
        return byClient || byAccount ? { ...byClient, ...byAccount } : undefined;
      },
      formats: {
        customizers: {
          // Per-token claims for tests (not for production): set after the provider's own, null removes.
          jwt: async (ctx: ProviderContext | undefined, _token: unknown, jwt: { payload: Record<string, unknown> }) => {
            const raw = ctx?.oidc?.body?.[CLAIMS_PARAM];
            if (typeof raw !== 'string') return;
            for (const [name, value] of Object.entries(JSON.parse(raw) as Record<string, unknown>)) {
              if (value === null) delete jwt.payload[name];
              else jwt.payload[name] = value;
            }
          },
        },
      },
    });
    provider.use(interactions(provider));
    return provider;
  }

  let provider = build();
  handler = provider.callback();

  const authServer: AuthServer = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    confidential,
    public: publicClient,
    get kid() {
      return (keys[0] as SigningKey).kid;
    },
    get requests() {
      return jwksFetches;
    },
    get allRequests() {
      return all;
    },
    async token(request) {
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource: request.resource });
      if (request.scope !== undefined) body.set('scope', request.scope);
      if (request.claims !== undefined) body.set(CLAIMS_PARAM, JSON.stringify(request.claims));
      if (request.ttlSeconds !== undefined) body.set(TTL_PARAM, String(request.ttlSeconds));
      const basic = Buffer.from(`${encodeURIComponent(confidential.clientId)}:${encodeURIComponent(confidential.clientSecret)}`).toString('base64');
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const answer = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (res.status !== 200 || answer.access_token === undefined) throw new Error(`token endpoint: ${res.status} ${answer.error}: ${answer.error_description}`);
      return answer.access_token;
    },
    authorize: (url, account) => followAuthorization(issuer, new URL(url), account),
    async rotateKeys(opts = {}) {
      const fresh = await newKey(alg);
      keys = opts.keepOld === true ? [fresh, ...keys] : [fresh];
      provider = build();
      handler = provider.callback();
      return fresh.kid;
    },
    jwksDown(value) {
      down = value;
    },
    async close() {
      if (!open.delete(authServer)) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.add(authServer);
  return authServer;
}

/**
 * Interaction endpoint for tests: `GET /interaction/:uid?account=<id>` logs in as that account; a consent
 * prompt is granted everything asked for (scopes, claims, resource scopes). Each answers with the
 * provider's redirect back to the authorization endpoint.
 */
function interactions(provider: Provider) {
  return async (ctx: ProviderContext, next: () => Promise<void>): Promise<void> => {
    if (ctx.method !== 'GET' || !/^\/interaction\/[\w-]+$/.test(ctx.path)) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name === 'login') {
      const account = ctx.query.account;
      if (typeof account !== 'string' || account === '') {
        ctx.status = 400;
        ctx.body = { error: 'login prompt: add ?account=<id>' };
        return;
      }
      await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account } }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'consent') {
      const accountId = details.session?.accountId ?? '';
      const grant = details.grantId === undefined ? new provider.Grant({ accountId, clientId: String(details.params.client_id) }) : await provider.Grant.find(details.grantId);
      if (grant === undefined) throw new Error('grant of the interaction is gone');
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scope] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scope.join(' '));
      const grantId = await grant.save();
      await provider.interactionFinished(ctx.req, ctx.res, { consent: details.grantId === undefined ? { grantId } : {} }, { mergeWithLastSubmission: true });
      return;
    }
    ctx.status = 400;
    ctx.body = { error: `unexpected prompt ${details.prompt.name}` };
  };
}

/** Follows redirects within the provider, carrying its cookies, until one leaves it (the client's redirect URI). */
async function followAuthorization(issuer: string, start: URL, account: string): Promise<URL> {
  const origin = new URL(issuer).origin;
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 12; hop += 1) {
    if (url.pathname.startsWith('/interaction/')) url.searchParams.set('account', account);
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie === '' ? {} : { cookie } });
    for (const set of res.headers.getSetCookie()) {
      const pair = set.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || location === null) {
      throw new Error(`authorization stopped at ${url.pathname}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    }
    await res.body?.cancel();
    const next = new URL(location, url);
    if (next.origin !== origin) return next;
    url = next;
  }
  throw new Error('authorization: too many redirects');
}
