// Every MCP session of the gateway, by id: created at initialize (or at the legacy GET), bound to a
// server's child through its router, ended by DELETE, by idle expiry, by its child's end, or when its
// server leaves the manifest. It owns the sweep timer and the replay budget every session's event log
// draws from, and closes every session on close().
import { mayUse, type KeyRing } from '../auth/keys.ts';
import type { KeySpec } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { ErrorCode, type JsonRpcRequest } from '../protocol/jsonrpc.ts';
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

const SWEEP_MIN_MS = 25;
const SWEEP_MAX_MS = 10_000;

export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
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
  create(server: ManagedServer, transport: Transport, key: KeySpec | undefined): Session | BindFailure {
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
    if (session.closed) {
      // Ended while its initialize was answered (a removed key, shutdown): let the child go again.
      await binding.release();
      return { status: 404, code: ErrorCode.SessionNotFound, message: 'Session not found: it ended while initializing' };
    }
    session.bind(binding, initialize.params);
    return binding;
  }

  /** After a reload: ends the sessions whose key is gone or may no longer use their server. */
  revoke(keys: KeyRing): void {
    for (const s of this.#sessions.values()) {
      const key = s.key === undefined ? undefined : keys.current(s.key);
      const allowed = s.key === undefined ? !keys.enabled : key !== undefined && mayUse(key, s.server);
      if (!allowed) void this.end(s.id, 'its key was removed or lost access');
    }
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
    return this.#reconciler.servers.get(s.server)?.spec.sessionIdleTimeoutMs ?? 0;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#sweep);
    await Promise.all([...this.#sessions.keys()].map((id) => this.end(id, 'gateway shutting down')));
  }
}
