// What a session talks through once its initialize succeeded: one server's child (shared, through its
// router, or the session's own), or many (the aggregate endpoint). The session sees only this seam, so it
// never asks which kind it holds.
import type { JsonRpcNotification, JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Caller, RequestOptions, RouteResult, Router } from '../router/router.ts';

export interface Binding {
  readonly initializeResult: Record<string, unknown>;
  /** How long the session waits for its client's answer to a child's request. */
  readonly requestTimeoutMs: number;
  request(message: JsonRpcRequest, options: RequestOptions): Promise<RouteResult>;
  /** A client notification; false when there is no child to take it. */
  notify(message: JsonRpcNotification, caller: Caller): boolean;
  /** Gives up every request of `caller` (its session ended). */
  cancelAll(caller: Caller, reason: string): void;
  /** Lets go of the child(ren): disconnects from shared ones, stops the session's own. */
  release(): Promise<void>;
}

/** One router as a binding. */
export function routerBinding(router: Router, initializeResult: Record<string, unknown>, release: () => Promise<void>): Binding {
  return {
    initializeResult,
    get requestTimeoutMs() {
      return router.requestTimeoutMs;
    },
    request: (message, options) => router.request(message, options),
    notify: (message, caller) => router.notify(message, caller),
    cancelAll: (caller, reason) => router.cancelAll(caller, reason),
    release,
  };
}
