// Every request passes here first, whatever face it is for: CORS, then (for all but /, /healthz and
// /readyz) the DNS-rebinding check, the key, its scope, and its rate. A refused request is answered here,
// in the face's own error shape, and never reaches a face. The policy follows manifest reloads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Desired, KeySpec } from '../config/types.ts';
import { Listeners } from '../listeners.ts';
import type { Logger } from '../log.ts';
import { ErrorCode, Header } from '../protocol/jsonrpc.ts';
import { KeyRing, mayUse } from '../auth/keys.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { requirement } from '../auth/requirement.ts';
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

interface Note {
  key: string | undefined;
  server: string | undefined;
  rpc: string | undefined;
}

const notes = new WeakMap<IncomingMessage, Note>();
const admitted = new WeakMap<IncomingMessage, KeySpec>();

/** The key the gate admitted this request with (undefined: no keys configured). */
export function keyOf(req: IncomingMessage): KeySpec | undefined {
  return admitted.get(req);
}

/** Lets a face name the JSON-RPC method for the access log line. */
export function noteMethod(req: IncomingMessage, method: string): void {
  const n = notes.get(req);
  if (n !== undefined) n.rpc = method;
}

export class Gate {
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

  /** True when the request may go on to its face; otherwise it has been answered. */
  admit(req: IncomingMessage, res: ServerResponse, jsonRpcFace: boolean): boolean {
    const { origins, keys: ring } = this.#policy;
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

    const need = requirement(req.method ?? 'GET', req.url ?? '/', req.headers[Header.SessionId] !== undefined);
    if (need.kind === 'public') return true;
    const refused = origins.check(req.headers);
    if (refused !== undefined) return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', refused);

    const who = ring.identify(req.headers);
    if (who.kind === 'missing' || who.kind === 'wrong') {
      if (who.kind === 'wrong') this.#log.warn({ remote: req.socket.remoteAddress, path: req.url?.split('?')[0] }, 'authentication failed: unknown key');
      res.setHeader('WWW-Authenticate', 'Bearer realm="mcp-gateway"');
      const message = who.kind === 'missing' ? 'a key is required: send Authorization: Bearer <key>' : 'unknown key';
      return this.#refuse(req, res, jsonRpcFace, 401, 'Unauthorized', message);
    }
    const key = who.kind === 'key' ? who.key : undefined;
    if (key !== undefined) {
      if (need.kind === 'server' && !mayUse(key, need.server)) {
        return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', `key "${key.name}" may not use server "${need.server}"`);
      }
      if ((need.kind === 'admin' || (need.kind === 'server' && need.admin)) && !key.admin) {
        return this.#refuse(req, res, jsonRpcFace, 403, 'Forbidden', `key "${key.name}" is not an admin key`);
      }
      const wait = this.#limiter.take(key.name, key.rateLimit);
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        return this.#refuse(req, res, jsonRpcFace, 429, 'TooManyRequests', `key "${key.name}" is over its rate limit; retry in ${wait}s`);
      }
      admitted.set(req, key);
    }
    if (this.#policy.accessLog) this.#accessLog(req, res, key?.name, need.kind === 'server' ? need.server : undefined);
    return true;
  }

  /** One line per request when it ends: key name, server, method, outcome. Never the key. */
  #accessLog(req: IncomingMessage, res: ServerResponse, key: string | undefined, server: string | undefined): void {
    const note: Note = { key, server, rpc: undefined };
    notes.set(req, note);
    const started = performance.now();
    res.once('close', () => {
      this.#log.info(
        { key: note.key, server: note.server, method: note.rpc ?? req.method, path: req.url?.split('?')[0], status: res.statusCode, completed: res.writableFinished, ms: Math.round(performance.now() - started) },
        'access',
      );
    });
  }

  #refuse(req: IncomingMessage, res: ServerResponse, jsonRpcFace: boolean, status: number, kind: string, message: string): false {
    // A flood of refusals (429s) must not become a flood of log lines unless asked for.
    this.#log[this.#policy.accessLog || status === 403 ? 'info' : 'debug']({ remote: req.socket.remoteAddress, method: req.method, path: req.url?.split('?')[0], status }, `refused: ${kind}`);
    if (jsonRpcFace) sendError(res, status, ErrorCode.TransportError, `${kind}: ${message}`);
    else sendJson(res, status, { error: { kind, message } });
    return false;
  }
}
