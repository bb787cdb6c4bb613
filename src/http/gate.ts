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
import { KeyRing, mayUse } from '../auth/keys.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import type { Need } from './route-table.ts';
import type { RequestContext } from './request-context.ts';
import { sendEmpty, sendError, sendJson } from './answer.ts';
import { OriginPolicy } from './origin-policy.ts';

const CORS_ALLOW_HEADERS = 'Content-Type, Authorization, X-API-Key, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name';
const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After';

export interface GatePolicy {
  readonly keys: KeyRing;
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
  #policy: GatePolicy;

  constructor(desired: Desired, log: Logger, bodyLimitOverride?: number) {
    this.#log = log;
    this.#bindHost = desired.listen.host;
    this.#bodyLimitOverride = bodyLimitOverride;
    this.#policy = this.#build(desired);
  }

  get policy(): GatePolicy {
    return this.#policy;
  }

  /** Takes a newly applied manifest: new keys, origins and limits; holders of removed keys are told. */
  update(desired: Desired): void {
    this.#policy = this.#build(desired);
    this.#limiter.retain(new Set(desired.auth.keys.map((k) => k.name)));
    this.#keyListeners.emit(this.#policy.keys);
  }

  /** Called with the new key ring after every reload, to close what removed keys opened. */
  onKeysChanged(listener: (keys: KeyRing) => void): () => void {
    return this.#keyListeners.add(listener);
  }

  #build(desired: Desired): GatePolicy {
    // The bind address does not change on reload (it needs a restart), so the Host check keeps it.
    return {
      keys: new KeyRing(desired.auth),
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
    const { origins } = this.#policy;
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
  admit(req: IncomingMessage, res: ServerResponse, need: Need, server: string | undefined, jsonRpcFace: boolean, authority: string | undefined): Admitted | false {
    if (need.kind === 'probe') return ANONYMOUS;
    const ring = this.#policy.keys;
    const headers = authority === undefined ? req.headers : { ...req.headers, host: authority };
    const refused = this.#policy.origins.check(headers);
    if (refused !== undefined) return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', refused);
    if (need.kind === 'public') return ANONYMOUS;

    const who = ring.identify(req.headers);
    if (who.kind === 'missing' || who.kind === 'wrong') {
      if (who.kind === 'wrong') this.#log.warn({ remote: req.socket.remoteAddress, path: pathOf(req) }, 'authentication failed: unknown key');
      res.setHeader('WWW-Authenticate', 'Bearer realm="mcp-gateway"');
      const message = who.kind === 'missing' ? 'a key is required: send Authorization: Bearer <key>' : 'unknown key';
      return this.#refuse(req, res, jsonRpcFace, 401, 'Unauthorized', message);
    }
    if (who.kind === 'anonymous') return ANONYMOUS;
    const key = who.key;
    if (need.kind === 'server' && (server === undefined || !mayUse(key, server))) {
      return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', `key "${key.name}" may not use server "${server ?? ''}"`);
    }
    if ((need.kind === 'admin' || (need.kind === 'server' && need.admin)) && !key.admin) {
      return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', `key "${key.name}" is not an admin key`);
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

  /** One line per request when it ends: key name, server, method, outcome. Never the key. */
  logAccess(req: IncomingMessage, res: ServerResponse, rc: RequestContext): void {
    if (!this.#policy.accessLog) return;
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
    this.#log[this.#policy.accessLog || status === 403 ? 'info' : 'debug']({ remote: req.socket.remoteAddress, method: req.method, path: pathOf(req), status }, `refused: ${kind}`);
    if (jsonRpcFace) sendError(res, status, ErrorCode.TransportError, `${kind}: ${message}`);
    else sendJson(res, status, { error: { kind, message } });
    return false;
  }
}
