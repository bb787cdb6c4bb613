// One supervisor per server: it owns the child process, walks it through explicit states, restarts it
// by policy with backoff and a start limit, and stops its whole process group. Readiness is the MCP
// initialize handshake, done by the gateway itself through the server's router. A running child is
// replaced as Caddy loads a config: the new one is provisioned beside it, swapped in once it answers
// initialize, and the old one drains; a new child that fails leaves the old one serving.
import type { ServerSpec } from '../config/types.ts';
import { Listeners } from '../listeners.ts';
import type { Logger } from '../log.ts';
import { ErrorCode, LATEST_PROTOCOL_VERSION, Method, errorResponse, type JsonRpcResponse } from '../protocol/jsonrpc.ts';
import type { ChildLink, Observer, Router, Tap } from '../router/router.ts';
import type { KnownLists } from '../router/types.ts';
import { backoffDelay, checkStartLimit, shouldRestart } from './backoff.ts';
import { reapGroup, spawnChild, type ChildHandle, type ExitInfo } from './child-process.ts';
import { oomMessage } from './limits.ts';
import { StderrBuffer } from './stderr-buffer.ts';
import { stableJson } from '../plan/plan.ts';
import { Liveness } from './liveness.ts';
import { readKnownLists } from './idle-lists.ts';
import { changedLists, ROLLOUT_STDERR_LINES, sameProcess, specRevision, type RolloutFailure } from './rollout.ts';

/** How long reading the lists before an idle stop may take in all (a child that stalls it is stopped anyway). */
const IDLE_LIST_BUDGET_MS = 5_000;

/** `idle`: an on-demand server with no child now; the next request starts one (not `stopped`: nobody stopped it). */
export type ServerState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'exited' | 'failed' | 'idle';

/** Why a server is not running, in words an operator can search for. */
export type StateReason = 'FailedStart' | 'Crashed' | 'OOMKilled' | 'Unresponsive' | 'StartLimit' | 'Exited' | 'Stopped' | 'Disabled' | 'RolloutFailed' | 'IdleStop';

export interface ServerStatus {
  readonly name: string;
  readonly state: ServerState;
  readonly pid: number | null;
  readonly restarts: number;
  /** When the server entered its current state (ISO 8601). */
  readonly since: string;
  readonly reason: StateReason | null;
  /** The last exit of a child nobody asked to stop: how, when, and why (with what it said then, if anything). */
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: string; readonly reason?: StateReason; readonly error?: string } | null;
  readonly lastError: string | null;
  /** When a child of this server was last spawned (ISO 8601), or null. */
  readonly lastStartAt: string | null;
  /** specRevision of what the child runs (null without one) and of what the manifest asks for. */
  readonly revision: { readonly running: string | null; readonly wanted: string };
  /** A rollout under way (`provisioning` the new child, `draining` old ones), or none. */
  readonly rollout: 'provisioning' | 'draining' | null;
  /** Pids of replaced children still finishing their requests. */
  readonly draining: readonly number[];
  /** The last rollout that failed, while the old child still serves (reason RolloutFailed). */
  readonly rolloutFailure: RolloutFailure | null;
  readonly rollouts: { readonly succeeded: number; readonly failed: number };
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
  /** Open session and classic streams on this server: an idle stop waits until there are none. */
  readonly openStreams?: () => number;
}

/** What the gateway declares when it initializes a shared child: only what the manifest opts in to. */
export function gatewayInitializeParams(spec: ServerSpec, version: string): Record<string, unknown> {
  return {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: Object.fromEntries(spec.clientCapabilities.map((c) => [c, {}])),
    clientInfo: { name: 'mcp-gateway', version },
  };
}

/**
 * Why a spawn threw, without what it was given: Node quotes the offending value in its message (an env
 * value or an argument with a NUL byte), and env values are secrets. The code says which kind it was.
 */
function spawnError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE') {
    return `${code} (the command, an argument or an env value cannot be passed to a process: a NUL byte?)`;
  }
  return code ?? 'error without a code';
}

export class Supervisor {
  readonly name: string;
  readonly router: Router;
  readonly stderr: StderrBuffer;
  #spec: ServerSpec;
  readonly #deps: SupervisorDeps;

  #child: ChildHandle | undefined;
  /** The spec the current child was started with (#spec may be newer: a rollout that failed). */
  #runningSpec: ServerSpec | undefined;
  /** Each live child's place in the router: the current one, a new one being provisioned, old ones draining. */
  readonly #links = new Map<ChildHandle, ChildLink>();
  /** The new child of a rollout, until it answers initialize (or fails to). */
  #candidate: ChildHandle | undefined;
  /** Replaced children finishing the requests they have, until drainTimeout. */
  readonly #draining = new Set<ChildHandle>();
  #rolloutFailure: RolloutFailure | null = null;
  /** Pings the current child while it runs (liveness), when the spec asks for it. */
  #liveness: Liveness | undefined;
  /** Set when liveness found the current child hung: its exit is reported as Unresponsive. */
  #unresponsive: string | undefined;
  /** Looks for an unused child to stop (idleStop). */
  #idleTimer: NodeJS.Timeout | undefined;
  /**
   * The last child's InitializeResult, kept across idle stops: a client's initialize is answered from it
   * without starting a child. Cleared when the spec changes.
   */
  #knownInitializeResult: Record<string, unknown> | undefined;
  /** The last child's lists, read just before an idle stop: answered while idle (idle-lists.ts). */
  #knownLists: KnownLists | undefined;
  /** The old child's exit, when it crashed while its successor was being provisioned: the rollout takes over. */
  #crashedMidRollout: ExitInfo | undefined;
  #lastStartAt: Date | undefined;
  #rollouts = { succeeded: 0, failed: 0 };
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
    router.onWake = () => this.#wake();
    router.readinessTimeoutMs = spec.startTimeoutMs;
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
      lastStartAt: this.#lastStartAt?.toISOString() ?? null,
      revision: { running: this.#runningSpec === undefined ? null : specRevision(this.#runningSpec), wanted: specRevision(this.#spec) },
      rollout: this.#candidate !== undefined ? 'provisioning' : this.#draining.size > 0 ? 'draining' : null,
      draining: [...this.#draining].map((c) => c.pid).filter((pid): pid is number => pid !== undefined),
      rolloutFailure: this.#rolloutFailure,
      rollouts: { ...this.#rollouts },
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

  /**
   * Starts the server by hand (or first boot): clears the failure count and the start limit.
   * `as-configured` (the reconciler): an on-demand server goes idle instead, and starts at its first request.
   */
  start(how: 'now' | 'as-configured' = 'now'): Promise<ServerStatus> {
    return this.#enqueue(async () => {
      if (this.#state === 'running' || this.#state === 'starting') return;
      if (how === 'as-configured' && this.#spec.start === 'on-demand' && this.#child === undefined) return this.#goIdle();
      this.#generation++;
      clearTimeout(this.#backoffTimer);
      this.#failures = 0;
      this.#autoRestarts = [];
      await this.#launch();
    });
  }

  /** Stops the child (and any being provisioned or drained); `Disabled` when the manifest says enabled: false. */
  stop(reason: 'Stopped' | 'Disabled' = 'Stopped'): Promise<ServerStatus> {
    this.#interruptStart(false);
    this.#interruptRollout();
    return this.#enqueue(async () => {
      await this.#stopChild(false);
      this.#setState('stopped', reason);
      this.router.setAvailability({ kind: 'down', reason: reason === 'Disabled' ? 'disabled in the manifest' : 'stopped' });
    });
  }

  /**
   * A new child for the current spec. With `rollout: overlap` and a child serving, it is provisioned
   * beside the old one, swapped in once it answers initialize, and the old one drains (see #rollout).
   * Otherwise (replace, or nothing running) the old one is stopped first; requests that arrive meanwhile
   * wait for the new process.
   */
  restart(): Promise<ServerStatus> {
    if (this.#state === 'idle') {
      // Nothing runs: the next request starts the current spec. What the old one answered may not hold.
      return this.#enqueue(async () => {
        if (this.#state !== 'idle') return this.#replace();
        if (this.#runningSpec !== undefined && !sameProcess(this.#runningSpec, this.#spec)) this.#forgetInitializeResult();
      });
    }
    if (this.#spec.rollout === 'overlap' && this.#state === 'running' && this.#child !== undefined) {
      return this.#enqueue(async () => {
        if (this.#state === 'running' && this.#child !== undefined && !this.#closed) await this.#rollout();
        else await this.#replace();
      });
    }
    this.#interruptStart(true);
    return this.#enqueue(() => this.#replace());
  }

  /** Old child out, new one in (the replace order; also when nothing runs). */
  async #replace(): Promise<void> {
    {
      const wasRunning = this.#child !== undefined;
      await this.#stopChild(true);
      if (wasRunning) this.#restarts++;
      this.#failures = 0;
      this.#autoRestarts = [];
      await this.#launch();
    }
  }

  /**
   * Takes a new spec. Only the reconciler calls this, and it restarts the child itself when fields that
   * shape the process changed; the rest (timeouts, policy, buffer size) apply from here on.
   */
  update(spec: ServerSpec): void {
    const was = this.#spec;
    this.#spec = spec;
    if (stableJson(spec.liveness) !== stableJson(was.liveness) && this.#state === 'running') this.#watch(); // a reload rebuilds equal ones
    if (spec.idleStopMs !== was.idleStopMs) this.#armIdleStop();
    if (this.#state === 'idle' && spec.start === 'always') this.#wake();
    this.router.requestTimeoutMs = spec.requestTimeoutMs;
    this.router.requestTimeoutMaxMs = spec.requestTimeoutMaxMs;
    this.router.readinessTimeoutMs = spec.startTimeoutMs;
    this.router.slots.max = spec.maxInFlight;
    this.router.slots.queueTimeoutMs = spec.queueTimeoutMs;
    this.stderr.resize(spec.stderrLines);
  }

  /** What the reconciler calls when the spec's process fields changed: a new child (see restart). */
  rollout(): Promise<ServerStatus> {
    return this.restart();
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

  /** A stop does not wait for a new child's handshake: that attempt ends now, and the old child with the rest. */
  #interruptRollout(): void {
    const candidate = this.#candidate;
    if (candidate === undefined) return;
    this.#generation++; // the rollout under way stands down when its handshake settles
    void candidate.stop(this.#spec.stopTimeoutMs);
  }

  /**
   * Provision → swap → drain. The new child starts beside the running one and is initialized on its own
   * link; only when it answers does the router send new requests to it. The old child keeps the requests
   * it has (answers, progress, cancels reach it) until they finish or drainTimeout passes, then stops.
   * Sessions hear list_changed for each list that differs. A new child that fails to spawn, exits or does
   * not answer within startTimeout is stopped; the old one serves on, and status says why
   * (RolloutFailed). The queue is held until the swap (or the failure), not during the drain.
   */
  async #rollout(): Promise<void> {
    const spec = this.#spec;
    const old = this.#child!;
    const oldLink = this.#links.get(old)!;
    if (this.#runningSpec !== undefined && sameProcess(this.#runningSpec, spec) && this.#rolloutFailure !== null) {
      // The manifest went back to what runs: nothing to roll out, the failure is history.
      this.#rolloutFailure = null;
      this.#setState('running', null, true);
      return;
    }
    const generation = this.#generation;
    const tail: string[] = [];
    let child: ChildHandle;
    try {
      child = this.#spawn(spec, (line) => {
        this.#onStderr(line);
        tail.push(line);
        if (tail.length > ROLLOUT_STDERR_LINES) tail.shift();
      });
    } catch (err) {
      return this.#rolloutFailed(spec, `spawn failed: ${spawnError(err)}`, null, tail);
    }
    const link = this.router.add(child.stdin, child.stdout);
    this.#links.set(child, link);
    this.#candidate = child;
    this.#statusListeners.emit(this.status());
    this.#deps.log.info({ server: this.name, pid: child.pid, old: old.pid }, 'rollout: new child spawned beside the running one');
    void child.exited.then((info) => this.#onExit(child, info));

    const handshake = await this.router.sendTo(link, this.#initializeRequest(spec), spec.startTimeoutMs);
    this.#candidate = undefined;
    // The old child crashed meanwhile: this new one is the way back (requests have been waiting for it).
    const crashed = this.#crashedMidRollout;
    this.#crashedMidRollout = undefined;
    if (generation !== this.#generation || this.#closed || (this.#child !== old && crashed === undefined)) {
      // Stopped or replaced meanwhile: this attempt is over.
      await child.stop(spec.stopTimeoutMs);
      this.#statusListeners.emit(this.status());
      return;
    }
    const response = handshake.response;
    if ('error' in response && crashed !== undefined) {
      // Neither child serves: the crash path (restart policy, backoff) takes it from here.
      await child.stop(spec.stopTimeoutMs);
      return this.#afterExit(crashed, false);
    }
    if ('error' in response) {
      // An exit says more than "closed": wait briefly for it, then make sure the attempt is gone.
      const exited = await Promise.race([child.exited, new Promise<undefined>((r) => setTimeout(r, 100, undefined))]);
      await child.stop(spec.stopTimeoutMs);
      const info = exited ?? (await child.exited);
      const error = handshake.failure === 'timeout'
        ? `initialize not answered within ${spec.startTimeoutMs}ms`
        : exited !== undefined
          ? `exited before answering initialize (${exited.error ?? (exited.signal !== null ? `killed by ${exited.signal}` : `code ${exited.code}`)})`
          : `initialize failed: ${response.error.message}`;
      return this.#rolloutFailed(spec, error, exited === undefined ? null : { code: info.code, signal: info.signal }, tail);
    }

    // The swap: from here on new requests go to the new child.
    const before = this.router.initializeResult;
    this.router.promote(link);
    this.#child = child;
    this.#runningSpec = spec;
    this.#startedAt = Date.now();
    this.#lastStartAt = new Date();
    this.#knownInitializeResult = response.result;
    this.#since = new Date(); // running since the new process took over
    this.#restarts++;
    this.#rollouts.succeeded++;
    this.#rolloutFailure = null;
    this.#lastError = null;
    this.router.notify({ jsonrpc: '2.0', method: Method.Initialized });
    this.router.setAvailability({ kind: 'ready' }, response.result);
    this.#draining.add(old);
    this.#deps.log.info({ server: this.name, pid: child.pid, old: old.pid, draining: oldLink.open }, 'rollout: new child serving; the old one drains');
    this.#setState('running', null, true);
    this.#watch();
    // The lists are asked of the old child before its drain starts: they count among what it finishes.
    void this.#announceChangedLists(oldLink, before, link, response.result, spec);
    void this.#drain(old, oldLink, spec);
  }

  /** Lets the replaced child finish what it has (up to drainTimeout), then stops it. */
  async #drain(old: ChildHandle, link: ChildLink, spec: ServerSpec): Promise<void> {
    if (link.open > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        link.onDrained = resolve;
        timer = setTimeout(resolve, spec.drainTimeoutMs);
      });
      clearTimeout(timer);
      link.onDrained = undefined;
    }
    // What did not finish in time is answered now, with a reason a client can act on.
    this.router.drop(link, `was replaced and its old process did not finish within drainTimeout (${spec.drainTimeoutMs}ms)`);
    await old.stop(spec.stopTimeoutMs);
    this.#draining.delete(old);
    this.#deps.log.info({ server: this.name, pid: old.pid }, 'rollout: old child drained and stopped');
    this.#statusListeners.emit(this.status());
  }

  /**
   * Tells sessions of each list that differs between the old child and the new one: the new child never
   * said list_changed, since to it nothing changed. Bounded by requestTimeout per page.
   */
  async #announceChangedLists(oldLink: ChildLink, before: Record<string, unknown> | undefined, newLink: ChildLink, after: Record<string, unknown>, spec: ServerSpec): Promise<void> {
    const sender = (link: ChildLink) => async (method: string, params: Record<string, unknown>) =>
      (await this.router.sendTo(link, { jsonrpc: '2.0', id: 0, method, params }, spec.requestTimeoutMs)).response;
    const changed = await changedLists({ send: sender(oldLink), initializeResult: before }, { send: sender(newLink), initializeResult: after });
    for (const method of changed) if (!this.#closed) this.router.broadcast({ jsonrpc: '2.0', method });
  }

  #rolloutFailed(spec: ServerSpec, error: string, exit: RolloutFailure['exit'], stderr: readonly string[]): void {
    this.#rollouts.failed++;
    this.#rolloutFailure = {
      reason: 'RolloutFailed',
      at: new Date().toISOString(),
      error,
      exit,
      stderr: [...stderr],
      running: this.#runningSpec === undefined ? '' : specRevision(this.#runningSpec),
      wanted: specRevision(spec),
    };
    this.#deps.log.error({ server: this.name, error, code: exit?.code, signal: exit?.signal }, 'rollout failed; the old child keeps serving until the manifest changes again');
    this.#setState('running', 'RolloutFailed', true);
  }

  /** A child of `spec`, in its own process group, under its limits. Throws when it cannot be spawned at all. */
  #spawn(spec: ServerSpec, onStderrLine: (line: string) => void): ChildHandle {
    return spawnChild({ command: spec.command, args: spec.args, cwd: spec.cwd, env: this.#deps.envFor(spec), server: this.name, limits: spec.limits }, onStderrLine, this.#deps.log);
  }

  #initializeRequest(spec: ServerSpec): { jsonrpc: '2.0'; id: number; method: string; params: Record<string, unknown> } {
    return { jsonrpc: '2.0', id: 0, method: Method.Initialize, params: this.#deps.initializeParams ?? gatewayInitializeParams(spec, this.#deps.version) };
  }

  #enqueue(op: () => Promise<void>): Promise<ServerStatus> {
    const run = this.#queue.then(op);
    this.#queue = run.catch(() => {});
    return run.then(() => this.status());
  }

  async #stopChild(restarting: boolean): Promise<void> {
    this.#generation++;
    clearTimeout(this.#backoffTimer);
    clearTimeout(this.#idleTimer);
    this.#unwatch();
    // Old children still draining go with it: a stop leaves no process behind.
    const draining = [...this.#draining].map((c) => c.stop(this.#spec.stopTimeoutMs));
    const child = this.#child;
    if (child !== undefined) {
      this.#setState('stopping', null);
      this.router.setAvailability(restarting ? { kind: 'pending' } : { kind: 'down', reason: 'stopping' });
      await child.stop(this.#spec.stopTimeoutMs);
    }
    await Promise.all(draining);
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
      child = this.#spawn(spec, (line) => this.#onStderr(line));
    } catch (err) {
      this.#afterExit({ code: null, signal: null, error: spawnError(err) }, true);
      return;
    }
    this.#child = child;
    this.#runningSpec = spec;
    this.#rolloutFailure = null; // a fresh start runs the wanted spec
    this.#links.set(child, this.router.attach(child.stdin, child.stdout));
    this.#startedAt = Date.now();
    this.#lastStartAt = new Date();
    // Not the command: it may have been written with ${VAR}, and no value from the environment is logged.
    this.#deps.log.info({ server: this.name, pid: child.pid }, 'child spawned');
    void child.exited.then((info) => this.#onExit(child, info));

    const handshake = await this.router.request(this.#initializeRequest(spec), { internal: true, timeoutMs: spec.startTimeoutMs });
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
    this.#knownInitializeResult = response.result;
    this.#setState('running', null);
    this.#watch();
    this.#armIdleStop();
  }

  #onExit(child: ChildHandle, info: ExitInfo): void {
    const link = this.#links.get(child);
    this.#links.delete(child);
    const how = info.error ?? (info.signal !== null ? `killed by ${info.signal}` : `exited with code ${info.code}`);
    if (link !== undefined) this.router.drop(link, how);
    if (this.#child !== child) {
      // A rollout's new child (its handshake fails on the drop) or an old one that was draining.
      if (this.#draining.delete(child)) {
        this.#deps.log.info({ server: this.name, pid: child.pid, code: info.code, signal: info.signal }, 'rollout: old child exited while draining');
        void reapGroup(child.pid, this.#spec.stopTimeoutMs);
        this.#statusListeners.emit(this.status());
      }
      return;
    }
    this.#child = undefined;
    this.#unwatch();
    this.#lastExit = { code: info.code, signal: info.signal, at: new Date().toISOString() };
    this.#deps.log.info({ server: this.name, pid: child.pid, code: info.code, signal: info.signal, error: info.error }, 'child exited');
    if (this.#state === 'stopping') return; // a stop or restart in progress owns what happens next
    void reapGroup(child.pid, this.#spec.stopTimeoutMs); // grandchildren of a crashed child
    if (this.#candidate !== undefined) {
      // Its successor is being provisioned: requests wait for that one rather than for a restart from scratch.
      this.#crashedMidRollout = info;
      this.router.setAvailability({ kind: 'pending' });
      this.#lastError = how;
      this.#setState('starting', 'Crashed');
      return;
    }
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
    const unresponsive = this.#unresponsive;
    this.#unresponsive = undefined;
    if (unresponsive !== undefined && !startFailed) this.#lastError = `unresponsive: ${unresponsive}`;
    if (info.oomKilled === true) this.#lastError = oomMessage(spec.limits); // the cause, whatever the start's state
    const cleanExit = !startFailed && info.code === 0 && info.signal === null;
    const why: StateReason = info.oomKilled === true ? 'OOMKilled' : startFailed ? 'FailedStart' : unresponsive !== undefined ? 'Unresponsive' : cleanExit ? 'Exited' : 'Crashed';
    // Kept past the restart (launch clears lastError): status still says why the last child went.
    if (this.#lastExit !== null) this.#lastExit = { ...this.#lastExit, reason: why, ...(this.#lastError === null ? {} : { error: this.#lastError }) };
    if (!startFailed && Date.now() - this.#startedAt >= spec.restart.backoff.resetAfterMs) this.#failures = 0;
    if (this.#closed || (!startFailed && !shouldRestart(spec.restart.policy, info.code, info.signal)) || (startFailed && spec.restart.policy === 'never')) {
      this.router.setAvailability({ kind: 'down', reason: 'exited' });
      this.#setState(startFailed ? 'failed' : 'exited', why);
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
    if (startFailed && spec.start === 'on-demand') {
      // Nobody waits on a retry loop: the requests that woke it hear why, and the next request tries again
      // (the start limit above still holds a command that fails every time).
      this.#autoRestarts = [...limit.recent, now];
      this.router.setAvailability({ kind: 'down', reason: this.#lastError ?? 'it failed to start' });
      this.#goIdle('FailedStart');
      return;
    }
    this.#failures++;
    const wait = backoffDelay(spec.restart, this.#failures);
    const generation = this.#generation;
    this.router.setAvailability({ kind: 'down', reason: `restarting in ${wait}ms` });
    this.#setState('backoff', why);
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

  /** Pings the current child while it runs (spec.liveness); a hung one is killed and restarted by policy. */
  #watch(): void {
    this.#unwatch();
    const liveness = this.#spec.liveness;
    const child = this.#child;
    const link = child === undefined ? undefined : this.#links.get(child);
    if (liveness === null || child === undefined || link === undefined) return;
    const probe = {
      lastHeardAt: () => link.lastHeardAt,
      ping: (timeoutMs: number) => this.router.sendTo(link, { jsonrpc: '2.0', id: 0, method: Method.Ping }, timeoutMs).then(() => undefined),
    };
    this.#liveness = new Liveness(liveness, probe, (why) => this.#killUnresponsive(child, link, why));
  }

  #unwatch(): void {
    this.#liveness?.stop();
    this.#liveness = undefined;
  }

  /**
   * A hung child: what it had in flight is answered now (it would only time out one by one), then it is
   * killed; its exit goes the crash path (restart policy, backoff, start limit) with reason Unresponsive.
   */
  #killUnresponsive(child: ChildHandle, link: ChildLink, why: string): void {
    if (this.#child !== child) return;
    this.#unresponsive = why;
    this.#deps.log.warn({ server: this.name, pid: child.pid, why }, 'child unresponsive; killing it');
    this.router.drop(link, `stopped responding (${why}); it is being restarted`);
    // A blocked event loop reads neither stdin nor signals it handles: TERM and KILL without a grace.
    void child.stop(0);
  }

  /** No child, and none until a request needs one: the last InitializeResult keeps answering initialize. */
  #goIdle(reason: StateReason | null = this.#state === 'stopping' ? 'IdleStop' : null): void {
    clearTimeout(this.#idleTimer);
    this.#setState('idle', reason);
    this.router.setAvailability({ kind: 'idle' }, this.#knownInitializeResult, this.#knownLists);
  }

  /**
   * The lists of a child about to be stopped for idleness, read within IDLE_LIST_BUDGET_MS in all (a list past
   * it is left out: asking it starts the child). None when the child died meanwhile or the read failed.
   */
  async #readLists(child: ChildHandle): Promise<KnownLists | undefined> {
    const link = this.#links.get(child);
    if (link === undefined) return undefined;
    const deadline = performance.now() + Math.min(this.#spec.requestTimeoutMs, IDLE_LIST_BUDGET_MS);
    const send = async (method: string, params: Record<string, unknown>): Promise<JsonRpcResponse> => {
      const left = Math.floor(deadline - performance.now());
      if (left <= 0) return errorResponse(0, ErrorCode.RequestTimeout, 'no time left to read the lists');
      return (await this.router.sendTo(link, { jsonrpc: '2.0', id: 0, method, params }, left)).response;
    };
    try {
      const lists = await readKnownLists({ send, initializeResult: this.router.initializeResult });
      return this.#child === child ? lists : undefined;
    } catch (err) {
      this.#deps.log.warn({ server: this.name, err: String(err) }, 'idle stop: could not read the lists; the next list starts the child');
      return undefined;
    }
  }

  #forgetInitializeResult(): void {
    this.#knownInitializeResult = undefined;
    this.#knownLists = undefined;
    if (this.#state === 'idle') this.router.setAvailability({ kind: 'idle' });
  }

  /** A request waits on an idle server (or its spec says always again): start it. */
  #wake(): void {
    if (this.#state !== 'idle' || this.#closed) return;
    void this.#enqueue(async () => {
      if (this.#state !== 'idle' || this.#closed) return;
      this.#failures = 0;
      this.#deps.log.info({ server: this.name }, 'starting on demand');
      await this.#launch();
    });
  }

  /** Looks every so often (a quarter of idleStop, 50 ms to 30 s) for a child nobody has used for idleStop. */
  #armIdleStop(): void {
    clearTimeout(this.#idleTimer);
    const idleMs = this.#spec.idleStopMs;
    if (idleMs <= 0 || this.#state !== 'running') return;
    this.#idleTimer = setTimeout(() => this.#idleCheck(), Math.min(30_000, Math.max(50, idleMs / 4)));
    this.#idleTimer.unref();
  }

  #idleCheck(): void {
    if (!this.#isUnused()) return this.#armIdleStop();
    void this.#enqueue(async () => {
      if (!this.#isUnused()) return this.#armIdleStop();
      this.#deps.log.info({ server: this.name, pid: this.#child?.pid, idleStopMs: this.#spec.idleStopMs }, 'idle: stopping the unused child');
      this.router.setAvailability({ kind: 'pending' }); // requests that come meanwhile wait, then wake it again
      this.#generation++;
      this.#unwatch();
      const child = this.#child!;
      this.#setState('stopping', null);
      if (this.#runningSpec === undefined || sameProcess(this.#runningSpec, this.#spec)) {
        this.#knownLists = await this.#readLists(child);
      } else {
        // A rollout failed and this child ran on: the next one is the manifest's, whose answers are not known.
        this.#knownInitializeResult = undefined;
        this.#knownLists = undefined;
      }
      await child.stop(this.#spec.stopTimeoutMs);
      if (this.#state === 'stopping' && !this.#closed) this.#goIdle();
    });
  }

  /**
   * Running, no rollout, nothing in flight or queued, no open stream, no resource subscription held (an
   * aggregate session's or a 2026 listen stream's: the child is what sends the updates), and no request for idleStop.
   */
  #isUnused(): boolean {
    return this.#state === 'running' && this.#child !== undefined && this.#candidate === undefined && this.#draining.size === 0
      && this.router.inFlight === 0 && this.router.queued === 0 && (this.#deps.openStreams?.() ?? 0) === 0 && this.router.subscriptions === 0
      && performance.now() - this.router.lastActivityAt >= this.#spec.idleStopMs;
  }

  #onStderr(line: string): void {
    this.stderr.push(line);
    this.#deps.log.info({ server: this.name, stderr: line }, 'child stderr');
    this.#stderrListeners.emit(line);
  }

  /** `always`: tell listeners even when state and reason stay (a new pid, a rollout's news). */
  #setState(state: ServerState, reason: StateReason | null, always = false): void {
    if (this.#state === state && this.#reason === reason && !always) return;
    if (this.#state !== state) this.#since = new Date();
    this.#state = state;
    this.#reason = reason;
    const status = this.status();
    this.#deps.log.info({ server: this.name, state, pid: status.pid, reason, error: this.#lastError ?? undefined }, 'server state');
    this.#statusListeners.emit(status);
  }
}
