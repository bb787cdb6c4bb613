// The message router: one per server, the only writer to its child's stdin. It gives every request a
// gateway-unique id (and progress token) on the way in and restores the caller's own on the way out, so
// callers that share a child never see each other's answers. It never rejects: every request resolves
// with a JSON-RPC response, and `failure` says when the gateway (not the child) made that answer.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log.ts';
import {
  ErrorCode,
  Method,
  ResourceMethod,
  SUPPORTED_PROTOCOL_VERSIONS,
  checkMessage,
  errorResponse,
  isRequest,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.ts';
import { LineSplitter, type Oversize } from './framing.ts';
import { chooseRecipient } from './child-requests.ts';
import { Slots } from './slots.ts';
import type { Availability, Caller, FailureKind, Observer, RequestOptions, RouteResult, Tap } from './types.ts';

export type { Availability, Caller, FailureKind, Observer, Outcome, RequestOptions, RouteResult, Tap } from './types.ts';

/**
 * The largest message a child may send. Larger ones are dropped as they arrive (the gateway's heap is
 * bounded, and every client of the child would go down with it); the request they answer gets an error.
 */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

interface Pending {
  readonly caller: Caller | undefined;
  readonly method: string;
  readonly started: number;
  readonly originalId: JsonRpcId;
  readonly progressToken: string | number | undefined;
  readonly resolve: (result: RouteResult) => void;
  readonly timer: NodeJS.Timeout;
  readonly detachAbort: (() => void) | undefined;
}

interface Waiter {
  readonly go: () => void;
  readonly fail: (reason: string) => void;
}

export interface RouterOptions {
  readonly server: string;
  readonly log: Logger;
  requestTimeoutMs: number;
  /** Requests of callers in flight at once; more wait up to queueTimeoutMs, then fail `busy`. */
  maxInFlight?: number;
  queueTimeoutMs?: number;
  /**
   * Per-session child: every request of the child goes to the one connected caller. Otherwise (shared),
   * only requests for `offered` capabilities are routed, and only when one caller's requests are in flight.
   */
  readonly exclusive?: boolean;
  readonly offered?: readonly string[];
  readonly observe?: Observer;
}

export class Router {
  readonly server: string;
  readonly #log: Logger;
  requestTimeoutMs: number;
  /** maxInFlight and queueTimeout: the supervisor sets them from the spec, also on reload. */
  readonly slots: Slots;
  #callerPending = 0;

  readonly #pending = new Map<number, Pending>();
  readonly #taps = new Set<Tap>();
  /** Callers that receive notifications meant for every client (MCP sessions). */
  readonly #connected = new Set<Caller>();
  /** resources/subscribe ref-counts: uri → callers subscribed to it. */
  readonly #subscriptions = new Map<string, Set<Caller>>();
  readonly #exclusive: boolean;
  readonly #offered: ReadonlySet<string>;
  readonly #observe: Observer | undefined;
  readonly #waiters = new Set<Waiter>();
  #nextId = 1;
  #stdin: Writable | undefined;
  #detachStdout: (() => void) | undefined;
  #availability: Availability = { kind: 'down', reason: 'not started' };
  #initializeResult: Record<string, unknown> | undefined;

  constructor(options: RouterOptions) {
    this.server = options.server;
    this.#log = options.log;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.slots = new Slots(options.maxInFlight ?? Infinity, options.queueTimeoutMs ?? 0);
    this.#exclusive = options.exclusive ?? false;
    this.#offered = new Set(options.offered ?? []);
    this.#observe = options.observe;
  }

  /** Registers a caller for notifications meant for every client; returns the disconnect. */
  connect(caller: Caller): () => void {
    this.#connected.add(caller);
    return () => {
      this.#connected.delete(caller);
      for (const [uri, set] of this.#subscriptions) {
        if (set.delete(caller) && set.size === 0) {
          this.#subscriptions.delete(uri);
          this.#write({ jsonrpc: '2.0', id: this.#nextId++, method: ResourceMethod.Unsubscribe, params: { uri } });
        }
      }
    };
  }

  /** Callers' requests waiting for the child (the gateway's own handshake is not one). */
  get inFlight(): number {
    return this.#callerPending;
  }

  /** The child's answer to the gateway's own initialize, kept for every client that initializes later. */
  get initializeResult(): Record<string, unknown> | undefined {
    return this.#initializeResult;
  }

  /** Connects a freshly spawned child. Anything attached before is detached first. */
  attach(stdin: Writable, stdout: Readable): void {
    this.detach('replaced by a new process');
    this.#stdin = stdin;
    // EPIPE after the child died: the exit path answers pending requests, nothing to do here.
    stdin.on('error', () => {});
    const splitter = new LineSplitter(MAX_MESSAGE_BYTES);
    const onLine = (line: string): void => this.#onLine(line);
    const onOversize = (o: Oversize): void => this.#onOversize(o);
    const onData = (chunk: Buffer): void => splitter.push(chunk, onLine, onOversize);
    stdout.on('data', onData);
    this.#detachStdout = () => stdout.off('data', onData);
  }

  /** Disconnects the child and answers every request in flight with a `closed` error, at once. */
  detach(reason: string): void {
    this.#detachStdout?.();
    this.#detachStdout = undefined;
    this.#stdin = undefined;
    this.#initializeResult = undefined;
    for (const [gid, p] of this.#pending) {
      this.#settle(gid, p, errorResponse(p.originalId, ErrorCode.ConnectionClosed, `server "${this.server}" ${reason}`), 'closed');
    }
  }

  setAvailability(availability: Availability, initializeResult?: Record<string, unknown>): void {
    this.#availability = availability;
    if (initializeResult !== undefined) this.#initializeResult = initializeResult;
    if (availability.kind === 'ready') {
      // A new process knows nothing of the old one's subscriptions: renew them for the sessions that hold them.
      for (const uri of this.#subscriptions.keys()) {
        this.#write({ jsonrpc: '2.0', id: this.#nextId++, method: ResourceMethod.Subscribe, params: { uri } });
      }
    }
    if (availability.kind === 'pending') return;
    for (const w of this.#waiters) {
      if (availability.kind === 'ready') w.go();
      else w.fail(availability.reason);
    }
    this.#waiters.clear();
  }

  tap(listener: Tap): () => void {
    this.#taps.add(listener);
    return () => this.#taps.delete(listener);
  }

  /** Sends a request to the child on behalf of `caller`; resolves with the answer under the caller's id. */
  async request(message: JsonRpcRequest, options: RequestOptions = {}): Promise<RouteResult> {
    if (!options.internal) {
      if (message.method === Method.Initialize && this.#initializeResult !== undefined) {
        // A shared child is initialized once, by the gateway; every client gets that same answer.
        return { response: { jsonrpc: '2.0', id: message.id, result: this.#initializeAnswer(message) } };
      }
      const blocked = await this.#whenReady(options.timeoutMs ?? this.requestTimeoutMs);
      if (blocked !== undefined) {
        this.#observe?.(message.method, blocked.kind, 0);
        return { response: errorResponse(message.id, blocked.code, blocked.message), failure: blocked.kind };
      }
      if (message.method === Method.Initialize && this.#initializeResult !== undefined) {
        return { response: { jsonrpc: '2.0', id: message.id, result: this.#initializeAnswer(message) } };
      }
      if (options.caller !== undefined && (message.method === ResourceMethod.Subscribe || message.method === ResourceMethod.Unsubscribe)) {
        return this.#subscription(message, options.caller, options);
      }
      if (!(await this.slots.take())) {
        this.#observe?.(message.method, 'busy', this.slots.queueTimeoutMs / 1000);
        return {
          response: errorResponse(message.id, ErrorCode.ServerUnavailable, `server "${this.server}" is busy: ${this.slots.max} requests in flight; try again`),
          failure: 'busy',
        };
      }
      try {
        return await this.#send(message, options);
      } finally {
        this.slots.release();
      }
    }
    return this.#send(message, options);
  }

  /**
   * The kept InitializeResult, speaking the client's revision when the gateway knows it too: the
   * revisions differ in additions a client of an older one ignores, and a client that is refused its
   * revision often gives up.
   */
  #initializeAnswer(message: JsonRpcRequest): Record<string, unknown> {
    const result = this.#initializeResult!;
    const asked = message.params?.protocolVersion;
    if (typeof asked !== 'string' || asked === result.protocolVersion || !SUPPORTED_PROTOCOL_VERSIONS.includes(asked)) return result;
    return { ...result, protocolVersion: asked };
  }

  /**
   * resources/subscribe and unsubscribe, ref-counted across callers: the child hears the first subscribe
   * and the last unsubscribe of a URI; the others are answered here.
   */
  async #subscription(message: JsonRpcRequest, caller: Caller, options: RequestOptions): Promise<RouteResult> {
    const uri = message.params?.uri;
    if (typeof uri !== 'string') return this.#send(message, options);
    const set = this.#subscriptions.get(uri);
    const ok: RouteResult = { response: { jsonrpc: '2.0', id: message.id, result: {} } };
    if (message.method === ResourceMethod.Subscribe) {
      if (set !== undefined) {
        set.add(caller);
        return ok;
      }
      const result = await this.#send(message, options);
      // Only connected callers (sessions) hold subscriptions: they are told of updates, and their
      // disconnect lets the subscription go. One that left while this was in flight holds none.
      if (!('error' in result.response) && this.#connected.has(caller)) {
        const now = this.#subscriptions.get(uri);
        if (now === undefined) this.#subscriptions.set(uri, new Set([caller]));
        else now.add(caller);
      }
      return result;
    }
    if (set === undefined || !set.delete(caller)) return ok;
    if (set.size > 0) return ok;
    this.#subscriptions.delete(uri);
    return this.#send(message, options);
  }

  /** Gives up on every request of `caller` still in flight (its session ended); the child hears cancels. */
  cancelAll(caller: Caller, reason: string): void {
    for (const [gid, p] of this.#pending) if (p.caller === caller) this.#abandon(gid, 'cancelled', reason);
  }

  /**
   * Sends a notification; false when there is no child to take it. A client's `initialized` is absorbed
   * (the gateway sent its own); a client's cancel is rewritten to the id the child knows.
   */
  notify(message: JsonRpcNotification, caller?: Caller): boolean {
    if (this.#stdin === undefined) return false;
    if (caller !== undefined && message.method === Method.Initialized) return true;
    if (message.method === Method.Cancelled) {
      const gid = this.#findPending(caller, message.params?.requestId);
      if (gid === undefined) return true; // already answered, or never ours: nothing for the child to cancel
      // The child will not answer a cancelled request (the spec says so): settle it here.
      const p = this.#pending.get(gid)!;
      this.#settle(gid, p, errorResponse(p.originalId, ErrorCode.RequestCancelled, 'cancelled by the client'), 'cancelled');
      message = { ...message, params: { ...message.params, requestId: gid } };
    }
    this.#write(message);
    return true;
  }

  #send(message: JsonRpcRequest, options: RequestOptions): Promise<RouteResult> {
    if (this.#stdin === undefined) {
      return Promise.resolve({
        response: errorResponse(message.id, ErrorCode.ServerUnavailable, `server "${this.server}" is not running`),
        failure: 'unavailable',
      });
    }
    const gid = this.#nextId++;
    let params = message.params;
    const meta = params?._meta as Record<string, unknown> | undefined;
    const progressToken = meta?.progressToken as string | number | undefined;
    if (progressToken !== undefined) params = { ...params, _meta: { ...meta, progressToken: gid } };
    const outgoing = { jsonrpc: '2.0', id: gid, method: message.method, params };

    return new Promise<RouteResult>((resolve) => {
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const timer = setTimeout(() => this.#abandon(gid, 'timeout', `request timed out after ${timeoutMs}ms`), timeoutMs);
      const detachAbort = options.onGone?.(() => this.#abandon(gid, 'cancelled', 'the client went away'));
      if (options.caller !== undefined) this.#callerPending++;
      this.#pending.set(gid, { caller: options.caller, method: message.method, started: performance.now(), originalId: message.id, progressToken, resolve, timer, detachAbort });
      this.#write(outgoing);
    });
  }

  /** Gives up on a request the child has not answered: answers the caller and tells the child. */
  #abandon(gid: number, kind: 'timeout' | 'cancelled', reason: string): void {
    const p = this.#pending.get(gid);
    if (p === undefined) return;
    const code = kind === 'timeout' ? ErrorCode.RequestTimeout : ErrorCode.RequestCancelled;
    this.#settle(gid, p, errorResponse(p.originalId, code, `server "${this.server}": ${reason}`), kind);
    this.#write({ jsonrpc: '2.0', method: Method.Cancelled, params: { requestId: gid, reason } });
  }

  #settle(gid: number, p: Pending, response: JsonRpcResponse, failure?: FailureKind): void {
    this.#pending.delete(gid);
    if (p.caller !== undefined) this.#callerPending--;
    if (p.caller !== undefined) this.#observe?.(p.method, failure ?? ('error' in response ? 'error' : 'ok'), (performance.now() - p.started) / 1000);
    clearTimeout(p.timer);
    p.detachAbort?.();
    p.resolve(failure === undefined ? { response } : { response, failure });
  }

  #whenReady(timeoutMs: number): Promise<{ kind: FailureKind; code: number; message: string } | undefined> {
    const a = this.#availability;
    if (a.kind === 'ready') return Promise.resolve(undefined);
    const down = (reason: string) => ({ kind: 'unavailable' as const, code: ErrorCode.ServerUnavailable, message: `server "${this.server}" is not running: ${reason}` });
    if (a.kind === 'down') return Promise.resolve(down(a.reason));
    // Starting (a slow first `npx`, a restart): wait, bounded by the request's own timeout.
    return new Promise((resolve) => {
      const waiter: Waiter = {
        go: () => {
          clearTimeout(timer);
          resolve(undefined);
        },
        fail: (reason) => {
          clearTimeout(timer);
          resolve(down(reason));
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve({ kind: 'timeout', code: ErrorCode.RequestTimeout, message: `server "${this.server}" did not become ready within ${timeoutMs}ms` });
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  #findPending(caller: Caller | undefined, requestId: unknown): number | undefined {
    if (requestId === undefined) return undefined;
    for (const [gid, p] of this.#pending) {
      if (p.caller === caller && p.originalId === requestId) return gid;
    }
    return undefined;
  }

  #write(message: object): void {
    const stdin = this.#stdin;
    if (stdin === undefined) return;
    // Messages written in the same tick leave in one write(2): under load that halves the syscalls.
    if (stdin.writableCorked === 0) {
      stdin.cork();
      process.nextTick(() => stdin.uncork());
    }
    stdin.write(JSON.stringify(message) + '\n');
  }

  #onLine(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.#log.warn({ server: this.server, line: line.slice(0, 200) }, 'child wrote a non-JSON line on stdout; ignored');
      return;
    }
    const checked = checkMessage(parsed);
    if ('reason' in checked) {
      this.#log.warn({ server: this.server, reason: checked.reason }, 'child wrote an invalid JSON-RPC message; ignored');
      return;
    }
    const m = checked.message;
    if ('method' in m) {
      if (isRequest(m)) this.#onChildRequest(m);
      else this.#onChildNotification(m);
    } else {
      this.#onChildResponse(m);
    }
  }

  #onOversize(o: Oversize): void {
    // The id is near the start of a response as children write them: answer that request, if it is ours.
    const id = /"id"\s*:\s*(\d+)/.exec(o.head.toString('utf8'))?.[1];
    const gid = id === undefined ? undefined : Number(id);
    const p = gid === undefined ? undefined : this.#pending.get(gid);
    this.#log.error({ server: this.server, bytes: o.bytes, limit: MAX_MESSAGE_BYTES, answered: p !== undefined }, 'child sent a message over the size limit; dropped');
    if (gid !== undefined && p !== undefined) {
      this.#settle(gid, p, errorResponse(p.originalId, ErrorCode.InternalError, `server "${this.server}" answered with ${o.bytes} bytes, over the gateway's limit of ${MAX_MESSAGE_BYTES}`));
    }
  }

  #onChildResponse(m: JsonRpcResponse): void {
    const gid = typeof m.id === 'number' ? m.id : undefined;
    const p = gid === undefined ? undefined : this.#pending.get(gid);
    if (gid === undefined || p === undefined) {
      this.#log.debug({ server: this.server, id: m.id }, 'response for no pending request (late or unknown); dropped');
      return;
    }
    const restored = { ...m, id: p.originalId };
    this.#settle(gid, p, restored);
    this.#emit(restored, p.caller?.id);
  }

  #onChildNotification(m: JsonRpcNotification): void {
    if (m.method === Method.Progress) {
      const token = m.params?.progressToken;
      const gid = typeof token === 'number' ? token : undefined;
      const p = gid === undefined ? undefined : this.#pending.get(gid);
      if (p === undefined || p.progressToken === undefined) return; // progress for a request already answered
      const restored: JsonRpcNotification = { ...m, params: { ...m.params, progressToken: p.progressToken } };
      p.caller?.onNotification?.(restored, p.originalId);
      this.#emit(restored, p.caller?.id);
      return;
    }
    if (m.method === ResourceMethod.Updated) {
      const uri = m.params?.uri;
      for (const c of (typeof uri === 'string' ? this.#subscriptions.get(uri) : undefined) ?? []) c.onNotification?.(m);
    } else {
      for (const c of this.#connected) c.onNotification?.(m);
    }
    this.#emit(m, undefined);
  }

  #onChildRequest(m: JsonRpcRequest): void {
    if (m.method === Method.Ping) {
      this.#write({ jsonrpc: '2.0', id: m.id, result: {} });
      return;
    }
    const route = chooseRecipient(m.method, { exclusive: this.#exclusive, offered: this.#offered, connected: this.#connected, pending: this.#pending.values() });
    if ('refusal' in route) {
      // Nobody can answer: say so at once, so the child never waits for an answer that cannot come.
      this.#write(errorResponse(m.id, ErrorCode.MethodNotFound, `mcp-gateway: ${route.refusal}`));
      return;
    }
    const stdin = this.#stdin;
    void route.caller.onRequest!(m, route.relatedId).then((answer) => {
      if (this.#stdin === stdin) this.#write({ ...answer, id: m.id }); // not to a new process after a restart
    });
  }

  #emit(message: JsonRpcMessage, callerId: string | undefined): void {
    for (const tap of this.#taps) tap(message, callerId);
  }
}
