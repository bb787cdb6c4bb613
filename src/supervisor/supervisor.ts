// One supervisor per server: it owns the child process, walks it through explicit states, restarts it
// by policy with backoff and a start limit, and stops its whole process group. Readiness is the MCP
// initialize handshake, done by the gateway itself through the server's router.
import type { ServerSpec } from '../config/types.ts';
import { Listeners } from '../listeners.ts';
import type { Logger } from '../log.ts';
import { LATEST_PROTOCOL_VERSION, Method } from '../protocol/jsonrpc.ts';
import type { Observer, Router, Tap } from '../router/router.ts';
import { backoffDelay, checkStartLimit, shouldRestart } from './backoff.ts';
import { reapGroup, spawnChild, type ChildHandle, type ExitInfo } from './child-process.ts';
import { oomMessage } from './limits.ts';
import { StderrBuffer } from './stderr-buffer.ts';

export type ServerState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'exited' | 'failed';

/** Why a server is not running, in words an operator can search for. */
export type StateReason = 'FailedStart' | 'Crashed' | 'OOMKilled' | 'StartLimit' | 'Exited' | 'Stopped' | 'Disabled';

export interface ServerStatus {
  readonly name: string;
  readonly state: ServerState;
  readonly pid: number | null;
  readonly restarts: number;
  /** When the server entered its current state (ISO 8601). */
  readonly since: string;
  readonly reason: StateReason | null;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: string } | null;
  readonly lastError: string | null;
}

export interface SupervisorDeps {
  readonly log: Logger;
  readonly version: string;
  /** The environment a child of this spec starts with (see config/child-env.ts). */
  readonly envFor: (spec: ServerSpec) => Record<string, string>;
  /** A per-session child is initialized with its client's own initialize params, verbatim. */
  readonly initializeParams?: Record<string, unknown>;
  /** Metrics: told of every request its routers answer. */
  readonly observe?: Observer;
}

/** What the gateway declares when it initializes a shared child: only what the manifest opts in to. */
export function gatewayInitializeParams(spec: ServerSpec, version: string): Record<string, unknown> {
  return {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: Object.fromEntries(spec.clientCapabilities.map((c) => [c, {}])),
    clientInfo: { name: 'mcp-gateway', version },
  };
}

export class Supervisor {
  readonly name: string;
  readonly router: Router;
  readonly stderr: StderrBuffer;
  #spec: ServerSpec;
  readonly #deps: SupervisorDeps;

  #child: ChildHandle | undefined;
  #state: ServerState = 'stopped';
  #reason: StateReason | null = 'Stopped';
  #since = new Date();
  #startedAt = 0;
  #restarts = 0;
  #failures = 0;
  #autoRestarts: number[] = [];
  #lastExit: ServerStatus['lastExit'] = null;
  #lastError: string | null = null;
  #backoffTimer: NodeJS.Timeout | undefined;
  /** Bumped by every start/stop/restart: async work from an older generation stands down. */
  #generation = 0;
  /** Set when the handshake failed and the attempt is being stopped: its exit counts as a failed start. */
  #startFailed = false;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #statusListeners = new Listeners<ServerStatus>();
  readonly #stderrListeners = new Listeners<string>();

  constructor(spec: ServerSpec, router: Router, deps: SupervisorDeps) {
    this.name = spec.name;
    this.#spec = spec;
    this.router = router;
    this.#deps = deps;
    this.stderr = new StderrBuffer(spec.stderrLines);
  }

  get spec(): ServerSpec {
    return this.#spec;
  }

  get state(): ServerState {
    return this.#state;
  }

  /** Requests waiting for this child's answer. */
  get inFlight(): number {
    return this.router.inFlight;
  }

  status(): ServerStatus {
    return {
      name: this.name,
      state: this.#state,
      pid: this.#child?.pid ?? null,
      restarts: this.#restarts,
      since: this.#since.toISOString(),
      reason: this.#reason,
      lastExit: this.#lastExit,
      lastError: this.#lastError,
    };
  }

  onStatus(listener: (status: ServerStatus) => void): () => void {
    return this.#statusListeners.add(listener);
  }

  onStderr(listener: (line: string) => void): () => void {
    return this.#stderrListeners.add(listener);
  }

  /** Observes every message of the child (see Router.tap). */
  tap(listener: Tap): () => void {
    return this.router.tap(listener);
  }

  /** Starts the server by hand (or first boot): clears the failure count and the start limit. */
  start(): Promise<ServerStatus> {
    return this.#enqueue(async () => {
      if (this.#state === 'running' || this.#state === 'starting') return;
      this.#generation++;
      clearTimeout(this.#backoffTimer);
      this.#failures = 0;
      this.#autoRestarts = [];
      await this.#launch();
    });
  }

  /** Stops the child; `Disabled` when the manifest says enabled: false. */
  stop(reason: 'Stopped' | 'Disabled' = 'Stopped'): Promise<ServerStatus> {
    this.#interruptStart(false);
    return this.#enqueue(async () => {
      await this.#stopChild(false);
      this.#setState('stopped', reason);
      this.router.setAvailability({ kind: 'down', reason: reason === 'Disabled' ? 'disabled in the manifest' : 'stopped' });
    });
  }

  /** Stops and starts again; requests that arrive meanwhile wait for the new process. */
  restart(): Promise<ServerStatus> {
    this.#interruptStart(true);
    return this.#enqueue(async () => {
      const wasRunning = this.#child !== undefined;
      await this.#stopChild(true);
      if (wasRunning) this.#restarts++;
      this.#failures = 0;
      this.#autoRestarts = [];
      await this.#launch();
    });
  }

  /**
   * Takes a new spec. Only the reconciler calls this, and it restarts the child itself when fields that
   * shape the process changed; the rest (timeouts, policy, buffer size) apply from here on.
   */
  update(spec: ServerSpec): void {
    this.#spec = spec;
    this.router.requestTimeoutMs = spec.requestTimeoutMs;
    this.router.requestTimeoutMaxMs = spec.requestTimeoutMaxMs;
    this.router.slots.max = spec.maxInFlight;
    this.router.slots.queueTimeoutMs = spec.queueTimeoutMs;
    this.stderr.resize(spec.stderrLines);
  }

  /** Stops the child for good. Idempotent. */
  close(): Promise<ServerStatus> {
    this.#closed = true;
    return this.stop();
  }

  /**
   * A start still waiting for its handshake (an `npx` that downloads, a child that never answers) holds
   * the queue for up to startTimeout: a stop or restart does not wait for it, it ends that attempt now.
   */
  #interruptStart(restarting: boolean): void {
    const child = this.#child;
    if (this.#state !== 'starting' || child === undefined) return;
    this.#generation++; // the launch under way stands down when its handshake settles
    this.#setState('stopping', null);
    this.router.setAvailability(restarting ? { kind: 'pending' } : { kind: 'down', reason: 'stopping' });
    void child.stop(this.#spec.stopTimeoutMs);
  }

  #enqueue(op: () => Promise<void>): Promise<ServerStatus> {
    const run = this.#queue.then(op);
    this.#queue = run.catch(() => {});
    return run.then(() => this.status());
  }

  async #stopChild(restarting: boolean): Promise<void> {
    this.#generation++;
    clearTimeout(this.#backoffTimer);
    const child = this.#child;
    if (child === undefined) return;
    this.#setState('stopping', null);
    this.router.setAvailability(restarting ? { kind: 'pending' } : { kind: 'down', reason: 'stopping' });
    await child.stop(this.#spec.stopTimeoutMs);
  }

  async #launch(): Promise<void> {
    if (this.#closed) return;
    const generation = this.#generation;
    const spec = this.#spec;
    this.#lastError = null;
    this.#startFailed = false; // a stop during the last failed attempt may have left it set
    this.#setState('starting', null);
    this.router.setAvailability({ kind: 'pending' });

    let child: ChildHandle;
    try {
      child = spawnChild(
        { command: spec.command, args: spec.args, cwd: spec.cwd, env: this.#deps.envFor(spec), server: this.name, limits: spec.limits },
        (line) => this.#onStderr(line),
        this.#deps.log,
      );
    } catch (err) {
      this.#afterExit({ code: null, signal: null, error: (err as Error).message }, true);
      return;
    }
    this.#child = child;
    this.router.attach(child.stdin, child.stdout);
    this.#startedAt = Date.now();
    // Not the command: it may have been written with ${VAR}, and no value from the environment is logged.
    this.#deps.log.info({ server: this.name, pid: child.pid }, 'child spawned');
    void child.exited.then((info) => this.#onExit(child, info));

    const handshake = await this.router.request(
      {
        jsonrpc: '2.0',
        id: 0,
        method: Method.Initialize,
        params: this.#deps.initializeParams ?? gatewayInitializeParams(spec, this.#deps.version),
      },
      { internal: true, timeoutMs: spec.startTimeoutMs },
    );
    if (generation !== this.#generation || this.#child !== child) return; // stopped or replaced meanwhile
    const response = handshake.response;
    if ('error' in response) {
      // A failed start: stop this attempt; the exit path decides whether and when to try again.
      this.#lastError = handshake.failure === 'timeout'
        ? `initialize not answered within ${spec.startTimeoutMs}ms`
        : `initialize failed: ${response.error.message}`;
      this.#startFailed = true;
      await child.stop(spec.stopTimeoutMs);
      return;
    }
    this.router.notify({ jsonrpc: '2.0', method: Method.Initialized });
    this.router.setAvailability({ kind: 'ready' }, response.result);
    this.#setState('running', null);
  }

  #onExit(child: ChildHandle, info: ExitInfo): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    const how = info.error ?? (info.signal !== null ? `killed by ${info.signal}` : `exited with code ${info.code}`);
    this.router.detach(how);
    this.#lastExit = { code: info.code, signal: info.signal, at: new Date().toISOString() };
    this.#deps.log.info({ server: this.name, pid: child.pid, code: info.code, signal: info.signal, error: info.error }, 'child exited');
    if (this.#state === 'stopping') return; // a stop or restart in progress owns what happens next
    void reapGroup(child.pid, this.#spec.stopTimeoutMs); // grandchildren of a crashed child
    const startFailed = this.#startFailed || this.#state === 'starting';
    this.#startFailed = false;
    this.#afterExit(info, startFailed);
  }

  /** Decides what follows an exit nobody asked for: a restart after backoff, `exited`, or `failed`. */
  #afterExit(info: ExitInfo, startFailed: boolean): void {
    const spec = this.#spec;
    if (startFailed && this.#lastError === null) {
      this.#lastError = info.error !== undefined ? `spawn failed: ${info.error}` : 'exited before answering initialize';
    } else if (!startFailed) {
      this.#lastError = info.signal !== null ? `killed by ${info.signal}` : info.code === 0 ? null : `exited with code ${info.code}`;
    }
    if (info.oomKilled === true) this.#lastError = oomMessage(spec.limits); // the cause, whatever the start's state
    const cleanExit = !startFailed && info.code === 0 && info.signal === null;
    const reason: StateReason = info.oomKilled === true ? 'OOMKilled' : startFailed ? 'FailedStart' : cleanExit ? 'Exited' : 'Crashed';
    if (!startFailed && Date.now() - this.#startedAt >= spec.restart.backoff.resetAfterMs) this.#failures = 0;
    if (this.#closed || (!startFailed && !shouldRestart(spec.restart.policy, info.code, info.signal)) || (startFailed && spec.restart.policy === 'never')) {
      this.router.setAvailability({ kind: 'down', reason: 'exited' });
      this.#setState(startFailed ? 'failed' : 'exited', reason);
      return;
    }
    const now = Date.now();
    const limit = checkStartLimit(spec.restart, this.#autoRestarts, now);
    if (limit.exceeded) {
      this.#lastError = `start limit hit: ${spec.restart.limit.count} restarts within ${spec.restart.limit.windowMs}ms (last: ${this.#lastError ?? 'clean exit'}); start it by hand or change its spec`;
      this.router.setAvailability({ kind: 'down', reason: 'failed (start limit)' });
      this.#setState('failed', 'StartLimit');
      return;
    }
    this.#failures++;
    const wait = backoffDelay(spec.restart, this.#failures);
    const generation = this.#generation;
    this.router.setAvailability({ kind: 'down', reason: `restarting in ${wait}ms` });
    this.#setState('backoff', reason);
    this.#backoffTimer = setTimeout(() => {
      if (generation !== this.#generation || this.#closed) return;
      void this.#enqueue(async () => {
        if (generation !== this.#generation || this.#closed) return;
        this.#autoRestarts = [...limit.recent, Date.now()];
        this.#restarts++;
        await this.#launch();
      });
    }, wait);
  }

  #onStderr(line: string): void {
    this.stderr.push(line);
    this.#deps.log.info({ server: this.name, stderr: line }, 'child stderr');
    this.#stderrListeners.emit(line);
  }

  #setState(state: ServerState, reason: StateReason | null): void {
    if (this.#state === state && this.#reason === reason) return;
    this.#state = state;
    this.#reason = reason;
    this.#since = new Date();
    const status = this.status();
    this.#deps.log.info({ server: this.name, state, pid: status.pid, reason, error: this.#lastError ?? undefined }, 'server state');
    this.#statusListeners.emit(status);
  }
}
