// What the router's users see of it: who calls (Caller), how (RequestOptions), what comes back
// (RouteResult), and what may be observed (Tap, Observer). No behaviour here.
import type { JsonRpcErrorObject, JsonRpcId, JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.ts';

/** Why the gateway answered in the child's place. Faces map these to HTTP statuses. */
export type FailureKind = 'unavailable' | 'timeout' | 'closed' | 'cancelled' | 'busy';

/** How a request ended, for metrics: the child answered (`ok` or `error`), or the gateway did. */
export type Outcome = 'ok' | 'error' | FailureKind;

/** Told of every caller's request when it ends. Must be cheap: it runs on the message path. */
export type Observer = (method: string, outcome: Outcome, seconds: number) => void;

export interface RouteResult {
  readonly response: JsonRpcResponse;
  readonly failure?: FailureKind;
}

/** Someone who sends requests through the router: the classic API, an MCP session, the gateway itself. */
export interface Caller {
  readonly id: string;
  /** Who the caller acts for (a key's name, '' without keys), where it is known: attribution never crosses it. */
  readonly principal?: string;
  /**
   * A 2026 call parked on an input-required round: its child is blocked on the client's answers, so a
   * new request of the child most likely belongs to another call that is still running.
   */
  readonly parked?: boolean;
  /** Client capabilities this caller's client declared (`sampling`, `elicitation`, `roots`). */
  readonly capabilities?: ReadonlySet<string>;
  /**
   * A notification for this caller: progress of its own requests (`relatedId` is the caller's id of that
   * request), or, for connected callers, one meant for every client (list_changed, logging, …).
   */
  onNotification?(message: JsonRpcNotification, relatedId?: JsonRpcId): void;
  /**
   * A request from the child for this caller's client. `relatedId` is the caller's in-flight request it
   * belongs to, when there is exactly one. Resolves with the client's answer (any id: the router restores it).
   */
  onRequest?(message: JsonRpcRequest, relatedId: JsonRpcId | undefined): Promise<JsonRpcResponse>;
  /**
   * The child asked this caller's client for something it did not declare (`capability`). A caller that
   * has this is told (a 2026 client gets -32021 in the child's place) and the child's request is refused;
   * without it, the child's request is refused alone.
   */
  onMissingCapability?(capability: string, method: string): void;
}

export interface RequestOptions {
  caller?: Caller;
  timeoutMs?: number;
  /**
   * Called once with a function that gives the request up (a client that went away): the caller gets
   * `cancelled`, the child a notifications/cancelled. Returns the undo, run when the request settles.
   * (A plain callback: an AbortController per request costs more than the rest of the router.)
   */
  onGone?: (giveUp: () => void) => () => void;
  /** The gateway's own handshake: sent even before the child is ready, never answered from the cache. */
  internal?: boolean;
  /** An aggregate endpoint says here which server the request went to (access log, metrics). */
  onRouted?: (server: string) => void;
}

/**
 * Whether requests can go to the child now, may wait for it, or fail at once. `idle`: no child, but the
 * first request that waits starts one (an on-demand server). Set by the supervisor.
 */
export type Availability = { kind: 'ready' } | { kind: 'pending' } | { kind: 'idle' } | { kind: 'down'; reason: string };

/** A list's answer kept from the last child: the whole list as one page, or its "method not found". */
export type KnownAnswer = { readonly result: Record<string, unknown> } | { readonly error: JsonRpcErrorObject };

/** While idle: list method → what its first page is answered with, without starting a child. */
export type KnownLists = ReadonlyMap<string, KnownAnswer>;

/** Observers see every message of the child (ids and tokens already restored) and say who it was for. */
export type Tap = (message: JsonRpcMessage, callerId: string | undefined) => void;
