// One MCP session: a client's conversation with one server, whichever transport carries it. The session
// is the router's caller: it sends the client's messages through the router and puts what comes back on
// the right stream (the POST it relates to, else the GET stream). It knows nothing of HTTP beyond sinks.
import {
  DEFAULT_HTTP_PROTOCOL_VERSION,
  ErrorCode,
  errorResponse,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.ts';
import type { Caller, RequestOptions, RouteResult } from '../router/router.ts';
import type { Binding } from './binding.ts';

export type { Binding } from './binding.ts';
import type { KeySpec } from '../config/types.ts';
import { EventLog, type ReplayBudget } from './event-log.ts';
import type { Sink } from './sink.ts';

export type Transport = 'streamable' | 'legacy';


interface Ask {
  readonly resolve: (answer: JsonRpcResponse) => void;
  readonly timer: NodeJS.Timeout;
}

const GET_STREAM = 'get';
const keyOf = (id: JsonRpcId): string => (typeof id === 'number' ? `n${id}` : `s${id}`);
/** The client's id back from its key (`n5` → 5, `sabc` → 'abc'). */
const idOfKey = (key: string): JsonRpcId => (key[0] === 'n' ? Number(key.slice(1)) : key.slice(1));

/**
 * In place of an answer too large to keep for a client that lost its stream: a small error under the
 * request's id, so that the client, when it resumes, gets an answer and does not wait for ever.
 */
function lostAnswer(stream: string, data: string): string {
  const id = idOfKey(stream.slice('req:'.length));
  return JSON.stringify(errorResponse(id, ErrorCode.InternalError, `the answer (${data.length} bytes) was larger than a session keeps for a client that reconnects; send the request again`));
}

export class Session implements Caller {
  readonly id: string;
  readonly server: string;
  readonly transport: Transport;
  /**
   * The key that opened the session (undefined when the gateway has no keys); only it may use the
   * session. A reload may give it other servers: the registry puts the current one here (revoke()).
   */
  key: KeySpec | undefined;
  /** The key's name ('' without keys): the router never attributes another principal's question here. */
  readonly principal: string;
  /** What a reconnecting client may get again: events not known to be delivered, within the budgets. */
  readonly events: EventLog;
  protocolVersion = DEFAULT_HTTP_PROTOCOL_VERSION;
  capabilities: ReadonlySet<string> = new Set();
  lastActive = Date.now();

  #binding: Binding | undefined;
  #standalone: Sink | undefined;
  /** Once a client has opened a GET stream, unrelated messages wait for it (Last-Event-ID) when it is down. */
  #hadStream = false;
  /** Sinks of the client's requests in flight, by the client's own id. */
  readonly #requests = new Map<string, Sink>();
  /** Requests the child sent to this client, waiting for its answer, by the id the client saw. */
  readonly #asks = new Map<string, Ask>();
  #nextAsk = 1;
  #closed = false;
  readonly #closers = new Set<() => void>();

  /** `budget`: the gateway's replay budget, which this session's event log draws from. */
  constructor(id: string, server: string, transport: Transport, key: KeySpec | undefined, budget: ReplayBudget) {
    this.id = id;
    this.server = server;
    this.transport = transport;
    this.key = key;
    this.principal = key?.name ?? '';
    this.events = new EventLog(budget);
  }

  get bound(): boolean {
    return this.#binding !== undefined;
  }

  get binding(): Binding | undefined {
    return this.#binding;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Set while its initialize is being answered (a per-session child may take seconds to start). */
  initializing = false;

  /** Busy sessions never expire: initializing, a request in flight, or a stream open to the client. */
  get busy(): boolean {
    return this.initializing || this.#requests.size > 0 || this.#standalone?.open === true;
  }

  get hasStream(): boolean {
    return this.#standalone?.open === true;
  }

  /** The GET stream, or the legacy transport's stream. */
  get stream(): Sink | undefined {
    return this.#standalone;
  }

  bind(binding: Binding, initializeParams: Record<string, unknown> | undefined): void {
    this.#binding = binding;
    this.touch(); // idle time counts from the answer to initialize, not from its arrival
    const caps = initializeParams?.capabilities;
    this.capabilities = new Set(typeof caps === 'object' && caps !== null ? Object.keys(caps) : []);
    const version = binding.initializeResult.protocolVersion;
    if (typeof version === 'string') this.protocolVersion = version;
  }

  touch(): void {
    this.lastActive = Date.now();
  }

  /** The GET stream (or the legacy stream). The face refuses a second one while the first is open. */
  attachStream(sink: Sink): void {
    this.#standalone = sink;
    this.#hadStream = true;
  }

  /**
   * Mints the priming event of a stream (the request `requestId`'s, else the GET stream): kept in the
   * event log (empty data) so that a client that saw only it can resume from it.
   */
  primer(requestId?: JsonRpcId): () => string {
    const stream = requestId === undefined ? GET_STREAM : `req:${keyOf(requestId)}`;
    return () => String(this.events.append(stream, ''));
  }

  /** Continues a request's stream on a new connection (Last-Event-ID pointed at it); false if it is over. */
  resumeRequest(stream: string, sink: Sink): boolean {
    const key = stream.slice('req:'.length);
    if (!this.#requests.has(key)) return false;
    this.#requests.set(key, sink);
    return true;
  }

  /** Sends a client request through the router; the answer goes to the request's sink (current one). */
  async request(message: JsonRpcRequest, sink: Sink, onGone?: RequestOptions['onGone'], onRouted?: RequestOptions['onRouted']): Promise<RouteResult> {
    const binding = this.#binding;
    const key = keyOf(message.id);
    this.touch();
    if (binding === undefined) {
      const response = errorResponse(message.id, ErrorCode.InvalidRequest, 'the session is not initialized: send initialize first');
      sink.finish(JSON.stringify(response));
      return { response };
    }
    if (this.#requests.has(key)) {
      // JSON-RPC ids must be unique among a client's requests in flight: the answer could go to either.
      const response = errorResponse(message.id, ErrorCode.InvalidRequest, 'Invalid Request: a request with this id is already in flight in this session');
      sink.finish(JSON.stringify(response));
      return { response };
    }
    this.#requests.set(key, sink);
    let result: RouteResult;
    try {
      result = await binding.request(message, onRouted === undefined ? { caller: this, onGone } : { caller: this, onGone, onRouted });
    } finally {
      this.touch();
    }
    const current = this.#requests.get(key) ?? sink;
    this.#requests.delete(key);
    this.#out(current, `req:${key}`, JSON.stringify(result.response), true, result.failure === 'busy' ? 503 : undefined);
    return result;
  }

  /** A client notification; false when there is no child to take it. */
  notify(message: JsonRpcNotification): boolean {
    this.touch();
    return this.#binding?.notify(message, this) ?? false;
  }

  /** The client's answer to a request the child sent it; false when nobody is waiting for it. */
  answer(message: JsonRpcResponse): boolean {
    this.touch();
    const id = message.id;
    const ask = id === null ? undefined : this.#asks.get(keyOf(id));
    if (ask === undefined || id === null) return false;
    this.#asks.delete(keyOf(id));
    clearTimeout(ask.timer);
    ask.resolve(message);
    return true;
  }

  // --- Caller: what the router hands this session ---

  onNotification(message: JsonRpcNotification, relatedId?: JsonRpcId): void {
    this.#deliver(message, relatedId);
  }

  onRequest(message: JsonRpcRequest, relatedId: JsonRpcId | undefined): Promise<JsonRpcResponse> {
    const id = `gw-${this.#nextAsk++}`;
    const timeoutMs = this.#binding?.requestTimeoutMs ?? 60_000;
    return new Promise<JsonRpcResponse>((resolve) => {
      const timer = setTimeout(() => {
        this.#asks.delete(keyOf(id));
        resolve(errorResponse(id, ErrorCode.RequestTimeout, `the client did not answer "${message.method}" within ${timeoutMs}ms`));
      }, timeoutMs);
      this.#asks.set(keyOf(id), { resolve, timer });
      this.#deliver({ ...message, id }, relatedId);
    });
  }

  /**
   * Puts a message on the best stream: the POST of the request it relates to, else the GET stream, else
   * (for clients that never open one) any POST still open; failing all, it waits in the event log for
   * the client's next GET with Last-Event-ID.
   */
  #deliver(message: JsonRpcMessage, relatedId: JsonRpcId | undefined): void {
    const data = JSON.stringify(message);
    if (relatedId !== undefined) {
      const key = keyOf(relatedId);
      const sink = this.#requests.get(key);
      if (sink?.open) return this.#out(sink, `req:${key}`, data, false);
      // The request's stream broke after it sent events: keep the message for its resumption.
      if (sink?.streaming) return void this.events.append(`req:${key}`, data);
    }
    if (this.#standalone?.open) return this.#out(this.#standalone, GET_STREAM, data, false);
    if (!this.#hadStream) {
      for (const [key, sink] of [...this.#requests].reverse()) {
        if (sink.open) return this.#out(sink, `req:${key}`, data, false);
      }
    }
    this.events.append(GET_STREAM, data);
  }

  #out(sink: Sink, stream: string, data: string, last: boolean, status?: number): void {
    // Only SSE events get ids and a place in the log; a plain JSON answer needs neither.
    const withId = (sink.streaming || !last) && this.transport === 'streamable';
    // The stream opens (and primes) before this event's id is minted; a busy 503 stays plain JSON.
    if (withId && status === undefined) sink.begin?.();
    if (!last) return sink.send(data, withId ? String(this.events.append(stream, data)) : undefined);
    if (!withId) return void sink.finish(data, undefined, status);
    // A final answer written in full on a live connection ends its stream: nobody will resume it, so
    // neither it nor the events before it are kept (a client pulling large answers would otherwise
    // fill the log with copies of what it already has). Only an answer that found its stream broken
    // waits in the log for the client's GET with Last-Event-ID.
    const seq = this.events.mint();
    if (sink.finish(data, String(seq), status)) this.events.drop(stream);
    else this.events.append(stream, this.events.canKeep(stream, data) ? data : lostAnswer(stream, data), seq);
  }

  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#closers.add(fn);
  }

  /** Ends the session: requests in flight are cancelled, waiting asks answered, the child let go. */
  async close(reason: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Nobody can resume an ended session: its share of the gateway's replay budget goes back at once,
    // and answers still settling while it closes are written, not kept.
    this.events.close();
    for (const [key, ask] of this.#asks) {
      clearTimeout(ask.timer);
      ask.resolve(errorResponse(key, ErrorCode.ConnectionClosed, `the client session ended (${reason})`));
    }
    this.#asks.clear();
    const binding = this.#binding;
    binding?.cancelAll(this, `session ended: ${reason}`);
    for (const fn of this.#closers) fn();
    this.#closers.clear();
    await binding?.release();
    // Answers already settled (a crashed child's errors) go out before the connections close.
    await new Promise((r) => setImmediate(r));
    this.#standalone?.close();
    for (const sink of this.#requests.values()) sink.close();
  }
}
