// The message router: one per server, the only writer to its child's stdin. It gives every request a
// gateway-unique id (and progress token) on the way in and restores the caller's own on the way out, so
// callers that share a child never see each other's answers. It never rejects: every request resolves
// with a JSON-RPC response, and `failure` says when the gateway (not the child) made that answer.
// Each request's lifecycle (queues, timeouts, cancels) is the RequestTable's; the router wires the child,
// reads its messages, and owns what is shared across requests: the initialize answer, subscriptions,
// notifications for every client, and requests the child sends.
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
  isValidId,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.ts';
import { LineSplitter, type Oversize } from './framing.ts';
import { TopLevelKeys } from './top-level-keys.ts';
import { chooseRecipient } from './child-requests.ts';
import { RequestTable, type Destination, type Pending } from './request-table.ts';
import type { Slots } from './slots.ts';
import type { Availability, Caller, KnownLists, Observer, RequestOptions, RouteResult, Tap } from './types.ts';

export type { Availability, Caller, FailureKind, Observer, Outcome, RequestOptions, RouteResult, Tap } from './types.ts';

/**
 * The largest message a child may send. Larger ones are dropped as they arrive (the gateway's heap is
 * bounded, and every client of the child would go down with it); the request they answer gets an error.
 */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** MissingRequiredClientCapabilityError (2026-07-28), what a child hears when a 2026 caller did not declare what it asks. */
const MISSING_CAPABILITY = -32021;

export interface RouterOptions {
  readonly server: string;
  readonly log: Logger;
  requestTimeoutMs: number;
  /**
   * The cap on a request whose progress notifications keep restarting its timeout (the manifest's
   * requestTimeoutMax; never below requestTimeoutMs). Without it, progress does not extend a request.
   */
  requestTimeoutMaxMs?: number;
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
  /** The largest message taken from the child; MAX_MESSAGE_BYTES unless a test needs a smaller one. */
  readonly maxMessageBytes?: number;
}

/**
 * One child process's pipes as the router holds them. Handed out by `add`/`attach`; the supervisor
 * passes it back to say which child it means (promote, drop, sendTo).
 */
export class ChildLink implements Destination {
  open = 0;
  onDrained: (() => void) | undefined = undefined;
  /** When the child last wrote anything to stdout (performance.now()): liveness reads it. */
  lastHeardAt = performance.now();
  constructor(
    readonly stdin: Writable,
    /** Stops reading the child's stdout. */
    readonly stopReading: () => void,
  ) {}
}

export class Router {
  readonly server: string;
  readonly #log: Logger;
  /** Every caller's request from arrival to answer: queues, the pending map, timeouts, cancels. */
  readonly #requests: RequestTable;
  readonly #taps = new Set<Tap>();
  /** Callers that receive notifications meant for every client (MCP sessions). */
  readonly #connected = new Set<Caller>();
  /** resources/subscribe ref-counts: uri → callers subscribed to it. */
  readonly #subscriptions = new Map<string, Set<Caller>>();
  /** First subscribes on the child, awaiting its answer, with their URI (weak: gone with the request). */
  readonly #subscribing = new WeakMap<Pending, string>();
  readonly #exclusive: boolean;
  readonly #offered: ReadonlySet<string>;
  readonly #maxMessageBytes: number;
  /** The child new requests go to. */
  #current: ChildLink | undefined;
  /** Every child whose stdout is read: the current one, one being provisioned, old ones draining. */
  readonly #links = new Set<ChildLink>();
  #initializeResult: Record<string, unknown> | undefined;
  /** While idle: the last child's lists, answered without starting a child (supervisor/idle-lists.ts reads them). */
  #idleLists: KnownLists | undefined;
  /** Called when a request waits on an idle server (availability `idle`): the supervisor starts its child. */
  onWake: (() => void) | undefined;

  constructor(options: RouterOptions) {
    this.server = options.server;
    this.#log = options.log;
    this.#exclusive = options.exclusive ?? false;
    this.#offered = new Set(options.offered ?? []);
    this.#maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    const host = {
      server: this.server,
      current: () => this.#current,
      write: (message: object, to: Destination) => this.#write(message, to as ChildLink),
      dispatch: (r: Pending) => this.#dispatch(r),
      backlog: () => this.#current?.stdin.writableLength ?? 0,
      wake: () => this.onWake?.(),
      answerWhileIdle: (r: Pending) => this.#idleAnswer(r.message, r.originalId),
      observe: options.observe,
    };
    this.#requests = new RequestTable(host, options);
  }

  /** The timeout of a request without progress; the supervisor sets it from the spec, also on reload. */
  get requestTimeoutMs(): number {
    return this.#requests.requestTimeoutMs;
  }

  set requestTimeoutMs(ms: number) {
    this.#requests.requestTimeoutMs = ms;
  }

  /** How long a request may wait for the child to be ready at least (the server's startTimeout). */
  set readinessTimeoutMs(ms: number) {
    this.#requests.readinessTimeoutMs = ms;
  }

  /** The cap on a request that reports progress; set with requestTimeoutMs. */
  get requestTimeoutMaxMs(): number {
    return this.#requests.requestTimeoutMaxMs;
  }

  set requestTimeoutMaxMs(ms: number) {
    this.#requests.requestTimeoutMaxMs = ms;
  }

  /** maxInFlight and queueTimeout: the supervisor sets them from the spec, also on reload. */
  get slots(): Slots<Pending> {
    return this.#requests.slots;
  }

  /** Registers a caller for notifications meant for every client; returns the disconnect. */
  connect(caller: Caller): () => void {
    this.#connected.add(caller);
    return () => {
      this.#connected.delete(caller);
      for (const [uri, set] of this.#subscriptions) {
        if (set.delete(caller) && set.size === 0) {
          this.#subscriptions.delete(uri);
          this.#write({ jsonrpc: '2.0', id: this.#requests.mintId(), method: ResourceMethod.Unsubscribe, params: { uri } });
        }
      }
    };
  }

  /** Resource URIs some connected caller holds a subscription to (the child sends their updates). */
  get subscriptions(): number {
    return this.#subscriptions.size;
  }

  /** Callers' requests sent to the child and not answered yet (the gateway's own handshake is not one). */
  get inFlight(): number {
    return this.#requests.inFlight;
  }

  /** When a caller's request last arrived or ended (performance.now()). */
  get lastActivityAt(): number {
    return this.#requests.lastActivityAt;
  }

  /** Callers' requests not sent yet: waiting for the child to be ready, or for a maxInFlight slot. */
  get queued(): number {
    return this.#requests.queued;
  }

  /** The child's answer to the gateway's own initialize, kept for every client that initializes later. */
  get initializeResult(): Record<string, unknown> | undefined {
    return this.#initializeResult;
  }

  /** Connects a freshly spawned child as the current one. Anything attached before is detached first. */
  attach(stdin: Writable, stdout: Readable): ChildLink {
    this.detach('replaced by a new process');
    const link = this.add(stdin, stdout);
    this.#current = link;
    return link;
  }

  /**
   * Starts reading a child that is not the current one yet (a rollout provisions it beside the running
   * one): its messages are handled as any child's, requests reach it only through `sendTo` until `promote`.
   */
  add(stdin: Writable, stdout: Readable): ChildLink {
    // EPIPE after the child died: the exit path answers pending requests, nothing to do here.
    stdin.on('error', () => {});
    // A message too large to keep still says whom it is for: its top-level id (and whether it is a
    // request), read from its bytes as they are dropped.
    const keys = new TopLevelKeys(['id', 'method']);
    const splitter = new LineSplitter(this.#maxMessageBytes, (bytes) => keys.push(bytes));
    const onLine = (line: string): void => this.#onLine(line, link);
    const onOversize = (o: Oversize): void => {
      this.#onOversize(o, keys, link);
      keys.reset();
    };
    const onData = (chunk: Buffer): void => {
      link.lastHeardAt = performance.now();
      splitter.push(chunk, onLine, onOversize);
    };
    stdout.on('data', onData);
    const link = new ChildLink(stdin, () => stdout.off('data', onData));
    this.#links.add(link);
    return link;
  }

  /**
   * Makes `link` the child new requests go to (the swap of a rollout). Returns the one it replaces, which
   * keeps its sent requests (answers, progress, cancels) until it is dropped.
   */
  promote(link: ChildLink): ChildLink | undefined {
    const previous = this.#current;
    this.#current = link;
    return previous;
  }

  /** A request to one child in particular (a handshake, a list to compare), never answered from the cache. */
  sendTo(link: ChildLink, message: JsonRpcRequest, timeoutMs: number): Promise<RouteResult> {
    if (!this.#links.has(link)) {
      return Promise.resolve({ response: errorResponse(message.id, ErrorCode.ConnectionClosed, `server "${this.server}": that process is gone`), failure: 'closed' });
    }
    return this.#requests.admit(message, { internal: true, timeoutMs, to: link });
  }

  /**
   * One child is gone: its stdout is no longer read, and the requests it had are answered `closed`, at
   * once. When it was the current one, nothing is current until the next attach or promote.
   */
  drop(link: ChildLink, reason: string): void {
    if (!this.#links.delete(link)) return;
    link.stopReading();
    if (this.#current === link) {
      this.#current = undefined;
      this.#initializeResult = undefined;
    }
    this.#requests.detach(reason, link);
  }

  /** Disconnects every child and answers every request in flight with a `closed` error, at once. */
  detach(reason: string): void {
    for (const link of this.#links) link.stopReading();
    this.#links.clear();
    this.#current = undefined;
    this.#initializeResult = undefined;
    this.#requests.detach(reason);
  }

  /** Tells every connected caller (session) something meant for every client, as if the child said it. */
  broadcast(message: JsonRpcNotification): void {
    for (const c of this.#connected) c.onNotification?.(message);
    this.#emit(message, undefined);
  }

  /**
   * `idle` takes the InitializeResult and the lists given as the ones to answer with, none included: the
   * supervisor forgets the last child's when the process it would start differs.
   */
  setAvailability(availability: Availability, initializeResult?: Record<string, unknown>, lists?: KnownLists): void {
    if (initializeResult !== undefined || availability.kind === 'idle') this.#initializeResult = initializeResult;
    this.#idleLists = availability.kind === 'idle' ? lists : undefined;
    if (availability.kind === 'ready') {
      // A new process knows nothing of the old one's subscriptions: renew them for the sessions that hold them.
      for (const uri of this.#subscriptions.keys()) {
        this.#write({ jsonrpc: '2.0', id: this.#requests.mintId(), method: ResourceMethod.Subscribe, params: { uri } });
      }
    }
    this.#requests.setAvailability(availability);
  }

  tap(listener: Tap): () => void {
    this.#taps.add(listener);
    return () => this.#taps.delete(listener);
  }

  /**
   * Sends a request to the child on behalf of `caller`; resolves with the answer under the caller's id.
   * From this call on the request is owned by the lifecycle table: `onGone` takes it out in any state.
   */
  request(message: JsonRpcRequest, options: RequestOptions = {}): Promise<RouteResult> {
    if (!options.internal && message.method === Method.Initialize && this.#initializeResult !== undefined) {
      // A shared child is initialized once, by the gateway; every client gets that same answer.
      return Promise.resolve({ response: { jsonrpc: '2.0', id: message.id, result: this.#initializeAnswer(message) } });
    }
    const known = options.internal ? undefined : this.#idleAnswer(message, message.id);
    if (known !== undefined) return Promise.resolve({ response: known });
    return this.#requests.admit(message, options);
  }

  /** While idle: the first page of a list the last child gave (the whole list), under `id`. */
  #idleAnswer(message: JsonRpcRequest | undefined, id: JsonRpcId): JsonRpcResponse | undefined {
    const lists = this.#idleLists; // undefined unless idle: the hot path stops here
    if (lists === undefined || message === undefined || message.params?.cursor !== undefined) return undefined;
    const known = lists.get(message.method);
    return known === undefined ? undefined : ({ jsonrpc: '2.0', id, ...known } as JsonRpcResponse);
  }

  /** The child is ready for `r` (at once, or after a wait): answer it here, or send it. */
  #dispatch(r: Pending): void {
    const m = r.message!; // not sent yet: the table still holds it
    if (m.method === Method.Initialize && this.#initializeResult !== undefined) {
      this.#requests.answerHere(r, { jsonrpc: '2.0', id: m.id, result: this.#initializeAnswer(m) });
    } else if (r.caller !== undefined && (m.method === ResourceMethod.Subscribe || m.method === ResourceMethod.Unsubscribe)) {
      this.#subscription(r, r.caller);
    } else {
      this.#requests.sendWhenSlotFree(r);
    }
  }

  /**
   * The kept InitializeResult, in the revision the child negotiated, or the client's own when that is
   * older and the gateway speaks it too (revisions add; a newer child's messages read as the older one).
   * Never a revision newer than the child's: the client would use what the child does not know.
   */
  #initializeAnswer(message: JsonRpcRequest): Record<string, unknown> {
    const result = this.#initializeResult!;
    const asked = message.params?.protocolVersion;
    const child = result.protocolVersion;
    if (typeof asked !== 'string' || typeof child !== 'string' || asked >= child || !SUPPORTED_PROTOCOL_VERSIONS.includes(asked)) return result;
    return { ...result, protocolVersion: asked };
  }

  /**
   * resources/subscribe and unsubscribe, ref-counted across callers: the child hears the first subscribe
   * and the last unsubscribe of a URI; the others are answered here. Neither takes a maxInFlight slot.
   */
  #subscription(r: Pending, caller: Caller): void {
    const uri = r.message!.params?.uri;
    if (typeof uri !== 'string') return this.#requests.send(r);
    const set = this.#subscriptions.get(uri);
    const ok: JsonRpcResponse = { jsonrpc: '2.0', id: r.originalId, result: {} };
    if (r.method === ResourceMethod.Subscribe) {
      if (set !== undefined) {
        if (this.#connected.has(caller)) set.add(caller);
        return this.#requests.answerHere(r, ok);
      }
      this.#subscribing.set(r, uri); // counted once the child accepts it (#onChildResponse)
      return this.#requests.send(r);
    }
    if (set === undefined || !set.delete(caller) || set.size > 0) return this.#requests.answerHere(r, ok);
    this.#subscriptions.delete(uri);
    this.#requests.send(r);
  }

  /** Restarts the timeouts of `caller`'s requests on the child (up to their cap): they are alive. */
  restartTimers(caller: Caller): void {
    this.#requests.restartTimers(caller);
  }

  /** Gives up on every request of `caller`, queued or sent (its session ended); the child hears cancels. */
  cancelAll(caller: Caller, reason: string): void {
    this.#requests.cancelAll(caller, reason);
  }

  /**
   * Sends a notification; false when there is no child to take it. A client's `initialized` is absorbed
   * (the gateway sent its own); a client's cancel takes its request out of the queue, or is rewritten to
   * the id the child knows.
   */
  notify(message: JsonRpcNotification, caller?: Caller): boolean {
    if (message.method === Method.Cancelled) {
      const r = this.#requests.find(caller, message.params?.requestId);
      // The child will not answer a cancelled request (the spec says so): it is answered here.
      if (r !== undefined) {
        this.#requests.cancelByClient(r, message.params);
        return true;
      }
      // Already answered, or never ours: nothing for the child to cancel.
      return this.#current !== undefined;
    }
    if (this.#current === undefined) return false;
    if (caller !== undefined && message.method === Method.Initialized) return true;
    this.#write(message);
    return true;
  }

  /** Writes to `to` (default: the current child) while it is attached; nothing once it is dropped. */
  #write(message: object, to: ChildLink | undefined = this.#current): void {
    if (to === undefined || !this.#links.has(to)) return;
    const stdin = to.stdin;
    // Messages written in the same tick leave in one write(2): under load that halves the syscalls.
    if (stdin.writableCorked === 0) {
      stdin.cork();
      process.nextTick(() => stdin.uncork());
    }
    stdin.write(JSON.stringify(message) + '\n');
  }

  #onLine(line: string, from: ChildLink): void {
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
      if (isRequest(m)) this.#onChildRequest(m, from);
      else this.#onChildNotification(m);
    } else {
      this.#onChildResponse(m);
    }
  }

  #onOversize(o: Oversize, keys: TopLevelKeys, from: ChildLink): void {
    const id = keys.get('id');
    const limit = this.#maxMessageBytes;
    if (keys.get('method') !== undefined) {
      // A request (or notification) of the child: a request is refused, so the child never waits for it.
      const request = isValidId(id);
      this.#log.error({ server: this.server, bytes: o.bytes, limit, refused: request }, 'child sent a message over the size limit; dropped');
      if (request) this.#write(errorResponse(id, ErrorCode.InvalidRequest, `mcp-gateway: message of ${o.bytes} bytes is over the gateway's limit of ${limit}`), from);
      return;
    }
    const r = typeof id === 'number' ? this.#requests.sent(id) : undefined;
    this.#log.error({ server: this.server, bytes: o.bytes, limit, answered: r !== undefined }, 'child sent a message over the size limit; dropped');
    if (r !== undefined) {
      this.#requests.answer(r, errorResponse(r.originalId, ErrorCode.InternalError, `server "${this.server}" answered with ${o.bytes} bytes, over the gateway's limit of ${limit}`));
    }
  }

  #onChildResponse(m: JsonRpcResponse): void {
    const r = typeof m.id === 'number' ? this.#requests.sent(m.id) : undefined;
    if (r === undefined) {
      this.#log.debug({ server: this.server, id: m.id }, 'response for no pending request (late or unknown); dropped');
      return;
    }
    const restored = { ...m, id: r.originalId };
    if (r.method === ResourceMethod.Subscribe && !('error' in m)) this.#subscribed(r);
    this.#requests.answer(r, restored);
    // The gateway's own requests (pings, a rollout's list reads) are nobody's traffic; its handshake is shown.
    if (r.caller !== undefined || r.method === Method.Initialize) this.#emit(restored, r.caller?.id);
  }

  /**
   * The child accepted the first subscribe to a URI. Only connected callers (sessions) hold
   * subscriptions: they are told of updates, and their disconnect lets the subscription go. One that
   * left while this was in flight holds none. One accepted by a child that a rollout has replaced since
   * is sent on to the new one: the swap renewed only the subscriptions it knew of.
   */
  #subscribed(r: Pending): void {
    const uri = this.#subscribing.get(r);
    const caller = r.caller;
    if (uri === undefined || caller === undefined || !this.#connected.has(caller)) return;
    const now = this.#subscriptions.get(uri);
    if (now !== undefined) return void now.add(caller);
    this.#subscriptions.set(uri, new Set([caller]));
    if (this.#current !== undefined && r.to !== this.#current) {
      this.#write({ jsonrpc: '2.0', id: this.#requests.mintId(), method: ResourceMethod.Subscribe, params: { uri } });
    }
  }

  #onChildNotification(m: JsonRpcNotification): void {
    if (m.method === Method.Progress) {
      const token = m.params?.progressToken;
      // Restarts the request's timeout (up to its cap): a request that reports progress is alive.
      const r = typeof token === 'number' ? this.#requests.progress(token) : undefined;
      if (r === undefined) return; // progress for a request already answered, or that asked for none
      const restored: JsonRpcNotification = { ...m, params: { ...m.params, progressToken: r.progressToken } };
      r.caller?.onNotification?.(restored, r.originalId);
      this.#emit(restored, r.caller?.id);
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

  /** A request of the child `from`: its answer goes back to that child, also when another is current by then. */
  #onChildRequest(m: JsonRpcRequest, from: ChildLink): void {
    if (m.method === Method.Ping) {
      this.#write({ jsonrpc: '2.0', id: m.id, result: {} }, from);
      return;
    }
    const route = chooseRecipient(m.method, { exclusive: this.#exclusive, offered: this.#offered, connected: this.#connected, pending: this.#requests.sentRequests() });
    if ('refusal' in route) {
      // Nobody can answer: say so at once, so the child never waits for an answer that cannot come.
      const missing = route.missing;
      if (missing !== undefined && missing.caller.onMissingCapability !== undefined) {
        this.#write(errorResponse(m.id, MISSING_CAPABILITY, `mcp-gateway: ${route.refusal}`, { requiredCapabilities: { [missing.capability]: {} } }), from);
        missing.caller.onMissingCapability(missing.capability, m.method);
        return;
      }
      this.#write(errorResponse(m.id, ErrorCode.MethodNotFound, `mcp-gateway: ${route.refusal}`), from);
      return;
    }
    // To the child that asked, while it lives: never to a new process after a restart.
    void route.caller.onRequest!(m, route.relatedId).then((answer) => this.#write({ ...answer, id: m.id }, from));
  }

  #emit(message: JsonRpcMessage, callerId: string | undefined): void {
    for (const tap of this.#taps) tap(message, callerId);
  }
}
