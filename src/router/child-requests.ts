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

export type Recipient =
  | { readonly caller: Caller; readonly relatedId: JsonRpcId | undefined }
  | { readonly refusal: string; readonly missing?: { readonly caller: Caller; readonly capability: string } };

export function chooseRecipient(method: string, view: RouterView): Recipient {
  const pending = [...view.pending];
  const capability = CAPABILITY_OF_METHOD[method];
  const callers = attributable(pending);
  let caller: Caller | undefined;
  if (view.exclusive) {
    // A per-session child: its session. A child per 2026 principal has stateless callers, one per call:
    // the one with requests in flight, as on a shared child.
    if (callers.size === 1) caller = callers.values().next().value!;
    else if (callers.size === 0) for (const c of view.connected) if (c.onRequest !== undefined) (caller ??= c);
    if (caller === undefined) {
      return { refusal: callers.size > 1 ? `requests of ${callers.size} clients are in flight; cannot tell which one to ask "${method}"` : `no client session is connected to answer "${method}"` };
    }
  } else {
    if (capability === undefined || !view.offered.has(capability)) return { refusal: `"${method}" is not offered to this server` };
    if (callers.size !== 1) {
      return {
        refusal: callers.size === 0 ? `no client request in flight to relate "${method}" to` : `requests of ${callers.size} clients are in flight; cannot tell which one to ask "${method}"`,
      };
    }
    caller = callers.values().next().value!;
  }
  // A shared child's caller must have declared the capability; a per-session child was initialized with
  // its client's own capabilities, and is held to them only where the caller names them.
  const declared = view.exclusive ? caller.capabilities === undefined || caller.capabilities.has(capability!) : caller.capabilities?.has(capability!) === true;
  if (capability !== undefined && !declared) {
    return { refusal: `the client did not declare the "${capability}" capability`, missing: { caller, capability } };
  }
  if (caller.onRequest === undefined) return { refusal: `the client cannot be asked "${method}"` };
  // On that request's stream when exactly one of the caller's requests is in flight (the spec asks
  // messages related to a request to travel with it).
  const mine = pending.filter((p) => p.caller === caller);
  return { caller, relatedId: mine.length === 1 ? mine[0]!.originalId : undefined };
}

/**
 * The callers a child's request may belong to. Callers with requests in flight, except that 2026 calls
 * parked on an input-required round step aside for one that is running (a parked call's child waits on
 * the client): the one running call takes it, unless a parked call of another principal could also be
 * the asker (then nobody does: a question is never shown to a caller it may not be meant for). With no
 * call running, a lone parked call takes it (a late ask of its own).
 */
function attributable(pending: readonly { readonly caller: Caller | undefined }[]): Set<Caller> {
  const running = new Set<Caller>();
  const parked = new Set<Caller>();
  for (const p of pending) if (p.caller !== undefined) (p.caller.parked === true ? parked : running).add(p.caller);
  if (running.size === 0) return parked;
  if (running.size === 1 && parked.size > 0) {
    const only = running.values().next().value!;
    for (const p of parked) if (p.principal !== only.principal) return new Set([...running, ...parked]);
  }
  return running;
}
