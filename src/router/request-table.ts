// The request lifecycle, one table per child (the SDK's protocol.ts is the model): every caller's request
// has one owner here from arrival to answer. A request is queued (for the child's readiness, then for a
// maxInFlight slot), then sent (under a gateway id from the one counter), then settled exactly once:
// answered by the child, answered here, cancelled, timed out, or closed with the child. A client that
// leaves takes its request out in any state: queued, it is never written to the child; sent, the child
// hears a notifications/cancelled. Progress restarts a sent request's timeout, never past its cap.
import {
  ErrorCode,
  Method,
  errorResponse,
  type JsonRpcId,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.ts';
import { Slots } from './slots.ts';
import type { Availability, Caller, FailureKind, Observer, RequestOptions, RouteResult } from './types.ts';

/**
 * A child process the table writes to. A router has one current child, and during a rollout also the
 * new one being provisioned and old ones draining: a sent request stays with the child it went to
 * (its answer, its cancel), and a child's count of open requests says when it has drained.
 */
export interface Destination {
  /** Requests sent to this child and not settled (the gateway's own included). */
  open: number;
  /** Called each time `open` drops to 0. */
  onDrained: (() => void) | undefined;
}

/** Where a request is: not yet placed, in a queue, on the child, or over. */
export type Phase = 'new' | 'readiness' | 'slot' | 'sent' | 'settled';

/** One request of a caller, from arrival to answer. Only the table changes it. */
export class Pending {
  readonly method: string;
  /** The caller's own id, restored on the answer. */
  readonly originalId: JsonRpcId;
  /**
   * The request as the caller sent it, held only until it is written to the child: a long call does
   * not keep its params alive (and promoted to the old generation) while the child works on it.
   */
  message: JsonRpcRequest | undefined;
  phase: Phase = 'new';
  /** The id the child knows, from the moment it is sent. */
  gid: number | undefined = undefined;
  /** The child it was sent to. */
  to: Destination | undefined = undefined;
  /** The caller's progress token, while the child knows it as `gid`. */
  progressToken: string | number | undefined = undefined;
  /** One timer at a time: readiness wait, slot wait, or the answer's timeout. */
  timer: NodeJS.Timeout | undefined = undefined;
  holdsSlot = false;
  /** The request's size while it waits in a line (counted against MAX_QUEUED_BYTES); 0 otherwise. */
  queuedBytes = 0;
  sentAt = 0;
  /** The running timer ends at the cap (sentAt + capMs): no later progress moves it. */
  capped = false;
  progressed = false;
  /** Takes the onGone listener off again. */
  undo: (() => void) | undefined = undefined;

  constructor(
    message: JsonRpcRequest,
    readonly caller: Caller | undefined,
    readonly timeoutMs: number,
    /** The most a sent request may take, however much progress it reports (>= timeoutMs). */
    readonly capMs: number,
    readonly resolve: (result: RouteResult) => void,
  ) {
    this.method = message.method;
    this.originalId = message.id;
    this.message = message;
  }
}

/** What the table needs of its router. */
export interface TableHost {
  readonly server: string;
  /** The child new requests go to; undefined when none is attached. */
  current(): Destination | undefined;
  /** Writes one message to that child's stdin (nothing once it is detached). */
  write(message: object, to: Destination): void;
  /**
   * The child is ready for this request: the router answers it here (a cached initialize, a counted
   * subscription), sends it (`send`), or sends it once a slot is free (`sendWhenSlotFree`).
   */
  dispatch(request: Pending): void;
  /** Bytes written to the child's stdin and not yet taken by it. */
  backlog(): number;
  /** A request waits while the server is idle: start its child. */
  wake(): void;
  /** What an idle server answers without its child (its last child's lists), if this request is one of those. */
  answerWhileIdle(request: Pending): JsonRpcResponse | undefined;
  readonly observe: Observer | undefined;
}

const DOWN: Availability = { kind: 'down', reason: 'not started' };

/**
 * What may wait for one child (for readiness or a slot): a line without bound lets one client with a key
 * fill the heap with queued request bodies (4 MiB each). Past either bound a request is refused at once
 * (`busy`, 503), as one waiting past queueTimeout is.
 */
export const MAX_QUEUED_REQUESTS = 1024;
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/**
 * Bytes written to the child's stdin that it has not read yet. A child that stops reading would make
 * every request sent to it pile up in the gateway's heap; past this, requests are refused (`busy`).
 */
export const MAX_STDIN_BACKLOG_BYTES = 16 * 1024 * 1024;

export class RequestTable {
  /** maxInFlight and queueTimeout: the supervisor sets them from the spec, also on reload. */
  readonly slots: Slots<Pending>;
  requestTimeoutMs: number;
  /** The cap on a request whose progress keeps restarting its timeout (never below requestTimeoutMs). */
  requestTimeoutMaxMs: number;

  /** Sent requests, by the id the child knows. */
  readonly #sent = new Map<number, Pending>();
  /** Requests waiting for the child to be ready, in arrival order. */
  readonly #readiness = new Set<Pending>();
  readonly #host: TableHost;
  #nextId = 1;
  #callersSent = 0;
  /** Bytes of the requests waiting in either line. */
  #queuedBytes = 0;
  #availability: Availability = DOWN;
  /**
   * The least a request waits for the child to become ready: its start may take startTimeout (an idle
   * server woken by this very request), whatever the request's own timeout.
   */
  readinessTimeoutMs = 0;
  /** When a caller's request last arrived or ended (performance.now()): how long the child has been unused. */
  lastActivityAt = performance.now();

  constructor(host: TableHost, options: { requestTimeoutMs: number; requestTimeoutMaxMs?: number; maxInFlight?: number; queueTimeoutMs?: number }) {
    this.#host = host;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.requestTimeoutMaxMs = options.requestTimeoutMaxMs ?? options.requestTimeoutMs;
    this.slots = new Slots<Pending>(options.maxInFlight ?? Infinity, options.queueTimeoutMs ?? 0, this.#granted);
  }

  /** The next id of the child's one id counter (also for the router's own requests). */
  mintId(): number {
    return this.#nextId++;
  }

  /** Callers' requests on the child (the gateway's own are not counted). */
  get inFlight(): number {
    return this.#callersSent;
  }

  /** Requests waiting for readiness or for a slot. */
  get queued(): number {
    return this.#readiness.size + this.slots.waiting;
  }

  /** Requests on the child now. */
  sentRequests(): IterableIterator<Pending> {
    return this.#sent.values();
  }

  /** The sent request the child knows as `gid`. */
  sent(gid: number): Pending | undefined {
    return this.#sent.get(gid);
  }

  /**
   * A request arrives. `internal` (the gateway's own handshake) goes to the child at once; any other
   * waits for readiness and is then dispatched. Resolves once, with the answer under the caller's id.
   */
  admit(message: JsonRpcRequest, options: RequestOptions & { to?: Destination }): Promise<RouteResult> {
    if (!options.internal) this.lastActivityAt = performance.now();
    return new Promise<RouteResult>((resolve) => {
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const r = new Pending(message, options.caller, timeoutMs, Math.max(timeoutMs, this.requestTimeoutMaxMs), resolve);
      if (options.onGone !== undefined) {
        const undo = options.onGone(() => this.#giveUp(r, 'cancelled', `server "${this.#host.server}": the client went away`));
        if (r.phase === 'settled') return undo(); // gone already, while being registered
        r.undo = undo;
      }
      if (options.internal) this.send(r, options.to);
      else this.#whenReady(r);
    });
  }

  /** The router's availability; `ready` dispatches those waiting, `down` fails them. */
  setAvailability(availability: Availability): void {
    this.#availability = availability;
    if (availability.kind === 'pending') return;
    if (availability.kind === 'idle') {
      // Requests that came while it was being stopped: what the kept answers cover is answered now (a client
      // listing again would otherwise start the child it just stopped); the rest starts it.
      for (const r of this.#readiness) {
        const known = this.#host.answerWhileIdle(r);
        if (known === undefined) continue;
        this.#readiness.delete(r);
        this.#dequeued(r);
        r.phase = 'new';
        clearTimeout(r.timer);
        this.answerHere(r, known);
      }
      if (this.#readiness.size > 0) this.#host.wake();
      return;
    }
    for (const r of this.#readiness) {
      this.#readiness.delete(r);
      this.#dequeued(r);
      r.phase = 'new';
      clearTimeout(r.timer);
      if (availability.kind === 'ready') this.#host.dispatch(r);
      else this.#settle(r, this.#down(r, availability.reason), 'unavailable');
    }
  }

  /** A child is gone (`to`, or every one): its sent requests are answered `closed`, at once. Queued ones wait on. */
  detach(reason: string, to?: Destination): void {
    for (const r of this.#sent.values()) {
      if (to !== undefined && r.to !== to) continue;
      this.#settle(r, errorResponse(r.originalId, ErrorCode.ConnectionClosed, `server "${this.#host.server}" ${reason}`), 'closed');
    }
  }

  /** Answers a request without the child (a cached initialize, a ref-counted subscription). */
  answerHere(r: Pending, response: JsonRpcResponse): void {
    this.#settle(r, response, undefined, false);
  }

  /** The child's answer (its id already restored), or an error in its place. */
  answer(r: Pending, response: JsonRpcResponse): void {
    this.#settle(r, response);
  }

  /** Takes a maxInFlight slot, waiting in line up to queueTimeoutMs, then sends. */
  sendWhenSlotFree(r: Pending): void {
    if (this.slots.take(r)) {
      r.holdsSlot = true;
      this.send(r);
      return;
    }
    const full = this.#enqueue(r);
    if (full !== undefined) {
      this.slots.leave(r);
      return this.#busy(r, `${this.slots.max} requests in flight, and ${full}`);
    }
    r.phase = 'slot';
    r.timer = setTimeout(this.#onQueueTimeout, this.slots.queueTimeoutMs, r);
  }

  /** Writes the request to the child (`to`, or the current one) under a fresh id (and progress token), and starts its timeout. */
  send(r: Pending, to: Destination | undefined = this.#host.current()): void {
    if (to === undefined) {
      this.#settle(r, errorResponse(r.originalId, ErrorCode.ServerUnavailable, `server "${this.#host.server}" is not running`), 'unavailable');
      return;
    }
    if (r.caller !== undefined && this.#host.backlog() > MAX_STDIN_BACKLOG_BYTES) {
      this.#busy(r, `it has not read the last ${this.#host.backlog()} bytes sent to it`);
      return;
    }
    const m = r.message!;
    r.message = undefined;
    const gid = this.#nextId++;
    let params = m.params;
    const meta = params?._meta as Record<string, unknown> | undefined;
    const token = meta?.progressToken as string | number | undefined;
    if (token !== undefined) params = { ...params, _meta: { ...meta, progressToken: gid } };
    r.gid = gid;
    r.to = to;
    to.open++;
    r.progressToken = token;
    r.phase = 'sent';
    r.sentAt = performance.now();
    r.capped = r.capMs <= r.timeoutMs;
    r.timer = setTimeout(this.#onTimeout, r.capped ? r.capMs : r.timeoutMs, r);
    this.#sent.set(gid, r);
    if (r.caller !== undefined) this.#callersSent++;
    try {
      this.#host.write({ jsonrpc: '2.0', id: gid, method: m.method, params }, to);
    } catch (err) {
      // Valid JSON that cannot be written again (nested deeper than the stack allows): refused here,
      // its place in the table and its slot given back.
      this.#settle(r, errorResponse(r.originalId, ErrorCode.InvalidRequest, `Invalid Request: the request cannot be forwarded (${(err as Error).message})`));
    }
  }

  /**
   * Progress from the child for the request it knows as `gid`: restarts its timeout, but never past
   * its cap. Returns the request when its caller asked for progress (and should hear it).
   */
  progress(gid: number): Pending | undefined {
    const r = this.#sent.get(gid);
    if (r === undefined || r.progressToken === undefined) return undefined;
    r.progressed = true;
    this.#restartTimer(r);
    return r;
  }

  /**
   * The caller's requests on the child are alive again (a 2026 call its client continued with a retry,
   * after a round that waited for the client): their timeouts restart, never past their cap.
   */
  restartTimers(caller: Caller): void {
    for (const r of this.#sent.values()) if (r.caller === caller) this.#restartTimer(r);
  }

  #restartTimer(r: Pending): void {
    if (r.capped) return; // the last timer runs to the cap
    const left = r.sentAt + r.capMs - performance.now();
    if (left > r.timeoutMs) r.timer!.refresh();
    else {
      clearTimeout(r.timer);
      r.capped = true;
      r.timer = setTimeout(this.#onTimeout, Math.max(0, left), r);
    }
  }

  /** The caller's request named `requestId` (a client's cancel names it so), in any state. */
  find(caller: Caller | undefined, requestId: unknown): Pending | undefined {
    if (requestId === undefined) return undefined;
    for (const r of this.#sent.values()) if (r.caller === caller && r.originalId === requestId) return r;
    for (const r of this.#readiness) if (r.caller === caller && r.originalId === requestId) return r;
    for (const r of this.slots.waiters()) if (r.caller === caller && r.originalId === requestId) return r;
    return undefined;
  }

  /**
   * The client cancelled `r`. Queued, it just leaves; sent, the child hears the client's cancel under
   * the id it knows (`params` are the client's own, reason included).
   */
  cancelByClient(r: Pending, params: Record<string, unknown> | undefined): void {
    this.#giveUp(r, 'cancelled', 'cancelled by the client', params);
  }

  /** Gives up every request of `caller` (its session ended), in any state; the child hears cancels. */
  cancelAll(caller: Caller, reason: string): void {
    // Queued ones first: a slot freed by a sent one must not go to a request about to be cancelled.
    for (const r of this.#readiness) if (r.caller === caller) this.#giveUp(r, 'cancelled', reason);
    for (const r of this.slots.waiters()) if (r.caller === caller) this.#giveUp(r, 'cancelled', reason);
    for (const r of this.#sent.values()) if (r.caller === caller) this.#giveUp(r, 'cancelled', reason);
  }

  /** Waits for the child to be ready (bounded by the request's timeout), then dispatches. */
  #whenReady(r: Pending): void {
    const a = this.#availability;
    if (a.kind === 'ready') return this.#host.dispatch(r);
    if (a.kind === 'down') return this.#settle(r, this.#down(r, a.reason), 'unavailable');
    // Starting (a slow first `npx`, a restart, an idle server woken by this request): wait.
    const full = this.#enqueue(r);
    if (full !== undefined) return this.#busy(r, `it is starting, and ${full}`);
    r.phase = 'readiness';
    r.timer = setTimeout(this.#onReadinessTimeout, Math.max(r.timeoutMs, this.readinessTimeoutMs), r);
    this.#readiness.add(r);
    if (a.kind === 'idle') this.#host.wake();
  }

  /** A slot came free for `r` (Slots calls this): send it, unless the child stopped being ready meanwhile. */
  readonly #granted = (r: Pending): void => {
    clearTimeout(r.timer);
    this.#dequeued(r);
    r.phase = 'new';
    r.holdsSlot = true;
    if (this.#availability.kind === 'pending' || this.#availability.kind === 'idle') {
      // A restart under way: wait for the new process (without holding a slot meanwhile).
      r.holdsSlot = false;
      this.slots.release();
      this.#whenReady(r);
    } else if (this.#availability.kind === 'down') {
      this.#settle(r, this.#down(r, this.#availability.reason), 'unavailable');
    } else {
      this.send(r);
    }
  };

  /** Gives a request up: answers its caller; a sent one is cancelled at the child too. */
  #giveUp(r: Pending, kind: 'timeout' | 'cancelled', reason: string, params?: Record<string, unknown>): void {
    if (r.phase === 'settled') return;
    // The cancel goes out before the slot is handed on: the child never runs more than max at once.
    if (r.phase === 'sent') this.#host.write({ jsonrpc: '2.0', method: Method.Cancelled, params: { ...params, requestId: r.gid, reason: params?.reason ?? reason } }, r.to!);
    const code = kind === 'timeout' ? ErrorCode.RequestTimeout : ErrorCode.RequestCancelled;
    this.#settle(r, errorResponse(r.originalId, code, reason), kind);
  }

  /** The one way out: takes `r` out of wherever it is, stops its timer and listener, answers once. */
  #settle(r: Pending, response: JsonRpcResponse, failure?: FailureKind, observed = true): void {
    const phase = r.phase;
    if (phase === 'settled') return;
    if (phase === 'readiness') this.#readiness.delete(r);
    else if (phase === 'slot') this.slots.leave(r);
    else if (phase === 'sent') {
      this.#sent.delete(r.gid!);
      if (r.caller !== undefined) this.#callersSent--;
      const to = r.to!;
      if (--to.open === 0) to.onDrained?.();
    }
    this.#dequeued(r);
    r.phase = 'settled';
    clearTimeout(r.timer);
    if (r.caller !== undefined) this.lastActivityAt = performance.now();
    r.undo?.();
    const observe = this.#host.observe;
    if (observe !== undefined && observed && r.caller !== undefined) {
      const seconds = phase === 'sent' ? (performance.now() - r.sentAt) / 1000 : failure === 'busy' ? this.slots.queueTimeoutMs / 1000 : 0;
      observe(r.method, failure ?? ('error' in response ? 'error' : 'ok'), seconds);
    }
    r.resolve(failure === undefined ? { response } : { response, failure });
    if (r.holdsSlot) {
      r.holdsSlot = false;
      this.slots.release();
    }
  }

  /**
   * Counts `r` into the lines; when they are full, says how full instead (the caller refuses it). Sizing
   * a request costs a stringify, paid only by requests that wait anyway, never on the fast path.
   */
  #enqueue(r: Pending): string | undefined {
    let bytes = 0;
    try {
      bytes = r.message === undefined ? 0 : JSON.stringify(r.message).length;
    } catch {
      bytes = Number.POSITIVE_INFINITY; // cannot even be measured: never let it wait
    }
    if (this.queued >= MAX_QUEUED_REQUESTS || this.#queuedBytes + bytes > MAX_QUEUED_BYTES) {
      return `${this.queued} requests (${this.#queuedBytes} bytes) already wait for it`;
    }
    r.queuedBytes = bytes;
    this.#queuedBytes += bytes;
    return undefined;
  }

  #dequeued(r: Pending): void {
    this.#queuedBytes -= r.queuedBytes;
    r.queuedBytes = 0;
  }

  #busy(r: Pending, why: string): void {
    this.#settle(r, errorResponse(r.originalId, ErrorCode.ServerUnavailable, `server "${this.#host.server}" is busy: ${why}; try again`), 'busy');
  }

  #down(r: Pending, reason: string): JsonRpcResponse {
    return errorResponse(r.originalId, ErrorCode.ServerUnavailable, `server "${this.#host.server}" is not running: ${reason}`);
  }

  // Timer callbacks, made once per table (setTimeout passes the request): no closure per request.

  readonly #onReadinessTimeout = (r: Pending): void => {
    this.#settle(r, errorResponse(r.originalId, ErrorCode.RequestTimeout, `server "${this.#host.server}" did not become ready within ${Math.max(r.timeoutMs, this.readinessTimeoutMs)}ms`), 'timeout');
  };

  readonly #onQueueTimeout = (r: Pending): void => {
    const message = `server "${this.#host.server}" is busy: ${this.slots.max} requests in flight; try again`;
    this.#settle(r, errorResponse(r.originalId, ErrorCode.ServerUnavailable, message), 'busy');
  };

  readonly #onTimeout = (r: Pending): void => {
    const server = `server "${this.#host.server}"`;
    let reason: string;
    if (r.capped && r.capMs > r.timeoutMs) {
      reason = `${server}: request timed out after ${r.capMs}ms in all (requestTimeoutMax), although it reported progress`;
    } else if (r.progressed) {
      reason = `${server}: request timed out: no answer or progress for ${r.timeoutMs}ms (requestTimeout)`;
    } else {
      reason = `${server}: request timed out after ${r.timeoutMs}ms (requestTimeout)`;
    }
    this.#giveUp(r, 'timeout', reason);
  };
}
