// Every MCP session of the gateway, by id: created at initialize (or at the legacy GET), bound to a
// server's child through its router, ended by DELETE, by idle expiry, by its child's end, or when its
// server leaves the manifest. It owns the sweep timer and the replay budget every session's event log
// draws from, and closes every session on close().
import { mayUse, sameGrants, type KeyRing } from '../auth/keys.ts';
import type { KeySpec } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { ErrorCode, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, type JsonRpcRequest } from '../protocol/jsonrpc.ts';
import { AggregateBinding, type AggregateView } from '../aggregate/aggregate-binding.ts';
import { currentView } from '../aggregate/view.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import type { ManagedServer } from '../supervisor/managed-server.ts';
import { PerSessionServer } from '../supervisor/per-session-server.ts';
import { ReplayBudget } from './event-log.ts';
import { mintSessionId } from './session-id.ts';
import { routerBinding, type Binding } from './binding.ts';
import { Session, type Transport } from './session.ts';

export interface BindFailure {
  readonly status: number;
  readonly code: number;
  readonly message: string;
}

/** What a session is opened on: a server of the manifest, or the aggregate endpoint. */
export interface SessionTarget {
  readonly name: string;
  readonly spec: { readonly maxSessions: number };
}

/** The aggregate endpoint's sessions: its name (no server name starts with `@`) and bounds. */
export const AGGREGATE: SessionTarget & { readonly idleTimeoutMs: number } = { name: '@', spec: { maxSessions: 1024 }, idleTimeoutMs: 30 * 60_000 };

/** Sessions one key may hold on one aggregate endpoint (anonymous callers count as one key). */
export const AGGREGATE_SESSIONS_PER_KEY = 64;

const SWEEP_MIN_MS = 25;
const SWEEP_MAX_MS = 10_000;

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  /** The keys and token grants of the last reload that changed them (follow() reads grants from it); none before. */
  #keys: KeyRing | undefined;
  /** Told of each request an aggregate session routes (metrics); set by whoever composes the gateway. */
  onAggregateRouted: (endpoint: string, server: string, method: string) => void = () => {};
  /** Bounds the replay logs of all sessions together (see event-log.ts). */
  readonly replay: ReplayBudget;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(reconciler: Reconciler, log: Logger, replay = new ReplayBudget()) {
    this.#reconciler = reconciler;
    this.#log = log;
    this.replay = replay;
    reconciler.onRemoved((name) => {
      for (const s of this.#sessions.values()) if (s.server === name) void this.end(s.id, 'server removed from the manifest');
    });
    // Servers added, removed or enabled by a reload: aggregate sessions see their lists change.
    reconciler.onApplied(() => {
      for (const s of this.#sessions.values()) if (s.binding instanceof AggregateBinding) void s.binding.refresh();
    });
  }

  get size(): number {
    return this.#sessions.size;
  }

  countFor(server: string): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (s.server === server) n++;
    return n;
  }

  /** Sessions of `server` with a stream open to their client. */
  streamsFor(server: string): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (s.server === server && s.hasStream) n++;
    return n;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /**
   * A new, unbound session of `server` (the transports bind it at initialize), or a 503 when the server
   * has maxSessions already. The count includes sessions still initializing and legacy streams not yet
   * initialized: the place is taken here, synchronously, so that concurrent initializes cannot all pass
   * a check made before any of them was counted. Whoever gets a session and fails to bind it must end()
   * it, which gives the place back.
   */
  create(server: SessionTarget, transport: Transport, key: KeySpec | undefined): Session | BindFailure {
    if (server.name.startsWith('@')) {
      // An aggregate's sessions are bounded per key: one key cannot take every place of the endpoint.
      let mine = 0;
      for (const s of this.#sessions.values()) if (s.server === server.name && s.key?.name === key?.name) mine++;
      if (mine >= AGGREGATE_SESSIONS_PER_KEY) {
        return { status: 503, code: ErrorCode.ServerUnavailable, message: `this key has ${AGGREGATE_SESSIONS_PER_KEY} sessions open on this endpoint; end one (DELETE) or let one idle out` };
      }
    }
    const max = server.spec.maxSessions;
    if (this.countFor(server.name) >= max) {
      return { status: 503, code: ErrorCode.ServerUnavailable, message: `server "${server.name}" has reached maxSessions (${max})` };
    }
    const session = new Session(mintSessionId(), server.name, transport, key, this.replay);
    this.#sessions.set(session.id, session);
    this.#log.debug({ server: server.name, transport }, 'session opened');
    this.#schedule();
    return session;
  }

  /**
   * Binds `session` (from create(), which counted it against maxSessions) to its server's child with the
   * client's initialize; on failure nothing is kept bound and the caller ends the session.
   */
  async bind(session: Session, server: ManagedServer, initialize: JsonRpcRequest): Promise<Binding | BindFailure> {
    session.initializing = true;
    let binding: Binding;
    try {
      if (server instanceof PerSessionServer) {
        const child = await server.open(initialize, session);
        if ('status' in child) return { status: child.status, code: ErrorCode.ServerUnavailable, message: child.message };
        child.onEnded((reason) => void this.end(session.id, `its child ended: ${reason}`));
        binding = routerBinding(child.router, child.initializeResult, child.release);
      } else {
        const router = server.router;
        const answer = await router.request(initialize, { caller: session });
        if ('error' in answer.response) return { status: 503, code: answer.response.error.code, message: answer.response.error.message };
        const disconnect = router.connect(session);
        binding = routerBinding(router, answer.response.result, async () => disconnect());
      }
    } finally {
      session.initializing = false;
    }
    return this.#attach(session, binding, initialize);
  }

  /** Binds `session` to what its initialize opened, unless it ended meanwhile (then that is let go). */
  async #attach<B extends Binding>(session: Session, binding: B, initialize: JsonRpcRequest): Promise<B | BindFailure> {
    if (session.closed) {
      // Ended while its initialize was answered (a removed key, shutdown): let the child(ren) go again.
      await binding.release();
      return { status: 404, code: ErrorCode.SessionNotFound, message: 'Session not found: it ended while initializing' };
    }
    session.bind(binding, initialize.params);
    return binding;
  }

  /**
   * Binds an aggregate session: a member binding for every server its key may use (opened now, so that
   * initialize can say what they offer together), with the session as the caller on each.
   */
  async bindAggregate(session: Session, initialize: JsonRpcRequest, serverInfo: Record<string, unknown>, bundle?: string): Promise<Binding | BindFailure> {
    session.initializing = true;
    const view = (): AggregateView => currentView(this.#reconciler.desired, this.#reconciler.servers.values(), session.key, bundle);
    const onClash = (what: string): void => this.#log.warn({ endpoint: session.server }, what);
    const onRouted = (server: string, method: string): void => this.onAggregateRouted(session.server, server, method);
    const binding: AggregateBinding = new AggregateBinding(view, (name) => this.#openMember(session, name, initialize, binding), session, serverInfo, true, onClash, onRouted);
    const asked = initialize.params?.protocolVersion;
    try {
      await binding.initialize(typeof asked === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : LATEST_PROTOCOL_VERSION);
    } finally {
      session.initializing = false;
    }
    const attached = await this.#attach(session, binding, initialize);
    if ('status' in attached) return attached;
    // A reload while it initialized may have changed what its key sees: look again now that it is bound.
    await binding.refresh();
    // Its idle timeout is known now (its members'): the sweep may need to come sooner.
    clearTimeout(this.#sweep);
    this.#sweep = undefined;
    this.#schedule();
    return binding;
  }

  /** One member of an aggregate session: the shared child's router, or a child of the session's own. */
  async #openMember(session: Session, name: string, initialize: JsonRpcRequest, aggregate: AggregateBinding): Promise<Binding | { failure: string }> {
    const server = this.#reconciler.servers.get(name);
    if (server === undefined) return { failure: 'not in the manifest' };
    if (server instanceof PerSessionServer) {
      const child = await server.open(initialize, session);
      if ('status' in child) return { failure: child.message };
      if (session.closed) {
        // The session ended while its child started: nobody will let the child go but us.
        await child.release();
        return { failure: 'the session ended' };
      }
      child.onEnded(() => void aggregate.memberEnded(name));
      return routerBinding(child.router, child.initializeResult, child.release);
    }
    const router = server.router;
    const answer = await router.request({ ...initialize, id: `aggregate:${name}` }, { caller: session });
    if ('error' in answer.response) return { failure: answer.response.error.message };
    const disconnect = router.connect(session);
    // A shared member that goes down or comes back (with other lists, maybe): the session hears it.
    // Idle (an on-demand member between uses) counts as up: its next request starts it, and sessions must
    // not hear list_changed (and list every member again) each time it stops or starts. So does stopping: an
    // idle stop goes through it, and a client that lists again on list_changed would wake the member at once.
    const up = (state: string): boolean => state === 'running' || state === 'idle' || state === 'starting' || state === 'stopping';
    let running = up(server.state);
    const unwatch = server.onStatus((st) => {
      const now = up(st.state);
      if (now !== running) aggregate.listsChanged();
      running = now;
    });
    return routerBinding(router, answer.response.result, async () => {
      unwatch();
      disconnect();
    });
  }

  /** After a reload: ends the sessions whose key is gone or may no longer use their server. */
  revoke(keys: KeyRing): void {
    this.#keys = keys;
    for (const s of this.#sessions.values()) {
      const key = s.key === undefined ? undefined : keys.current(s.key);
      // An aggregate session needs only its key; which servers it sees follows the key (refresh).
      const allowed = s.key === undefined ? !keys.enabled : key !== undefined && (s.server.startsWith('@') || mayUse(key, s.server));
      if (!allowed) {
        void this.end(s.id, 'its key was removed or lost access');
        continue;
      }
      // An aggregate session's servers follow its key's current list (list_changed when they move).
      if (key !== undefined) s.key = key;
      if (s.binding instanceof AggregateBinding) void s.binding.refresh();
    }
  }

  /**
   * A request on a session, with the principal that sent it (the same name: checked before). A token
   * principal's session follows its newest token: an aggregate session sees what that token's grants give,
   * narrower or wider. A key's principal changes only by a reload (revoke).
   */
  follow(session: Session, principal: KeySpec | undefined): void {
    const before = session.key;
    if (principal?.token === undefined || before?.token === undefined || before === principal) return;
    // An older token of the subject (one that expires sooner) does not take the session back to its view.
    if (principal.token.expiresAt < before.token.expiresAt) return;
    // Its grants as the manifest makes them now: a request admitted before a reload carries the old ones.
    const now = this.#keys === undefined ? principal : this.#keys.current(principal);
    if (now === undefined) return; // no grant left: revoke() ends the session
    session.key = now;
    if (session.binding instanceof AggregateBinding && !sameGrants(before, now)) void session.binding.refresh();
  }

  /** Ends a session; false when there is no such session. */
  async end(id: string, reason: string): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (session === undefined) return false;
    this.#sessions.delete(id);
    this.#log.debug({ server: session.server, reason }, 'session ended');
    await session.close(reason);
    return true;
  }

  /** Idle sessions (no request in flight, no open stream, quiet for sessionIdleTimeout) are ended. */
  #schedule(): void {
    if (this.#closed || this.#sweep !== undefined || this.#sessions.size === 0) return;
    let shortest = SWEEP_MAX_MS * 4;
    for (const s of this.#sessions.values()) shortest = Math.min(shortest, this.#idleTimeout(s));
    const every = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, Math.floor(shortest / 4)));
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      const now = Date.now();
      for (const s of this.#sessions.values()) {
        if (!s.busy && now - s.lastActive >= this.#idleTimeout(s)) void this.end(s.id, 'idle timeout');
      }
      this.#schedule();
    }, every);
  }

  #idleTimeout(s: Session): number {
    if (s.server.startsWith('@')) {
      // The shortest of its members': a per-session member's child is held no longer than its own
      // sessions would hold one.
      let ms = AGGREGATE.idleTimeoutMs;
      const members = s.binding instanceof AggregateBinding ? s.binding.servers : [];
      for (const name of members) ms = Math.min(ms, this.#reconciler.servers.get(name)?.spec.sessionIdleTimeoutMs ?? ms);
      return ms;
    }
    return this.#reconciler.servers.get(s.server)?.spec.sessionIdleTimeoutMs ?? 0;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#sweep);
    await Promise.all([...this.#sessions.keys()].map((id) => this.end(id, 'gateway shutting down')));
  }
}
