// One 2026 call to a 2025 child, from its first POST to its last: the router's caller for every round.
// A 2025 child asks the client things in the middle of a call (elicitation, sampling, roots); a 2026
// client cannot be asked, it must be answered. So when the child asks, the call is parked: the child's
// call stays open on the child, the client gets `resultType: "input_required"` with the child's
// request(s) and a signed requestState, and its retry (new id, inputResponses, the state) answers the
// child's pending request(s), after which the call goes on, to its result or to another round (MRTR).
// Knows nothing of HTTP: each round writes to a Sink.
import { CAPABILITY_OF_METHOD, ErrorCode, Method, errorResponse, type JsonRpcId, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.ts';
import { INPUT_REQUIRED_METHODS, Meta, ModernErrorCode, modernErrorStatus, toModernResult } from '../protocol/modern.ts';
import type { Caller, RouteResult, Router } from '../router/router.ts';
import type { Sink } from '../sessions/sink.ts';
import type { RequestStateSigner } from './request-state.ts';

/** How long the child's asks of one round may wait before the call is grouped into one input_required. */
const GATHER_MS = 10;

/** What the call is, for the state that continues it. */
export interface CallIdentity {
  readonly handle: string;
  readonly server: string;
  readonly principal: string;
  readonly method: string;
  readonly digest: string;
  /** Results may be the caller's own (a per-principal child): cache scope private. */
  readonly perCaller: boolean;
}

interface Ask {
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
  readonly resolve: (answer: JsonRpcResponse) => void;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function progressTokenOf(params: Record<string, unknown> | undefined): unknown {
  return isObject(params?._meta) ? params._meta.progressToken : undefined;
}

export class StatelessCall implements Caller {
  readonly id: string;
  readonly who: CallIdentity;
  capabilities: ReadonlySet<string>;
  readonly #router: Router;
  readonly #signer: RequestStateSigner;
  /** How long a parked round waits for the client's retry. */
  readonly #roundTimeoutMs: number;
  readonly #onEnd: (call: StatelessCall) => void;
  /** False while the gateway drains: a call that would park ends instead (nobody would take its retry). */
  readonly #mayPark: () => boolean;
  /** The current round's own progress token: progress on its stream carries it, not the first round's. */
  #progressToken: unknown;
  /** The current round's answer and the client's id for it; none while parked. */
  #sink: Sink | undefined;
  #roundId: JsonRpcId;
  #round = 0;
  #parked = false;
  /** The child's requests waiting for the client, by their inputRequests key. */
  readonly #asks = new Map<string, Ask>();
  /** Answers the client sent before they were asked (inputResponses on a first call): used once each. */
  readonly #offered = new Map<string, Record<string, unknown>>();
  #keys = 0;
  #gather: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;
  /** The child's answer when it came while the call was parked: the next retry gets it. */
  #final: RouteResult | undefined;
  #ended = false;

  constructor(who: CallIdentity, router: Router, signer: RequestStateSigner, roundTimeoutMs: number, onEnd: (call: StatelessCall) => void, mayPark: () => boolean = () => true) {
    this.id = `call:${who.handle}`;
    this.who = who;
    this.capabilities = new Set();
    this.#router = router;
    this.#signer = signer;
    this.#roundTimeoutMs = roundTimeoutMs;
    this.#onEnd = onEnd;
    this.#mayPark = mayPark;
    this.#roundId = 0;
  }

  get round(): number {
    return this.#round;
  }

  get parked(): boolean {
    return this.#parked;
  }

  get principal(): string {
    return this.who.principal;
  }

  /**
   * Ends the call from the gateway's side (shutdown, a revoked key): a running round is answered with
   * `error` when given, and the child's call is cancelled.
   */
  abandon(reason: string, error?: { code: number; message: string; status: number }): void {
    if (error !== undefined) this.#write(errorResponse(this.#roundId, error.code, error.message), error.status);
    this.#end(reason);
  }

  /** The first round: sends `message` (already in the child's form) through the router. */
  start(message: JsonRpcRequest, sink: Sink, capabilities: ReadonlySet<string>, inputResponses: Record<string, unknown> | undefined): void {
    this.#roundId = message.id;
    this.#sink = sink;
    this.capabilities = capabilities;
    this.#progressToken = progressTokenOf(message.params);
    for (const [key, value] of Object.entries(inputResponses ?? {})) if (isObject(value)) this.#offered.set(key, value);
    this.#router.request(message, { caller: this }).then(
      (result) => this.#settle(result),
      (err: Error) => this.#settle({ response: errorResponse(message.id, ErrorCode.InternalError, `mcp-gateway: the call failed (${err.message})`) }),
    );
  }

  /**
   * A retry with the state of round `round`: its responses answer the child's pending asks; what is
   * still missing is asked again at once. False when that state is spent (an older round, or in use).
   */
  resume(round: number, id: JsonRpcId, sink: Sink, params: Record<string, unknown> | undefined, capabilities: ReadonlySet<string>, inputResponses: Record<string, unknown> | undefined): boolean {
    if (this.#ended || !this.#parked || round !== this.#round) return false;
    clearTimeout(this.#expiry);
    this.#parked = false;
    this.#sink = sink;
    this.#roundId = id;
    this.capabilities = capabilities;
    this.#progressToken = progressTokenOf(params);
    if (this.#final !== undefined) {
      this.#answer(this.#final);
      return true;
    }
    // The call waited for the client; from here it runs again, with its timeout counted anew.
    this.#router.restartTimers(this);
    for (const [key, ask] of this.#asks) {
      const value = inputResponses?.[key];
      if (!isObject(value)) continue; // missing or not a result: asked again below
      this.#asks.delete(key);
      ask.resolve({ jsonrpc: '2.0', id: 0, result: value });
    }
    // Capabilities are per request: what this retry did not declare cannot be asked of it again.
    for (const ask of this.#asks.values()) {
      const capability = CAPABILITY_OF_METHOD[ask.method];
      if (capability !== undefined && !capabilities.has(capability)) {
        this.onMissingCapability(capability);
        return true;
      }
    }
    if (this.#asks.size > 0) this.#askClient();
    return true;
  }

  /** The client closed the current round's connection before its answer: the call is given up. */
  clientLeft(sink: Sink): void {
    if (this.#sink === sink && !this.#parked) this.#end('the client went away');
  }

  // --- Caller ---

  onNotification(message: JsonRpcNotification): void {
    // Only notifications related to the call reach a caller that is not connected: its progress, which
    // goes out under the token of the round whose stream carries it (none asked for: none sent).
    if (this.#parked || this.#sink === undefined) return;
    if (message.method === Method.Progress) {
      if (this.#progressToken === undefined) return;
      message = { ...message, params: { ...message.params, progressToken: this.#progressToken } };
    }
    this.#sink.send(JSON.stringify(message));
  }

  onRequest(message: JsonRpcRequest): Promise<JsonRpcResponse> {
    // Input-required results exist for three methods only, and carry three kinds of request only.
    const refused = !INPUT_REQUIRED_METHODS.has(this.who.method)
      ? `a 2026 client cannot be asked anything during ${this.who.method}`
      : CAPABILITY_OF_METHOD[message.method] === undefined
        ? `a 2026 client cannot be asked "${message.method}"`
        : undefined;
    if (refused !== undefined) return Promise.resolve(errorResponse(message.id, ErrorCode.MethodNotFound, `mcp-gateway: ${refused}`));
    const params = message.params;
    const meta = isObject(params?._meta) ? params._meta : undefined;
    const named = meta?.[Meta.InputKey];
    let key = typeof named === 'string' && named !== '' && !this.#asks.has(named) ? named : undefined;
    if (key === undefined) {
      const kind = CAPABILITY_OF_METHOD[message.method] ?? 'input';
      do key = `${kind}-${++this.#keys}`;
      while (this.#asks.has(key));
    }
    let clientParams = params;
    if (meta !== undefined && named !== undefined) {
      const { [Meta.InputKey]: _k, ...rest } = meta;
      clientParams = { ...params, _meta: rest };
      if (Object.keys(rest).length === 0) delete clientParams._meta;
    }
    const offered = this.#offered.get(key);
    if (offered !== undefined) {
      this.#offered.delete(key);
      return Promise.resolve({ jsonrpc: '2.0', id: message.id, result: offered });
    }
    return new Promise((resolve) => {
      this.#asks.set(key, { method: message.method, params: clientParams, resolve });
      // The child may ask several things at once: they go to the client as one round.
      if (!this.#parked && this.#gather === undefined) this.#gather = setTimeout(() => this.#askClient(), GATHER_MS);
    });
  }

  onMissingCapability(capability: string): void {
    // The spec's answer, given in the child's place: the call cannot go on for this client.
    const response = errorResponse(this.#roundId, ModernErrorCode.MissingRequiredClientCapability, `the server needs the client capability "${capability}", which this request did not declare`, {
      requiredCapabilities: { [capability]: {} },
    });
    this.#write(response);
    this.#end(`the client did not declare "${capability}"`);
  }

  // --- rounds ---

  /** Sends every pending ask to the client as one input_required result, and parks the call. */
  #askClient(): void {
    clearTimeout(this.#gather);
    this.#gather = undefined;
    const sink = this.#sink;
    if (this.#ended || this.#parked || this.#asks.size === 0 || sink === undefined) return;
    if (!sink.open) return this.#end('the client went away');
    if (!this.#mayPark()) {
      this.#write(errorResponse(this.#roundId, ErrorCode.InternalError, 'the gateway is shutting down: it cannot wait for input; send the request again later'), 503);
      return this.#end('the gateway is shutting down');
    }
    this.#round++;
    const expires = Date.now() + this.#roundTimeoutMs;
    const requestState = this.#signer.sign({ handle: this.who.handle, server: this.who.server, principal: this.who.principal, digest: this.who.digest, round: this.#round, expires });
    const inputRequests: Record<string, unknown> = {};
    for (const [key, ask] of this.#asks) inputRequests[key] = ask.params === undefined ? { method: ask.method } : { method: ask.method, params: ask.params };
    this.#parked = true;
    this.#sink = undefined;
    sink.finish(JSON.stringify({ jsonrpc: '2.0', id: this.#roundId, result: { resultType: 'input_required', inputRequests, requestState } }));
    this.#expiry = setTimeout(() => this.#end(`the client did not retry within ${this.#roundTimeoutMs} ms`), this.#roundTimeoutMs);
  }

  /** The child's answer (or the gateway's in its place) to the call. */
  #settle(result: RouteResult): void {
    if (this.#ended) return;
    if (this.#parked) {
      this.#final = result; // kept for the retry, until the round expires
      return;
    }
    this.#answer(result);
  }

  #answer(result: RouteResult): void {
    const r = result.response;
    const response: JsonRpcResponse = 'result' in r
      ? { jsonrpc: '2.0', id: this.#roundId, result: toModernResult(this.who.method, r.result, this.#router.initializeResult?.serverInfo, this.who.perCaller) }
      : { ...r, id: this.#roundId };
    this.#write(response, result.failure === 'busy' ? 503 : undefined);
    this.#end(undefined);
  }

  #write(response: JsonRpcResponse, status?: number): void {
    const sink = this.#sink;
    if (sink === undefined || this.#parked) return;
    this.#sink = undefined;
    const childCapabilities = this.#router.initializeResult?.capabilities;
    sink.finish(JSON.stringify(response), undefined, status ?? ('error' in response ? modernErrorStatus(response.error.code, this.who.method, childCapabilities) : 200));
  }

  /** Over: the child's asks still waiting are refused, its call cancelled if it is still running. */
  #end(reason: string | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#gather);
    clearTimeout(this.#expiry);
    for (const ask of this.#asks.values()) ask.resolve(errorResponse(0, ErrorCode.RequestTimeout, `mcp-gateway: the client did not answer (${reason ?? 'call over'})`));
    this.#asks.clear();
    if (reason !== undefined) this.#router.cancelAll(this, reason);
    this.#sink?.close();
    this.#sink = undefined;
    this.#onEnd(this);
  }
}
