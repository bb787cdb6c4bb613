// Every request passes here once its route is known, whatever face it is for: CORS, then (for all but the
// health probes) the DNS-rebinding check, and (for all but public routes) the key, what the matched route
// needs of it, and its rate. The
// gate reads the route's need as data: it never parses a target nor knows the table. A refused request is
// answered here, in the face's own error shape, and never reaches a face. The policy follows reloads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Desired, KeySpec } from '../config/types.ts';
import { Listeners } from '../listeners.ts';
import type { Logger } from '../log.ts';
import { ErrorCode } from '../protocol/jsonrpc.ts';
import { KeyRing, mayUse, presentedKey } from '../auth/keys.ts';
import { looksLikeJwt } from '../auth/oauth/token-auth.ts';
import { StreamTickets } from '../auth/stream-tickets.ts';
import { bearerChallenge, canonicalResource, GATEWAY_RESOURCE, metadataUrlFor, publicUrlOf, resourcePathOf } from '../auth/oauth/resource-metadata.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import type { Need } from './route-table.ts';
import type { RequestContext } from './request-context.ts';
import { sendEmpty, sendError, sendJson } from './answer.ts';
import { OriginPolicy } from './origin-policy.ts';

const CORS_ALLOW_HEADERS = 'Content-Type, Authorization, X-API-Key, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name';
const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After';

export interface GatePolicy {
  readonly keys: KeyRing;
  /** listen.publicUrl, normalized; without it the URL is made from the bind address and the port asked. */
  readonly publicUrl: string | undefined;
  readonly listen: Desired['listen'];
  readonly origins: OriginPolicy;
  readonly bodyLimit: number;
  readonly accessLog: boolean;
}

/** Who the gate let in: the key, or undefined when the gateway has no keys (or the route is public). */
export interface Admitted {
  readonly principal: KeySpec | undefined;
}

const ANONYMOUS: Admitted = Object.freeze({ principal: undefined });

const pathOf = (req: IncomingMessage): string | undefined => req.url?.split('?')[0];

export class Gate {
  /** One Admitted per key, so admitting allocates nothing on the message path. */
  readonly #admitted = new WeakMap<KeySpec, Admitted>();
  readonly #log: Logger;
  readonly #limiter = new RateLimiter();
  readonly #bindHost: string;
  readonly #keyListeners = new Listeners<KeyRing>();
  readonly #bodyLimitOverride: number | undefined;
  #policy: GatePolicy | undefined;
  /** Tickets for browsers' event streams (EventSource sends no Authorization header). */
  readonly tickets = new StreamTickets();
  /** Told of every identification: key or token, and its outcome (metrics). */
  onAuthentication: ((method: 'key' | 'token' | 'ticket', outcome: string) => void) | undefined;

  constructor(desired: Desired, log: Logger, bodyLimitOverride?: number) {
    this.#log = log;
    this.#bindHost = desired.listen.host;
    this.#bodyLimitOverride = bodyLimitOverride;
    this.#policy = this.#build(desired);
  }

  get policy(): GatePolicy {
    return this.#policy!;
  }

  /** Takes a newly applied manifest: new keys, origins and limits; holders of removed keys are told. */
  update(desired: Desired): void {
    this.#policy = this.#build(desired);
    const keys = new Set(desired.auth.keys.map((k) => k.name));
    const tokens = this.policy.keys.tokens;
    // A token subject keeps its bucket while the grants still give it something: a reload resets no rate.
    this.#limiter.retain((name) => keys.has(name) || (tokens !== undefined && tokens.byName(name) !== undefined));
    this.#keyListeners.emit(this.policy.keys);
  }

  /** Called with the new key ring after every reload, to close what removed keys opened. */
  onKeysChanged(listener: (keys: KeyRing) => void): () => void {
    return this.#keyListeners.add(listener);
  }

  #build(desired: Desired): GatePolicy {
    // The bind address does not change on reload (it needs a restart), so the Host check keeps it.
    return {
      keys: new KeyRing(desired.auth, this.#policy?.keys),
      publicUrl: desired.listen.publicUrl,
      listen: desired.listen,
      origins: new OriginPolicy({ ...desired.listen, host: this.#bindHost }),
      bodyLimit: this.#bodyLimitOverride ?? desired.listen.bodyLimit,
      accessLog: desired.listen.accessLog,
    };
  }

  /**
   * CORS for every request: the allow headers for an allowed Origin, and the answer to a preflight.
   * True when the request goes on; otherwise it has been answered.
   */
  cors(req: IncomingMessage, res: ServerResponse, jsonRpcFace: boolean): boolean {
    const { origins } = this.policy;
    const origin = req.headers.origin;
    if (origin !== undefined && origins.allowsCors(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      if (origin === undefined || !origins.allowsCors(origin)) {
        return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', 'Origin not allowed: add it to listen.cors.origins');
      }
      sendEmpty(res, 204, {
        'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
        'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      return false;
    }
    return true;
  }

  /**
   * Decides from what the matched route needs: the Host (or the absolute-form target's `authority`, which
   * RFC 9112 puts in its place) and Origin, the key, its scope for `server`, admin, and the key's rate.
   * The admitted caller, or false when the request was refused (and answered).
   */
  admit(req: IncomingMessage, res: ServerResponse, need: Need, server: string | undefined, jsonRpcFace: boolean, authority: string | undefined, segments: readonly string[] = [], query = ''): Admitted | false | Promise<Admitted | false> {
    if (need.kind === 'probe') return ANONYMOUS;
    const policy = this.policy;
    const ring = policy.keys;
    const headers = authority === undefined ? req.headers : { ...req.headers, host: authority };
    const refused = policy.origins.check(headers);
    if (refused !== undefined) return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', refused);
    if (need.kind === 'public') return ANONYMOUS;

    const who = ring.identify(req.headers);
    if (who.kind === 'anonymous') return ANONYMOUS;
    const tokens = ring.tokens;
    if (who.kind === 'wrong' && tokens !== undefined) {
      const presented = presentedKey(req.headers)!;
      // Not a key: a bearer token, verified for the resource this request is for (its audience).
      if (looksLikeJwt(presented)) return this.#admitToken(req, res, need, server, jsonRpcFace, segments, presented);
    }
    if (who.kind === 'missing' && req.method === 'GET' && query.includes('ticket=')) {
      // A browser's EventSource: the principal its page got a ticket for, if the ticket is good for this path.
      const ticket = new URLSearchParams(query).get('ticket') ?? '';
      const issued = this.tickets.take(ticket, pathOf(req) ?? '');
      const principal = issued === undefined ? undefined : ring.current(issued);
      this.onAuthentication?.('ticket', principal === undefined ? 'invalid' : 'ok');
      if (principal !== undefined) return this.#authorize(req, res, need, server, jsonRpcFace, principal, segments);
      return this.#refuse(req, res, jsonRpcFace, 401, 'Unauthorized', 'the ticket is spent, expired, or for another path: ask POST /auth/ticket for a new one');
    }
    if (who.kind === 'missing' || who.kind === 'wrong') {
      this.onAuthentication?.('key', who.kind === 'missing' ? 'missing' : 'unknown-key');
      if (who.kind === 'wrong') this.#log.warn({ remote: req.socket.remoteAddress, path: pathOf(req) }, 'authentication failed: unknown key');
      res.setHeader('WWW-Authenticate', tokens === undefined ? 'Bearer realm="mcp-gateway"' : this.#challenge(req, segments, server, who.kind === 'wrong' ? 'invalid_token' : undefined, 'unknown key'));
      const message = who.kind === 'missing' ? `${tokens === undefined ? 'a key' : 'a key or a bearer token'} is required: send Authorization: Bearer <${tokens === undefined ? 'key' : 'key or token'}>` : 'unknown key';
      return this.#refuse(req, res, jsonRpcFace, 401, 'Unauthorized', message);
    }
    this.onAuthentication?.('key', 'ok');
    return this.#authorize(req, res, need, server, jsonRpcFace, who.key, segments);
  }

  /** The token's verdict, then the same checks as for a key. Failures name their reason, never the token. */
  async #admitToken(req: IncomingMessage, res: ServerResponse, need: Need, server: string | undefined, jsonRpcFace: boolean, segments: readonly string[], token: string): Promise<Admitted | false> {
    const tokens = this.policy.keys.tokens!;
    const resourcePath = resourcePathOf(segments) ?? GATEWAY_RESOURCE;
    const resource = canonicalResource(this.publicUrlFor(req), resourcePath);
    const verdict = await tokens.admit(token, resource);
    if (res.headersSent || res.writableEnded || req.socket.destroyed) return false; // the client left meanwhile
    this.onAuthentication?.('token', verdict.ok ? 'ok' : verdict.reason);
    if (!verdict.ok) {
      this.#log.warn({ remote: req.socket.remoteAddress, path: pathOf(req), reason: verdict.reason, detail: verdict.detail }, 'authentication failed: bearer token');
      if (verdict.reason === 'no-grant') {
        res.setHeader('WWW-Authenticate', this.#challenge(req, segments, server, 'insufficient_scope', 'the token grants nothing here'));
        return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', 'the token grants nothing here (insufficient_scope)');
      }
      res.setHeader('WWW-Authenticate', this.#challenge(req, segments, server, 'invalid_token', verdict.reason));
      return this.#refuse(req, res, jsonRpcFace, 401, 'Unauthorized', `invalid token (${verdict.reason})`);
    }
    // What lasts (a stream, a long call) ends with the token: the client comes back with a fresh one.
    const left = verdict.principal.token!.expiresAt - Date.now();
    const expiry = setTimeout(() => res.destroy(), Math.max(0, Math.min(left, 2 ** 31 - 1)));
    expiry.unref();
    res.once('close', () => clearTimeout(expiry));
    return this.#authorize(req, res, need, server, jsonRpcFace, verdict.principal, segments);
  }

  /** What the route needs of an identified caller (key or token): its servers, admin, and its rate. */
  #authorize(req: IncomingMessage, res: ServerResponse, need: Need, server: string | undefined, jsonRpcFace: boolean, key: KeySpec, segments: readonly string[]): Admitted | false {
    const who = key.token === undefined ? `key "${key.name}"` : `the token of "${key.token.subject}"`;
    const tokens = key.token === undefined ? undefined : this.policy.keys.tokens;
    if (need.kind === 'server' && (server === undefined || !mayUse(key, server))) {
      if (tokens !== undefined) res.setHeader('WWW-Authenticate', this.#challenge(req, segments, server, 'insufficient_scope', `no grant for server ${server ?? ''}`));
      return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', `${who} may not use server "${server ?? ''}"`);
    }
    if ((need.kind === 'admin' || (need.kind === 'server' && need.admin)) && !key.admin) {
      if (tokens !== undefined) res.setHeader('WWW-Authenticate', this.#challenge(req, segments, server, 'insufficient_scope', 'admin needed'));
      return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', `${who} is not an admin ${key.token === undefined ? 'key' : 'principal'}`);
    }
    const wait = this.#limiter.take(key.name, key.rateLimit);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      return this.#refuse(req, res, jsonRpcFace, 429, 'TooManyRequests', `key "${key.name}" is over its rate limit; retry in ${wait}s`);
    }
    let admitted = this.#admitted.get(key);
    if (admitted === undefined) this.#admitted.set(key, (admitted = { principal: key }));
    return admitted;
  }

  /**
   * The `WWW-Authenticate` of a refusal when tokens are accepted: where the metadata of this request's
   * resource is (RFC 9728), and for a token, why (invalid_token) or what it lacks (insufficient_scope, with
   * the scopes that would grant this server).
   */
  #challenge(req: IncomingMessage, segments: readonly string[], server: string | undefined, error: 'invalid_token' | 'insufficient_scope' | undefined, description: string): string {
    const tokens = this.policy.keys.tokens!;
    const resourcePath = resourcePathOf(segments) ?? GATEWAY_RESOURCE;
    const scope = tokens.scopesFor(server);
    return bearerChallenge({
      resourceMetadata: metadataUrlFor(this.publicUrlFor(req), resourcePath),
      ...(error === undefined ? {} : { error, description }),
      ...(scope === '' ? {} : { scope }),
    });
  }

  /** listen.publicUrl, or (loopback, tests) the bind address with the port this request came in on. */
  publicUrlFor(req: IncomingMessage): string {
    const policy = this.policy;
    return policy.publicUrl ?? publicUrlOf(policy.listen, req.socket.localPort ?? policy.listen.port);
  }

  /** One line per request when it ends: key name, server, method, outcome. Never the key. */
  logAccess(req: IncomingMessage, res: ServerResponse, rc: RequestContext): void {
    if (!this.policy.accessLog) return;
    const started = performance.now();
    res.once('close', () => {
      this.#log.info(
        {
          key: rc.principal?.name,
          server: rc.params.server ?? rc.routedTo,
          ...(rc.endpoint === undefined ? {} : { endpoint: rc.endpoint }),
          method: rc.rpcMethod ?? req.method,
          path: pathOf(req),
          status: res.statusCode,
          completed: res.writableFinished,
          ms: Math.round(performance.now() - started),
        },
        'access',
      );
    });
  }

  #refuse(req: IncomingMessage, res: ServerResponse, jsonRpcFace: boolean, status: number, kind: string, message: string): false {
    // A flood of refusals (429s) must not become a flood of log lines unless asked for.
    this.#log[this.policy.accessLog || status === 403 ? 'info' : 'debug']({ remote: req.socket.remoteAddress, method: req.method, path: pathOf(req), status }, `refused: ${kind}`);
    if (jsonRpcFace) sendError(res, status, ErrorCode.TransportError, `${kind}: ${message}`);
    else sendJson(res, status, { error: { kind, message } });
    return false;
  }
}
