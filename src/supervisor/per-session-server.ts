// A server with `sharing: per-session`: no child of its own, but one per MCP session, spawned when the
// session initializes (with the client's own initialize) and stopped when it ends. Its public face is the
// supervisor's, so the reconciler and the API treat both kinds alike.
import type { ServerSpec } from '../config/types.ts';
import { Listeners } from '../listeners.ts';
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts';
import { Router, type Caller, type Tap } from '../router/router.ts';
import { StderrBuffer } from './stderr-buffer.ts';
import { specRevision } from './rollout.ts';
import { callerEnvironment } from './caller-env.ts';
import { Supervisor, type ServerState, type ServerStatus, type StateReason, type SupervisorDeps } from './supervisor.ts';

export interface ChildStatus {
  readonly pid: number | null;
  readonly state: ServerState;
  readonly since: string;
}

/** A child bound to one session. `ended` fires once when it exits or is stopped from here. */
export interface SessionChild {
  readonly router: Router;
  readonly initializeResult: Record<string, unknown>;
  release(): Promise<void>;
  onEnded(fn: (reason: string) => void): void;
}

export type OpenFailure = { readonly status: 503 | 502; readonly message: string };

interface Entry {
  readonly supervisor: Supervisor;
  /** The taps on this child's router, by listener, so that each can be taken off again. */
  readonly taps: Map<Tap, () => void>;
  readonly ended: Set<(reason: string) => void>;
}

/**
 * A session's child is never restarted (when it ends, the session ends, and the client starts anew) and
 * never stopped for being idle (the session's own idle timeout ends both).
 */
function sessionChildSpec(spec: ServerSpec): ServerSpec {
  return { ...spec, restart: { ...spec.restart, policy: 'never' }, start: 'always', idleStopMs: 0 };
}

export class PerSessionServer {
  readonly name: string;
  readonly stderr: StderrBuffer;
  /** No shared child, hence no shared router: each session has its own. */
  readonly router = undefined;
  #spec: ServerSpec;
  readonly #deps: SupervisorDeps;
  #state: ServerState = 'stopped';
  #reason: StateReason | null = 'Stopped';
  #since = new Date();
  #closed = false;
  readonly #children = new Map<Caller, Entry>();
  readonly #taps = new Set<Tap>();
  readonly #statusListeners = new Listeners<ServerStatus>();
  readonly #stderrListeners = new Listeners<string>();

  constructor(spec: ServerSpec, deps: SupervisorDeps) {
    this.name = spec.name;
    this.#spec = spec;
    this.#deps = deps;
    this.stderr = new StderrBuffer(spec.stderrLines);
  }

  get spec(): ServerSpec {
    return this.#spec;
  }

  get state(): ServerState {
    return this.#state;
  }

  get sessions(): number {
    return this.#children.size;
  }

  /** Requests in flight over all of its children. */
  get inFlight(): number {
    let n = 0;
    for (const { supervisor } of this.#children.values()) n += supervisor.router.inFlight;
    return n;
  }

  /** `running` means: accepting sessions. Each child's own state is in `children`. */
  status(): ServerStatus & { children: ChildStatus[] } {
    return {
      name: this.name,
      state: this.#state,
      pid: null,
      restarts: 0,
      since: this.#since.toISOString(),
      reason: this.#reason,
      lastExit: null,
      lastError: null,
      lastStartAt: null,
      revision: { running: null, wanted: specRevision(this.#spec) },
      rollout: null,
      draining: [],
      rolloutFailure: null,
      rollouts: { succeeded: 0, failed: 0 },
      children: [...this.#children.values()].map(({ supervisor }) => {
        const s = supervisor.status();
        return { pid: s.pid, state: s.state, since: s.since };
      }),
    };
  }

  onStatus(listener: (status: ServerStatus) => void): () => void {
    return this.#statusListeners.add(listener);
  }

  onStderr(listener: (line: string) => void): () => void {
    return this.#stderrListeners.add(listener);
  }

  /** Observes the messages of every child, present and future. */
  tap(listener: Tap): () => void {
    this.#taps.add(listener);
    for (const e of this.#children.values()) e.taps.set(listener, e.supervisor.router.tap(listener));
    return () => {
      this.#taps.delete(listener);
      for (const e of this.#children.values()) {
        e.taps.get(listener)?.();
        e.taps.delete(listener);
      }
    };
  }

  async start(_how: 'now' | 'as-configured' = 'now'): Promise<ServerStatus> {
    if (!this.#closed) this.#setState('running', null);
    return this.status();
  }

  async stop(reason: 'Stopped' | 'Disabled' = 'Stopped'): Promise<ServerStatus> {
    this.#setState('stopped', reason);
    await this.#endAll('the server was stopped');
    return this.status();
  }

  /** Ends every session's child; new sessions get fresh children. */
  async restart(): Promise<ServerStatus> {
    await this.#endAll('the server was restarted');
    return this.start();
  }

  /**
   * The spec's process fields changed: with `rollout: overlap` running sessions keep their children until
   * they end and new sessions get the new spec (update has taken it); with `replace`, every child ends now.
   */
  rollout(): Promise<ServerStatus> {
    if (this.#spec.rollout === 'replace') return this.restart();
    return Promise.resolve(this.status());
  }

  update(spec: ServerSpec): void {
    this.#spec = spec;
    this.stderr.resize(spec.stderrLines);
    for (const { supervisor } of this.#children.values()) supervisor.update(sessionChildSpec(spec));
  }

  async close(): Promise<ServerStatus> {
    this.#closed = true;
    return this.stop();
  }

  /** Spawns a child for `caller`'s session, initialized with the client's own initialize request. */
  async open(initialize: JsonRpcRequest, caller: Caller): Promise<SessionChild | OpenFailure> {
    if (this.#state !== 'running') return { status: 503, message: `server "${this.name}" is ${this.#state}` };
    if (this.#children.size >= this.#spec.maxSessions) {
      return { status: 503, message: `server "${this.name}" has reached maxSessions (${this.#spec.maxSessions})` };
    }
    const spec = this.#spec;
    const router = new Router({
      server: this.name,
      log: this.#deps.log,
      requestTimeoutMs: spec.requestTimeoutMs,
      requestTimeoutMaxMs: spec.requestTimeoutMaxMs,
      maxInFlight: spec.maxInFlight,
      queueTimeoutMs: spec.queueTimeoutMs,
      exclusive: true,
      ...(this.#deps.observe === undefined ? {} : { observe: this.#deps.observe }),
    });
    const disconnect = router.connect(caller);
    const supervisor = new Supervisor(sessionChildSpec(spec), router, {
      ...this.#deps,
      envFor: (s) => ({ ...this.#deps.envFor(s), ...callerEnvironment(s.callerEnv, caller.principal) }),
      initializeParams: initialize.params ?? {},
    });
    const entry: Entry = { supervisor, taps: new Map([...this.#taps].map((t) => [t, router.tap(t)])), ended: new Set() };
    this.#children.set(caller, entry);
    supervisor.onStderr((line) => {
      this.stderr.push(line);
      this.#stderrListeners.emit(line);
    });
    supervisor.onStatus((s) => {
      if (s.state === 'exited' || s.state === 'failed' || s.state === 'stopped') this.#ended(caller, s.lastError ?? `child ${s.state}`);
    });

    const status = await supervisor.start();
    if (status.state !== 'running' || router.initializeResult === undefined) {
      await this.#release(caller);
      disconnect();
      return { status: 502, message: `server "${this.name}" did not start for this session: ${status.lastError ?? status.state}` };
    }
    return {
      router,
      initializeResult: router.initializeResult,
      release: async () => {
        disconnect();
        await this.#release(caller);
      },
      onEnded: (fn) => entry.ended.add(fn),
    };
  }

  #ended(caller: Caller, reason: string): void {
    const entry = this.#children.get(caller);
    if (entry === undefined) return;
    this.#children.delete(caller);
    for (const untap of entry.taps.values()) untap();
    for (const fn of entry.ended) fn(reason);
  }

  async #release(caller: Caller): Promise<void> {
    const entry = this.#children.get(caller);
    if (entry === undefined) return;
    this.#children.delete(caller);
    for (const untap of entry.taps.values()) untap();
    await entry.supervisor.close();
  }

  async #endAll(reason: string): Promise<void> {
    const callers = [...this.#children.keys()];
    await Promise.all(
      callers.map(async (c) => {
        const entry = this.#children.get(c);
        this.#ended(c, reason);
        await entry?.supervisor.close();
      }),
    );
  }

  #setState(state: ServerState, reason: StateReason | null): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#reason = reason;
    this.#since = new Date();
    const status = this.status();
    this.#deps.log.info({ server: this.name, state, reason }, 'server state');
    this.#statusListeners.emit(status);
  }
}
