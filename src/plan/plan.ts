// The pure diff at the heart of reconciling: what must happen to go from the specs running now to the
// specs the manifest asks for. Same inputs, same plan; printable as it is.
import type { ServerSpec } from '../config/types.ts';

/** A change to any of these needs a new process; the others apply to the running one. */
export const PROCESS_FIELDS = ['command', 'args', 'env', 'envFromFile', 'cwd', 'enabled', 'sharing', 'clientCapabilities', 'inheritEnv', 'limits', 'callerEnv'] as const satisfies readonly (keyof ServerSpec)[];

/** Fields compared key by key: a change names `field.KEY`, never a value. */
const ENV_FIELDS = new Set<keyof ServerSpec>(['env', 'envFromFile']);

export interface Change {
  readonly name: string;
  /**
   * The spec fields that differ, e.g. ["args", "env.TOKEN", "envFromFile.API_KEY"]; env keys are named,
   * never their values.
   */
  readonly changed: readonly string[];
}

export interface Plan {
  readonly start: readonly string[];
  readonly stop: readonly string[];
  /** Process fields changed: the child is replaced. */
  readonly restart: readonly Change[];
  /** Only settings changed (timeouts, policy, schedule): applied in place, the pid stays. */
  readonly update: readonly Change[];
  readonly keep: readonly string[];
}

export function isEmptyPlan(p: Plan): boolean {
  return p.start.length + p.stop.length + p.restart.length + p.update.length === 0;
}

export function plan(desired: ReadonlyMap<string, ServerSpec>, actual: ReadonlyMap<string, ServerSpec>): Plan {
  const start: string[] = [];
  const stop: string[] = [];
  const restart: Change[] = [];
  const update: Change[] = [];
  const keep: string[] = [];
  for (const name of [...actual.keys()].sort()) if (!desired.has(name)) stop.push(name);
  for (const [name, want] of [...desired].sort(([a], [b]) => a.localeCompare(b))) {
    const have = actual.get(name);
    if (have === undefined) {
      start.push(name);
      continue;
    }
    const changed = changedFields(have, want);
    if (changed.length === 0) keep.push(name);
    else if (changed.some((f) => (PROCESS_FIELDS as readonly string[]).includes(f.split('.')[0]!))) restart.push({ name, changed });
    else update.push({ name, changed });
  }
  return { start, stop, restart, update, keep };
}

/**
 * Names of the top-level fields that differ; for env and envFromFile, `env.KEY` / `envFromFile.KEY` per
 * changed key. Key order never matters.
 */
export function changedFields(a: ServerSpec, b: ServerSpec): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ServerSpec>;
  for (const k of [...keys].sort()) {
    if (ENV_FIELDS.has(k)) {
      const x = (a[k] ?? {}) as Readonly<Record<string, string>>;
      const y = (b[k] ?? {}) as Readonly<Record<string, string>>;
      for (const e of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) if (x[e] !== y[e]) out.push(`${k}.${e}`);
    } else if (stableJson(a[k]) !== stableJson(b[k])) {
      out.push(k);
    }
  }
  return out;
}

/** JSON with object keys sorted, so that two equal values always print the same. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The manifest's key for a resolved field: requestTimeoutMs is written requestTimeout; env.KEY stays; a
 * variable from the server's envFile reads `env.KEY (from envFile)`.
 */
export function manifestKey(field: string): string {
  if (field.startsWith('envFromFile.')) return `env.${field.slice('envFromFile.'.length)} (from envFile)`;
  return field.startsWith('env.') ? field : field.replace(/Ms$/, '');
}

/**
 * One line for the log: "started a; restarted b (args); disabled c; stopped d; kept e". A change of
 * `enabled` reads as what it does (enabled / disabled) when `desired` is given.
 */
export function summarize(p: Plan, desired?: ReadonlyMap<string, ServerSpec>): string {
  const parts: string[] = [];
  const names = (xs: readonly Change[]) => xs.map((c) => `${c.name} (${c.changed.map(manifestKey).join(', ')})`).join(', ');
  const toggled = (c: Change): boolean => desired !== undefined && c.changed.includes('enabled');
  const restarted = p.restart.filter((c) => !toggled(c));
  const turnedOn = p.restart.filter((c) => toggled(c) && desired?.get(c.name)?.enabled === true).map((c) => c.name);
  const turnedOff = p.restart.filter((c) => toggled(c) && desired?.get(c.name)?.enabled === false).map((c) => c.name);
  // An on-demand server is not started by a reload: it waits for its first request.
  const onDemand = (name: string): boolean => desired?.get(name)?.start === 'on-demand' && desired.get(name)?.sharing === 'shared';
  const started = p.start.filter((n) => !onDemand(n));
  const waiting = p.start.filter(onDemand);
  if (started.length) parts.push(`started ${started.join(', ')}`);
  if (waiting.length) parts.push(`added ${waiting.join(', ')} (on demand)`);
  if (restarted.length) parts.push(`restarted ${names(restarted)}`);
  if (turnedOn.length) parts.push(`enabled ${turnedOn.join(', ')}`);
  if (turnedOff.length) parts.push(`disabled ${turnedOff.join(', ')}`);
  if (p.update.length) parts.push(`updated ${names(p.update)}`);
  if (p.stop.length) parts.push(`stopped ${p.stop.join(', ')}`);
  if (p.keep.length) parts.push(`kept ${p.keep.join(', ')}`);
  return parts.length ? parts.join('; ') : 'no servers';
}
