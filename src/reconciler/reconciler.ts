// The reconciler: level-triggered, one pass at a time. Every trigger (file event, SIGHUP, boot) only
// enqueues a pass; a pass reads the whole manifest, plans against the specs running now, and applies.
// A manifest that does not load changes nothing: the last good state keeps running, and the errors are
// kept where the API and the log show them until a good version arrives. A manifest whose apply fails
// is not "seen": the next look (the watch looks every 2 s) or event tries the same bytes again.
import { childEnvironment } from '../config/child-env.ts';
import { loadManifest } from '../config/load.ts';
import { withoutEnvValues } from '../config/shown.ts';
import { formatConfigError, type Desired, type LoadResult, type ServerSpec } from '../config/types.ts';
import { Listeners } from '../listeners.ts';
import type { Logger } from '../log.ts';
import { isEmptyPlan, plan, summarize, type Plan } from '../plan/plan.ts';
import type { Observer } from '../router/router.ts';
import { createManagedServer, type ManagedServer } from '../supervisor/managed-server.ts';
import type { SupervisorDeps } from '../supervisor/supervisor.ts';
import { Schedules } from './schedules.ts';

export interface ManifestStatus {
  readonly file: string;
  /**
   * `ok`: the file on disk is what runs. `error`: it does not load, and the last good version runs; or
   * applying it failed part way (errors say why), and the next look tries again.
   */
  readonly state: 'pending' | 'ok' | 'error';
  readonly appliedHash: string | null;
  readonly appliedAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly errors: readonly string[];
  readonly lastPlan: string | null;
}

export interface ReconcilerDeps {
  readonly log: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  /** Metrics: the observer for a server's routers. */
  readonly observerFor?: (server: string) => Observer;
  /** Open streams on a server (sessions and classic): an idle stop waits for none. */
  readonly openStreams?: (server: string) => number;
  /** The effect of starting a server's supervision (default createManagedServer); tests put a failing one here. */
  readonly createServer?: (spec: ServerSpec, deps: SupervisorDeps) => ManagedServer;
}

export type ReloadTrigger = 'boot' | 'file' | 'signal' | 'api';

export interface ReloadOutcome {
  readonly ok: boolean;
  readonly plan?: Plan;
  readonly desired?: Desired;
}

/**
 * What one pass did. `unchanged`: a `file` pass found the bytes it had already seen and did nothing;
 * `rejected`: the manifest did not load; `failed`: applying it threw; `closed`: close() came first.
 */
export type PassResult = 'unchanged' | 'applied' | 'rejected' | 'failed' | 'closed';

export interface PassReport {
  /** Passes are numbered from 1 in the order they start (see Reconciler.passesStarted). */
  readonly seq: number;
  readonly trigger: ReloadTrigger;
  readonly result: PassResult;
}

export class Reconciler {
  readonly file: string;
  readonly #deps: ReconcilerDeps;
  readonly #servers = new Map<string, ManagedServer>();
  readonly #schedules: Schedules;
  readonly #removedListeners = new Listeners<string>();
  readonly #appliedListeners = new Listeners<Desired>();
  readonly #reloadListeners = new Listeners<boolean>();
  readonly #passListeners = new Listeners<PassReport>();
  #queue: Promise<unknown> = Promise.resolve();
  #passesStarted = 0;
  #desired: Desired | undefined;
  /** The variables holding keys in the manifest being applied: set before any child of it is spawned. */
  #secretEnvNames: readonly string[] = [];
  #lastSeenHash: string | undefined;
  /** The last apply failure, logged once at error level: a look every 2 s must not fill the log. */
  #lastApplyError: string | undefined;
  #status: ManifestStatus;
  #closed = false;

  constructor(file: string, deps: ReconcilerDeps) {
    this.file = file;
    this.#deps = deps;
    this.#status = { file, state: 'pending', appliedHash: null, appliedAt: null, lastAttemptAt: null, errors: [], lastPlan: null };
    this.#schedules = new Schedules((name) => this.#scheduledRestart(name));
  }

  get servers(): ReadonlyMap<string, ManagedServer> {
    return this.#servers;
  }

  /** The last manifest that loaded and was applied. */
  get desired(): Desired | undefined {
    return this.#desired;
  }

  get status(): ManifestStatus {
    return this.#status;
  }

  /** Called when a server leaves the manifest (after its child is stopped), so faces can close its streams. */
  onRemoved(listener: (name: string) => void): () => void {
    return this.#removedListeners.add(listener);
  }

  /** Called after each manifest that loaded has been applied (keys, listen settings may have changed). */
  onApplied(listener: (desired: Desired) => void): () => void {
    return this.#appliedListeners.add(listener);
  }

  /** Called after every pass that read a manifest: true when it was applied, false when it was rejected. */
  onReload(listener: (ok: boolean) => void): () => void {
    return this.#reloadListeners.add(listener);
  }

  /**
   * Called after every pass, also one that found nothing new: a pass that started after a write to the
   * manifest (its seq is above passesStarted read before the write) has read what was written.
   */
  onPass(listener: (pass: PassReport) => void): () => void {
    return this.#passListeners.add(listener);
  }

  /** How many passes have started: the seq of the latest one. */
  get passesStarted(): number {
    return this.#passesStarted;
  }

  /**
   * Enqueues a pass. `file` triggers skip the pass when the bytes did not change since the last look;
   * the others always re-read and re-plan.
   */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const run = this.#queue.then(async () => {
      const seq = ++this.#passesStarted;
      const [outcome, result] = await this.#pass(trigger);
      this.#passListeners.emit({ seq, trigger, result });
      return outcome;
    });
    this.#queue = run.catch((err: unknown) => this.#deps.log.error({ err }, 'reconcile pass failed'));
    return run;
  }

  async #pass(trigger: ReloadTrigger): Promise<[ReloadOutcome, PassResult]> {
    if (this.#closed) return [{ ok: false }, 'closed'];
    const log = this.#deps.log;
    let loaded = await loadManifest(this.file, this.#deps.env);
    // What was seen last time: the hash of the bytes of the manifest and its env files, or the reason the
    // manifest could not be read. The same again (the watch's periodic look, an event that changed nothing)
    // is no news: no pass, no log line. Env files outside the watched folder are seen at the periodic look.
    const seenOf = (r: LoadResult): string => (r.ok ? r.desired.inputHash : (r.inputHash ?? `unreadable: ${r.errors[0]?.message ?? ''}`));
    let seen = seenOf(loaded);
    if (trigger === 'file' && seen === this.#lastSeenHash) return [{ ok: this.#status.state === 'ok' }, 'unchanged'];
    if (!loaded.ok && trigger === 'file') {
      // An editor or `>` that truncates and then writes can be caught in between: look again shortly,
      // and judge what is there then (the same bytes again: a real error).
      await new Promise((r) => setTimeout(r, 150));
      const again = await loadManifest(this.file, this.#deps.env);
      if (seenOf(again) !== seen) [loaded, seen] = [again, seenOf(again)];
    }
    const at = new Date().toISOString();

    if (!loaded.ok) {
      // Loading is pure: the same bytes would be rejected again, so they count as seen.
      this.#lastSeenHash = seen;
      const errors = loaded.errors.map(formatConfigError);
      this.#status = { ...this.#status, state: 'error', lastAttemptAt: at, errors };
      const outcome = this.#desired === undefined ? 'nothing to run' : 'the last good version keeps running';
      log.error({ file: this.file, trigger, errors }, `manifest rejected; ${outcome}`);
      this.#reloadListeners.emit(false);
      return [{ ok: false }, 'rejected'];
    }

    const desired = loaded.desired;
    const actual = new Map<string, ServerSpec>([...this.#servers].map(([n, s]) => [n, s.spec]));
    const p = plan(desired.servers, actual);
    // Children started by this apply leave out the new keys' variables, and the old ones' too until it
    // succeeds: after a failed apply the gate still takes the old keys, and a child restarted later
    // must not be handed one of them.
    this.#secretEnvNames = [...new Set([...this.#secretEnvNames, ...desired.auth.secretEnvNames])];
    try {
      await this.#apply(p, desired);
    } catch (err) {
      if (this.#closed) return [{ ok: false }, 'closed'];
      this.#applyFailed(err, desired, trigger, at);
      return [{ ok: false, plan: p }, 'failed'];
    }
    if (this.#closed) return [{ ok: false }, 'closed']; // close() came during the apply: it stops what started
    this.#lastSeenHash = seen;
    this.#lastApplyError = undefined;
    this.#secretEnvNames = desired.auth.secretEnvNames;
    if (this.#desired !== undefined && (this.#desired.listen.host !== desired.listen.host || this.#desired.listen.port !== desired.listen.port)) {
      log.warn({ file: this.file }, 'listen address changed in the manifest; it applies at the next gateway restart');
    }
    this.#desired = desired;
    this.#schedules.sync(desired.servers);
    const summary = summarize(p, desired.servers);
    this.#status = { file: this.file, state: 'ok', appliedHash: desired.hash, appliedAt: at, lastAttemptAt: at, errors: [], lastPlan: summary };
    this.#appliedListeners.emit(desired);
    this.#reloadListeners.emit(true);
    if (!isEmptyPlan(p) || trigger !== 'file') {
      log.info({ file: this.file, trigger, start: p.start, stop: p.stop, restart: p.restart.map((c) => c.name), update: p.update.map((c) => c.name), keep: p.keep }, `reload: ${summary}`);
    }
    return [{ ok: true, plan: p, desired }, 'applied'];
  }

  /**
   * An apply that threw is not "seen" (even when these bytes were applied before, by an `api` pass of the
   * same file): the next look at them plans again, against what runs now, so the part that was applied is
   * kept and the rest retried. The last good Desired stays the one the faces use. The reason never quotes
   * a value from ${VAR}.
   */
  #applyFailed(err: unknown, desired: Desired, trigger: ReloadTrigger, at: string): void {
    this.#lastSeenHash = undefined;
    const reason = withoutEnvValues(err instanceof Error ? err.message : String(err), desired, this.#deps.env);
    const message = `applying the manifest failed: ${reason}; the last good version keeps running where it was not replaced, and the next look tries again`;
    this.#status = { ...this.#status, state: 'error', lastAttemptAt: at, errors: [message] };
    const fields = { file: this.file, trigger, reason };
    // A retry that fails the same way is one failure, not one per look: the log, the reload metric and
    // the status stream hear of it once (alerts on the failure rate would read retries as a storm).
    if (reason === this.#lastApplyError) return this.#deps.log.debug(fields, 'apply failed again');
    this.#deps.log.error(fields, 'apply failed; trying again at the next look');
    this.#lastApplyError = reason;
    this.#reloadListeners.emit(false);
  }

  /** Stops what left, replaces what changed, starts what is new. Stops are awaited; starts run on. */
  async #apply(p: Plan, desired: Desired): Promise<void> {
    // A change of sharing (or offered capabilities) is a different kind of server: replace it whole.
    const replaced = p.restart.filter((c) => c.changed.some((f) => f === 'sharing' || f === 'clientCapabilities')).map((c) => c.name);
    await Promise.all([...p.stop, ...replaced].map((name) => this.#remove(name)));
    for (const c of p.update) this.#servers.get(c.name)?.update(desired.servers.get(c.name)!);
    for (const c of p.restart) {
      if (replaced.includes(c.name)) continue;
      const server = this.#servers.get(c.name)!;
      const spec = desired.servers.get(c.name)!;
      server.update(spec);
      if (!spec.enabled) {
        void server.stop('Disabled');
        continue;
      }
      void (server.state === 'stopped' ? server.start('as-configured') : server.rollout()).then((s) => {
        if (s.reason === 'RolloutFailed' && s.rolloutFailure !== null) this.#rolloutFailed(c.name, s.rolloutFailure.error, desired);
      });
    }
    for (const name of [...p.start, ...replaced]) {
      const spec = desired.servers.get(name)!;
      const server = (this.#deps.createServer ?? createManagedServer)(spec, {
        log: this.#deps.log,
        version: this.#deps.version,
        envFor: (s) => childEnvironment(s, this.#deps.env, this.#secretEnvNames),
        ...(this.#deps.observerFor === undefined ? {} : { observe: this.#deps.observerFor(name) }),
        ...(this.#deps.openStreams === undefined ? {} : { openStreams: () => this.#deps.openStreams!(name) }),
      });
      this.#servers.set(name, server);
      void (spec.enabled ? server.start('as-configured') : server.stop('Disabled'));
    }
  }

  /**
   * A rollout this pass started did not complete: the reload summary says so beside the plan (the server's
   * status has the details). The manifest still counts as applied: the next change of it tries again.
   */
  #rolloutFailed(name: string, error: string, desired: Desired): void {
    if (this.#status.appliedHash !== desired.hash) return; // a later manifest has been applied since
    const reason = withoutEnvValues(error, desired, this.#deps.env);
    this.#status = { ...this.#status, lastPlan: `${this.#status.lastPlan ?? ''}; rollout of ${name} failed (${reason}); its old child keeps serving` };
  }

  async #remove(name: string): Promise<void> {
    const server = this.#servers.get(name);
    this.#servers.delete(name);
    await server?.close();
    server?.router?.detach('removed from the manifest');
    this.#removedListeners.emit(name);
  }

  #scheduledRestart(name: string): void {
    const sup = this.#servers.get(name);
    // Stopped by hand or disabled: leave it. Idle: nothing runs that a restart would renew.
    if (sup === undefined || sup.state === 'stopped' || sup.state === 'idle') return;
    this.#deps.log.info({ server: name }, 'scheduled restart');
    void sup.restart();
  }

  /** Waits for passes under way, stops every child and every cron task. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#schedules.close();
    await this.#queue;
    await Promise.all([...this.#servers.values()].map((s) => s.close()));
  }
}
