// The message router: one per server, the only writer to its child's stdin. It gives every request a
// gateway-unique id (and progress token) on the way in and restores the caller's own on the way out, so
// callers that share a child never see each other's answers. It never rejects: every request resolves
// with a JSON-RPC response, and `failure` says when the gateway (not the child) made that answer.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log.ts';
import {
  ErrorCode,
  Method,
  checkMessage,
  errorResponse,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.ts';
import { LineSplitter } from './framing.ts';

/** Why the gateway answered in the child's place. Faces map these to HTTP statuses. */
export type FailureKind = 'unavailable' | 'timeout' | 'closed' | 'cancelled';

export interface RouteResult {
  readonly response: JsonRpcResponse;
  readonly failure?: FailureKind;
}

/** Someone who sends requests through the router: an HTTP request, a session, the gateway itself. */
export interface Caller {
  readonly id: string;
  /** Notifications addressed to this caller only (progress for its requests). */
  onNotification?(message: JsonRpcNotification): void;
}

export interface RequestOptions {
  caller?: Caller;
  timeoutMs?: number;
  /** Aborting (a client that went away) answers `cancelled` and tells the child with notifications/cancelled. */
  signal?: AbortSignal;
  /** The gateway's own handshake: sent even before the child is ready, never answered from the cache. */
  internal?: boolean;
}

/** Whether requests can go to the child now, may wait for it, or fail at once. Set by the supervisor. */
export type Availability = { kind: 'ready' } | { kind: 'pending' } | { kind: 'down'; reason: string };

/** Observers see every message of the child (ids and tokens already restored) and say who it was for. */
export type Tap = (message: JsonRpcMessage, callerId: string | undefined) => void;

interface Pending {
  readonly caller: Caller | undefined;
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
}

export class Router {
  readonly server: string;
  readonly #log: Logger;
  requestTimeoutMs: number;

  readonly #pending = new Map<number, Pending>();
  readonly #taps = new Set<Tap>();
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
  }

  get inFlight(): number {
    return this.#pending.size;
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
    const splitter = new LineSplitter();
    const onData = (chunk: Buffer): void => splitter.push(chunk, (line) => this.#onLine(line));
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
        return { response: { jsonrpc: '2.0', id: message.id, result: this.#initializeResult } };
      }
      const blocked = await this.#whenReady(options.timeoutMs ?? this.requestTimeoutMs);
      if (blocked !== undefined) return { response: errorResponse(message.id, blocked.code, blocked.message), failure: blocked.kind };
      if (message.method === Method.Initialize && this.#initializeResult !== undefined) {
        return { response: { jsonrpc: '2.0', id: message.id, result: this.#initializeResult } };
      }
    }
    return this.#send(message, options);
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
      let detachAbort: (() => void) | undefined;
      const signal = options.signal;
      if (signal !== undefined) {
        const onAbort = (): void => this.#abandon(gid, 'cancelled', 'the client went away');
        signal.addEventListener('abort', onAbort, { once: true });
        detachAbort = () => signal.removeEventListener('abort', onAbort);
      }
      this.#pending.set(gid, { caller: options.caller, originalId: message.id, progressToken, resolve, timer, detachAbort });
      this.#write(outgoing);
      if (signal?.aborted) this.#abandon(gid, 'cancelled', 'the client went away');
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
    this.#stdin?.write(JSON.stringify(message) + '\n');
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
      if ('id' in m && m.id !== undefined) this.#onChildRequest(m as JsonRpcRequest);
      else this.#onChildNotification(m);
    } else {
      this.#onChildResponse(m);
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
      p.caller?.onNotification?.(restored);
      this.#emit(restored, p.caller?.id);
      return;
    }
    this.#emit(m, undefined);
  }

  #onChildRequest(m: JsonRpcRequest): void {
    if (m.method === Method.Ping) {
      this.#write({ jsonrpc: '2.0', id: m.id, result: {} });
      return;
    }
    // The gateway declared no client capabilities, so there is no one to ask: say so at once.
    this.#write(errorResponse(m.id, ErrorCode.MethodNotFound, `the gateway does not offer "${m.method}" to servers`));
  }

  #emit(message: JsonRpcMessage, callerId: string | undefined): void {
    for (const tap of this.#taps) tap(message, callerId);
  }
}
