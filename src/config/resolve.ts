// From a schema-valid manifest to the frozen Desired the rest of the gateway runs on: defaults applied
// (server, then `defaults`, then built-in, field by field), durations in ms, paths absolute.
import path from 'node:path';
import { parseDuration } from './duration.ts';
import type { ClientCapability, Desired, ListenSpec, RestartPolicy, RestartSpec, ScheduleSpec, ServerSpec, Sharing } from './types.ts';

type DurationIn = string | number;

interface RestartIn {
  policy?: RestartPolicy;
  backoff?: { initial?: DurationIn; max?: DurationIn; resetAfter?: DurationIn };
  limit?: { count?: number; window?: DurationIn };
}

interface TuningIn {
  restart?: RestartIn;
  startTimeout?: DurationIn;
  stopTimeout?: DurationIn;
  requestTimeout?: DurationIn;
  stderrLines?: number;
  sessionIdleTimeout?: DurationIn;
  maxSessions?: number;
}

interface ServerIn extends TuningIn {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  schedule?: { restart: string; timezone?: string };
  enabled?: boolean;
  sharing?: Sharing;
  clientCapabilities?: ClientCapability[];
}

/** The manifest as the schema guarantees it (after interpolation). */
export interface ManifestV1 {
  version: 1;
  listen?: { host?: string; port?: number; allowedOrigins?: string[]; allowedHosts?: string[] };
  defaults?: TuningIn;
  servers: Record<string, ServerIn>;
}

export const DEFAULT_LISTEN: ListenSpec = Object.freeze({ host: '127.0.0.1', port: 3001, allowedOrigins: [], allowedHosts: [] });

const BUILTIN = {
  policy: 'on-failure' as RestartPolicy,
  initial: '500ms',
  max: '30s',
  resetAfter: '10s',
  count: 5,
  window: '60s',
  startTimeout: '30s',
  stopTimeout: '5s',
  requestTimeout: '60s',
  stderrLines: 200,
  sessionIdleTimeout: '30m',
  maxSessions: 100,
};

/** PORT from the environment: unset or empty means no override. Never echoes the value. */
export function portFromEnv(env: Readonly<Record<string, string | undefined>>): { port?: number } | { error: string } {
  const raw = env.PORT;
  if (raw === undefined || raw === '') return {};
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    return { error: 'the environment variable PORT is not a port number (a whole number from 0 to 65535); fix or unset it' };
  }
  return { port };
}

/**
 * `file` is the manifest's absolute path (relative `cwd` values are resolved against its folder);
 * `portOverride` comes from portFromEnv.
 */
export function resolveManifest(m: ManifestV1, file: string, hash: string, portOverride?: number): Desired {
  const listen: ListenSpec = Object.freeze({
    host: m.listen?.host ?? DEFAULT_LISTEN.host,
    port: portOverride ?? m.listen?.port ?? DEFAULT_LISTEN.port,
    allowedOrigins: Object.freeze([...(m.listen?.allowedOrigins ?? [])]),
    allowedHosts: Object.freeze([...(m.listen?.allowedHosts ?? [])]),
  });
  const dir = path.dirname(file);
  const defaults = m.defaults ?? {};
  const servers = new Map<string, ServerSpec>();
  for (const [name, s] of Object.entries(m.servers)) servers.set(name, resolveServer(name, s, defaults, dir));
  // A frozen Map still has a working set(); ReadonlyMap in the type is what guards it. Freezing the
  // specs is what matters: they are shared with the supervisor and router.
  return Object.freeze({ file, hash, listen, servers: Object.freeze(servers) });
}

function resolveServer(name: string, s: ServerIn, d: TuningIn, dir: string): ServerSpec {
  const spec: ServerSpec = {
    name,
    command: s.command,
    args: Object.freeze([...(s.args ?? [])]),
    env: Object.freeze(Object.fromEntries(Object.entries(s.env ?? {}))),
    cwd: path.resolve(dir, s.cwd ?? '.'),
    enabled: s.enabled ?? true,
    sharing: s.sharing ?? 'shared',
    clientCapabilities: Object.freeze([...(s.clientCapabilities ?? [])]),
    restart: resolveRestart(s.restart ?? {}, d.restart ?? {}),
    startTimeoutMs: ms(s.startTimeout ?? d.startTimeout ?? BUILTIN.startTimeout),
    stopTimeoutMs: ms(s.stopTimeout ?? d.stopTimeout ?? BUILTIN.stopTimeout),
    requestTimeoutMs: ms(s.requestTimeout ?? d.requestTimeout ?? BUILTIN.requestTimeout),
    stderrLines: s.stderrLines ?? d.stderrLines ?? BUILTIN.stderrLines,
    sessionIdleTimeoutMs: ms(s.sessionIdleTimeout ?? d.sessionIdleTimeout ?? BUILTIN.sessionIdleTimeout),
    maxSessions: s.maxSessions ?? d.maxSessions ?? BUILTIN.maxSessions,
    ...(s.schedule === undefined ? {} : { schedule: schedule(s.schedule) }),
  };
  return Object.freeze(spec);
}

function schedule(s: { restart: string; timezone?: string }): ScheduleSpec {
  return Object.freeze(s.timezone === undefined ? { restart: s.restart } : { restart: s.restart, timezone: s.timezone });
}

function resolveRestart(s: RestartIn, d: RestartIn): RestartSpec {
  return Object.freeze({
    policy: s.policy ?? d.policy ?? BUILTIN.policy,
    backoff: Object.freeze({
      initialMs: ms(s.backoff?.initial ?? d.backoff?.initial ?? BUILTIN.initial),
      maxMs: ms(s.backoff?.max ?? d.backoff?.max ?? BUILTIN.max),
      resetAfterMs: ms(s.backoff?.resetAfter ?? d.backoff?.resetAfter ?? BUILTIN.resetAfter),
    }),
    limit: Object.freeze({
      count: s.limit?.count ?? d.limit?.count ?? BUILTIN.count,
      windowMs: ms(s.limit?.window ?? d.limit?.window ?? BUILTIN.window),
    }),
  });
}

/** The schema has checked every duration; a failure here is a bug, not a manifest problem. */
function ms(v: DurationIn): number {
  const n = parseDuration(v);
  if (n === undefined) throw new Error('internal: a duration passed validation but does not parse');
  return n;
}
