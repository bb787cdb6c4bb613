// Who answers a request a child sends (sampling, elicitation, roots, …). Pure: the rule the README states
// under "Server-to-client requests", from what the router knows at that moment.
import { CAPABILITY_OF_METHOD, type JsonRpcId } from '../protocol/jsonrpc.ts';
import type { Caller } from './types.ts';

export interface RouterView {
  /** A per-session child: everything goes to its one connected caller. */
  readonly exclusive: boolean;
  /** Capabilities the gateway declared to a shared child. */
  readonly offered: ReadonlySet<string>;
  readonly connected: Iterable<Caller>;
  /** Callers' requests in flight on the child, with the callers' own ids. */
  readonly pending: Iterable<{ readonly caller: Caller | undefined; readonly originalId: JsonRpcId }>;
}

export type Recipient = { readonly caller: Caller; readonly relatedId: JsonRpcId | undefined } | { readonly refusal: string };

export function chooseRecipient(method: string, view: RouterView): Recipient {
  const pending = [...view.pending];
  let caller: Caller | undefined;
  if (view.exclusive) {
    caller = view.connected[Symbol.iterator]().next().value;
    if (caller === undefined) return { refusal: `no client session is connected to answer "${method}"` };
  } else {
    const capability = CAPABILITY_OF_METHOD[method];
    if (capability === undefined || !view.offered.has(capability)) return { refusal: `"${method}" is not offered to this server` };
    const callers = new Set<Caller>();
    for (const p of pending) if (p.caller !== undefined) callers.add(p.caller);
    if (callers.size !== 1) {
      return {
        refusal: callers.size === 0 ? `no client request in flight to relate "${method}" to` : `requests of ${callers.size} clients are in flight; cannot tell which one to ask "${method}"`,
      };
    }
    caller = callers.values().next().value!;
    if (!caller.capabilities?.has(capability)) return { refusal: `the client did not declare the "${capability}" capability` };
  }
  if (caller.onRequest === undefined) return { refusal: `the client cannot be asked "${method}"` };
  // On that request's stream when exactly one of the caller's requests is in flight (the spec asks
  // messages related to a request to travel with it).
  const mine = pending.filter((p) => p.caller === caller);
  return { caller, relatedId: mine.length === 1 ? mine[0]!.originalId : undefined };
}
