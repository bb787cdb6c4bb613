// Everything the 2026 stateless path keeps between and across requests: parked calls (MRTR) by handle,
// open subscriptions/listen streams, and, for `sharing: per-session` servers, a child per principal (a
// 2026 client has no session; the caller's key is what it keeps). It owns their timers and closes them
// all on close(); revoke() ends what a removed key or a lost scope may no longer hold.
import { randomBytes } from 'node:crypto';
import { mayUse, type KeyRing } from '../auth/keys.ts';
import type { Logger } from '../log.ts';
import { ErrorCode, LATEST_PROTOCOL_VERSION, Method, type JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import type { Caller, Router } from '../router/router.ts';
import type { ManagedServer } from '../supervisor/managed-server.ts';
import { PerSessionServer } from '../supervisor/per-session-server.ts';
import { REPLICA_ID } from '../replica.ts';
import { AggregateBinding, type AggregateView } from '../aggregate/aggregate-binding.ts';
import { currentView } from '../aggregate/view.ts';
import { routerBinding, type Binding } from '../sessions/binding.ts';
import type { KeySpec } from '../config/types.ts';
import { ListenStream } from './listen-stream.ts';
import type { AggregateListen, ListenMember } from './aggregate-listen.ts';
import { RequestStateSigner } from './request-state.ts';
import { StatelessCall } from './stateless-call.ts';

/** What a 2026 request talks through: a shared child's router, or its principal's own child. */
export interface ModernBinding {
  readonly router: Router;
  readonly initializeResult: Record<string, unknown> | undefined;
  /** Answers may be the caller's own (a child per principal): cache scope private. */
  readonly perCaller: boolean;
  /** Marks the binding in use until the returned function runs (a per-principal child is not idle then). */
  hold(): () => void;
}

export interface BindingFailure {
  readonly status: number;
  readonly message: string;
}

/** A per-session server's child for one principal's 2026 requests. */
interface PrincipalChild {
  readonly router: Router;
  readonly initializeResult: Record<string, unknown>;
  readonly release: () => Promise<void>;
  active: number;
  idle: NodeJS.Timeout | undefined;
  /** Its entry in the map (the promise that resolved to it), to take out only this child's. */
  entry?: Promise<PrincipalChild | BindingFailure>;
  ended?: boolean;
}

/** The initialize the gateway sends a per-principal child: every client capability, enforced per request. */
function principalInitialize(version: string): JsonRpcRequest {
  return {
    jsonrpc: '2.0',
    id: 0,
    method: Method.Initialize,
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: { sampling: {}, elicitation: {}, roots: {} },
      clientInfo: { name: 'mcp-gateway', version },
    },
  };
}

/** An aggregate listen's bookkeeping: the view it saw last, the member children it holds, its refresh queue. */
interface ListenState {
  view: string;
  readonly holds: Map<string, { readonly router: Router; readonly release: () => void }>;
  chain: Promise<void>;
}

/** Listen streams one principal may hold open on one server (each holds a connection and a keep-alive). */
export const MAX_LISTEN_STREAMS = 16;

/**
 * A child's InitializeResult once it is ready (a starting child is waited for, as a 2025 client's
 * initialize waits: the router answers it from the kept result), or why it is not there.
 */
export async function childInitializeResult(router: Router): Promise<Record<string, unknown> | string> {
  const { response } = await router.request({ jsonrpc: '2.0', id: 0, method: Method.Initialize, params: { protocolVersion: LATEST_PROTOCOL_VERSION } });
  return 'result' in response ? (router.initializeResult ?? response.result) : response.error.message;
}

export class StatelessRegistry {
  readonly signer = new RequestStateSigner(REPLICA_ID);
  /** Told of each request an aggregate endpoint routes for a 2026 caller (metrics). */
  onAggregateRouted: (endpoint: string, server: string, method: string) => void = () => {};
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  readonly #version: string;
  readonly #calls = new Map<string, StatelessCall>();
  readonly #listens = new Set<ListenStream>();
  /** server → principal → its child (or the promise of it, while it starts). */
  readonly #children = new Map<string, Map<string, Promise<PrincipalChild | BindingFailure>>>();
  /** The aggregate endpoint's state per 2026 principal (its URI map), with the key it was last used with. */
  readonly #aggregates = new Map<string, { binding: AggregateBinding; holder: { key: KeySpec | undefined } }>();
  /** Open aggregate listen streams, with the members each holds and the view it last saw. */
  readonly #aggregateListens = new Map<AggregateListen, ListenState>();
  #listenSeq = 0;
  #closed = false;
  /** Set when the gateway starts to drain: calls that would park end instead. */
  #draining = false;

  constructor(reconciler: Reconciler, log: Logger, version: string) {
    this.#reconciler = reconciler;
    this.#log = log;
    this.#version = version;
    reconciler.onRemoved((name) => void this.#endServer(name, 'server removed from the manifest'));
    reconciler.onApplied(() => void this.#refreshAggregateListens());
  }

  /** Parked calls, for metrics and tests. */
  get parkedCalls(): number {
    let n = 0;
    for (const c of this.#calls.values()) if (c.parked) n++;
    return n;
  }

  get listenStreams(): number {
    return this.#listens.size + this.#aggregateListens.size;
  }

  async binding(server: ManagedServer, principal: string): Promise<ModernBinding | BindingFailure> {
    if (!(server instanceof PerSessionServer)) {
      const router = server.router;
      return { router, initializeResult: router.initializeResult, perCaller: false, hold: () => () => {} };
    }
    let byPrincipal = this.#children.get(server.name);
    if (byPrincipal === undefined) this.#children.set(server.name, (byPrincipal = new Map()));
    let pending = byPrincipal.get(principal);
    if (pending === undefined) {
      pending = this.#openChild(server, principal);
      byPrincipal.set(principal, pending);
    }
    const child = await pending;
    if ('status' in child) {
      if (byPrincipal.get(principal) === pending) byPrincipal.delete(principal);
      return child;
    }
    child.entry ??= pending;
    if (child.ended) {
      // It ended before this request could use it (a crash at start): the next request starts another.
      if (byPrincipal.get(principal) === pending) byPrincipal.delete(principal);
      return { status: 502, message: `server "${server.name}": its child for this caller ended as it started` };
    }
    return {
      router: child.router,
      initializeResult: child.initializeResult,
      perCaller: true,
      hold: () => {
        child.active++;
        clearTimeout(child.idle);
        child.idle = undefined;
        let held = true;
        return () => {
          if (!held) return;
          held = false;
          if (--child.active === 0) this.#armIdle(server, principal, child);
        };
      },
    };
  }

  async #openChild(server: PerSessionServer, principal: string): Promise<PrincipalChild | BindingFailure> {
    if (this.#closed) return { status: 503, message: 'the gateway is shutting down' };
    const anchor: Caller = { id: `principal:${server.name}:${principal}`, principal };
    const opened = await server.open(principalInitialize(this.#version), anchor);
    if ('status' in opened) return opened;
    const child: PrincipalChild = { router: opened.router, initializeResult: opened.initializeResult, release: opened.release, active: 0, idle: undefined };
    opened.onEnded((reason) => this.#childEnded(server.name, principal, child, reason));
    this.#log.debug({ server: server.name }, 'child started for a 2026 principal');
    this.#armIdle(server, principal, child);
    return child;
  }

  /** An unused per-principal child stops after the server's sessionIdleTimeout, as an idle session's would. */
  #armIdle(server: PerSessionServer, principal: string, child: PrincipalChild): void {
    clearTimeout(child.idle);
    const ms = server.spec.sessionIdleTimeoutMs;
    child.idle = setTimeout(() => {
      if (child.active > 0) return;
      this.#forget(server.name, principal, child);
      void child.release();
    }, ms);
    child.idle.unref();
  }

  /** Takes `child` out of the map, only if the map still holds it (a new child may have replaced it). */
  #forget(server: string, principal: string, child: PrincipalChild): void {
    const byPrincipal = this.#children.get(server);
    if (child.entry !== undefined && byPrincipal?.get(principal) === child.entry) byPrincipal.delete(principal);
  }

  #childEnded(server: string, principal: string, child: PrincipalChild, reason: string): void {
    child.ended = true;
    clearTimeout(child.idle);
    this.#forget(server, principal, child);
    for (const l of this.#listens) if (l.router === child.router) l.end();
    // Aggregate listens tapping it move to the principal's next child.
    if ([...this.#aggregateListens.values()].some((st) => [...st.holds.values()].some((held) => held.router === child.router))) void this.#refreshAggregateListens();
    this.#log.debug({ server, reason }, 'a 2026 principal child ended');
  }

  /**
   * The aggregate endpoint for a 2026 principal: its visible servers, merged lists and the URI map its
   * resource reads are routed by (kept per principal; members are looked up anew on every use).
   */
  aggregate(key: KeySpec | undefined, bundle?: string): AggregateBinding {
    const principal = key?.name ?? '';
    const id = `${bundle ?? ''}\u0000${principal}`;
    let entry = this.#aggregates.get(id);
    if (entry === undefined) {
      const holder = { key };
      const visible = (): AggregateView => currentView(this.#reconciler.desired, this.#reconciler.servers.values(), holder.key, bundle);
      const open = async (name: string): Promise<Binding | { failure: string }> => {
        const server = this.#reconciler.servers.get(name);
        if (server === undefined) return { failure: 'not in the manifest' };
        const b = await this.binding(server, principal);
        if ('status' in b) return { failure: b.message };
        const result = b.initializeResult ?? (await childInitializeResult(b.router));
        if (typeof result === 'string') return { failure: result };
        return routerBinding(b.router, result, async () => {});
      };
      const onClash = (what: string): void => this.#log.warn({ endpoint: bundle === undefined ? '/mcp' : `/mcp/@${bundle}` }, what);
      const endpoint = bundle === undefined ? '@' : `@${bundle}`;
      const onRouted = (server: string, method: string): void => this.onAggregateRouted(endpoint, server, method);
      const binding = new AggregateBinding(visible, open, { id: `aggregate:${principal}`, onNotification: () => {} }, { name: 'mcp-gateway', version: this.#version }, false, onClash, onRouted);
      entry = { binding, holder };
      this.#aggregates.set(id, entry);
    }
    entry.holder.key = key; // the key as the gate admitted it now (a reload may have changed its servers)
    return entry.binding;
  }

  /** A new call; `start` on it sends the first round. */
  newCall(server: string, principal: string, method: string, digest: string, binding: ModernBinding, roundTimeoutMs: number): StatelessCall {
    let handle: string;
    do handle = randomBytes(12).toString('base64url');
    while (this.#calls.has(handle));
    const release = binding.hold();
    const onEnd = (c: StatelessCall): void => {
      this.#calls.delete(c.who.handle);
      release();
    };
    const call = new StatelessCall({ handle, server, principal, method, digest, perCaller: binding.perCaller }, binding.router, this.signer, roundTimeoutMs, onEnd, () => !this.#draining);
    this.#calls.set(handle, call);
    return call;
  }

  call(handle: string): StatelessCall | undefined {
    return this.#calls.get(handle);
  }

  /** Whether `principal` may open one more listen stream on `server` ('@' or '@<bundle>' for aggregates; MAX_LISTEN_STREAMS). */
  mayListen(server: string, principal: string): boolean {
    let n = 0;
    for (const l of this.#listens) if (l.server === server && (l.key?.name ?? '') === principal) n++;
    for (const l of this.#aggregateListens.keys()) if (`@${l.bundle ?? ''}` === server && (l.key?.name ?? '') === principal) n++;
    return n < MAX_LISTEN_STREAMS;
  }

  /**
   * A listen stream on the aggregate endpoint (or a bundle): taps every member the key sees, and follows
   * reloads (members tapped and let go, list_changed when what the caller sees changed).
   */
  async aggregateListen(listen: AggregateListen): Promise<void> {
    const aggregate = this.aggregate(listen.key, listen.bundle);
    const state: ListenState = { view: '', holds: new Map(), chain: Promise.resolve() };
    this.#aggregateListens.set(listen, state);
    const owner = async (uri: string): Promise<string | undefined> => {
      const r = await aggregate.route({ jsonrpc: '2.0', id: 0, method: 'resources/subscribe', params: { uri } });
      return 'server' in r ? r.server : undefined;
    };
    await listen.open(await this.#listenMembers(listen, state), owner, () => {
      this.#aggregateListens.delete(listen);
      for (const held of state.holds.values()) held.release();
      state.holds.clear();
    });
  }

  /** The members an aggregate listen taps now (each held while tapped), and whether the view moved. */
  async #listenMembers(listen: AggregateListen, state: ListenState): Promise<ListenMember[]> {
    const view = this.aggregate(listen.key, listen.bundle).view();
    state.view = JSON.stringify(view);
    const members: ListenMember[] = [];
    for (const { server: name } of view.members) {
      const server = this.#reconciler.servers.get(name);
      if (server === undefined) continue;
      const b = await this.binding(server, listen.key?.name ?? '');
      if ('status' in b) continue;
      // Held per child: a member whose per-principal child was replaced holds the new one.
      const held = state.holds.get(name);
      if (held?.router !== b.router) {
        held?.release();
        state.holds.set(name, { router: b.router, release: b.hold() });
      }
      members.push({ server: name, router: b.router });
    }
    for (const [name, held] of state.holds) {
      if (members.some((m) => m.server === name)) continue;
      held.release();
      state.holds.delete(name);
    }
    return members;
  }

  /**
   * After a reload: aggregate listens follow what their callers see now. One refresh at a time per
   * listen, in order: a refresh begun with the old key must not land after one begun with the new.
   */
  #refreshAggregateListens(): Promise<void> {
    const all = [...this.#aggregateListens].map(([listen, state]) => {
      state.chain = state.chain.then(async () => {
        const before = state.view;
        const members = await this.#listenMembers(listen, state);
        if (!this.#aggregateListens.has(listen)) return;
        listen.members(members);
        if (state.view !== before) listen.listsChanged();
      });
      return state.chain;
    });
    return Promise.all(all).then(() => undefined);
  }

  /** Opens a listen stream; it is ended by revoke(), server removal, its child's end, and close(). */
  listen(make: (seq: number) => ListenStream, binding: ModernBinding): ListenStream {
    const stream = make(++this.#listenSeq);
    const release = binding.hold();
    this.#listens.add(stream);
    stream.open(() => {
      this.#listens.delete(stream);
      release();
    });
    return stream;
  }

  /** After a reload: what a key no longer may use ends: its calls (running or parked), listens, children. */
  revoke(keys: KeyRing): void {
    for (const l of this.#aggregateListens.keys()) {
      const key = l.key === undefined ? undefined : keys.current(l.key) ?? keys.byName(l.key.name);
      if (l.key === undefined ? keys.enabled : key === undefined) l.end();
      else l.key = key;
    }
    // Keys with other servers: the aggregates' views move (the gate has the new keys by now).
    for (const entry of this.#aggregates.values()) {
      const now = entry.holder.key === undefined ? undefined : keys.byName(entry.holder.key.name);
      if (now !== undefined) entry.holder.key = now;
    }
    void this.#refreshAggregateListens();
    const allowedName = (principal: string, server: string): boolean => {
      if (principal === '') return !keys.enabled;
      const key = keys.byName(principal);
      return key !== undefined && mayUse(key, server);
    };
    for (const c of [...this.#calls.values()]) {
      if (allowedName(c.who.principal, c.who.server)) continue;
      c.abandon('its key was removed or lost access', { code: ErrorCode.InvalidRequest, message: 'the key of this request was removed or lost access to this server', status: 403 });
    }
    for (const l of this.#listens) {
      const key = l.key === undefined ? undefined : keys.current(l.key);
      const allowed = l.key === undefined ? !keys.enabled : key !== undefined && mayUse(key, l.server);
      if (!allowed) l.end();
    }
    for (const [server, byPrincipal] of this.#children) {
      for (const [principal, pending] of byPrincipal) {
        if (allowedName(principal, server)) continue;
        byPrincipal.delete(principal);
        void pending.then((child) => {
          if ('status' in child) return;
          clearTimeout(child.idle);
          return child.release();
        });
      }
    }
  }

  async #endServer(name: string, why: string): Promise<void> {
    for (const l of this.#listens) if (l.server === name) l.end();
    const byPrincipal = this.#children.get(name);
    this.#children.delete(name);
    for (const pending of byPrincipal?.values() ?? []) {
      const child = await pending;
      if (!('status' in child)) await child.release();
    }
    this.#log.debug({ server: name, why }, '2026 state of the server ended');
  }

  /** Ends the calls parked on a client's retry (a draining gateway will not take the retry); none parks after. */
  endParked(reason: string): void {
    this.#draining = true;
    for (const c of [...this.#calls.values()]) if (c.parked) c.abandon(reason);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const l of [...this.#aggregateListens.keys()]) l.end();
    for (const c of [...this.#calls.values()]) c.abandon('gateway shutting down');
    for (const l of this.#listens) l.end();
    await Promise.all([...this.#children.keys()].map((name) => this.#endServer(name, 'gateway shutting down')));
  }
}
