// From a schema-valid manifest to the frozen Desired the rest of the gateway runs on: defaults applied
// (server, then `defaults`, then built-in, field by field), durations in ms, paths absolute.
import path from 'node:path';
import { parseDuration } from './duration.ts';
import { parseByteSize, parseCpuPercent } from './quantity.ts';
import { createHash } from 'node:crypto';
import { normalizeWebUrl } from './public-url.ts';
import type { AuthSpec, ClientCapability, Desired, EndpointSpec, GrantRule, ItemFilter, JwsAlgorithm, KeySpec, LimitsSpec, ListenSpec, LivenessSpec, OAuthIssuerSpec, OAuthSpec, RateLimitSpec, RestartPolicy, RestartSpec, RolloutMode, ScheduleSpec, ServerSpec, Sharing, StartMode } from './types.ts';

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
  requestTimeoutMax?: DurationIn;
  stderrLines?: number;
  sessionIdleTimeout?: DurationIn;
  maxSessions?: number;
  maxInFlight?: number;
  queueTimeout?: DurationIn;
  inheritEnv?: boolean;
  rollout?: RolloutMode;
  drainTimeout?: DurationIn;
  liveness?: false | LivenessIn;
  start?: StartMode;
  idleStop?: DurationIn;
  limits?: LimitsIn;
}

interface LivenessIn {
  interval?: DurationIn;
  timeout?: DurationIn;
  failures?: number;
}

interface LimitsIn {
  memory?: string | number;
  cpu?: string | number;
  files?: number;
  processes?: number;
}

interface ServerIn extends TuningIn {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** Read by the loader (env-files.ts); its variables arrive as ResolveContext.envFromFiles. */
  envFile?: string | string[];
  cwd?: string;
  schedule?: { restart: string; timezone?: string };
  enabled?: boolean;
  sharing?: Sharing;
  clientCapabilities?: ClientCapability[];
  prefix?: string;
  callerEnv?: string;
  tools?: FilterIn & { override?: Record<string, { title?: string; description?: string }> };
  prompts?: FilterIn;
  resources?: FilterIn;
}

interface FilterIn {
  allow?: string[];
  deny?: string[];
}

/** The manifest as the schema guarantees it (after interpolation). */
export interface ManifestV1 {
  version: 1;
  listen?: {
    host?: string;
    port?: number;
    allowedHosts?: string[];
    cors?: { origins?: string[] };
    tls?: { cert: string; key: string };
    bodyLimit?: number;
    accessLog?: boolean;
    shutdownGrace?: DurationIn;
    publicUrl?: string;
  };
  auth?: AuthIn;
  /** Read by the loader (env-files.ts): its variables are for ${VAR}. */
  envFile?: string | string[];
  defaults?: TuningIn;
  servers: Record<string, ServerIn>;
  aggregate?: { separator?: string };
  endpoints?: Record<string, { servers: '*' | string[]; description?: string; tools?: FilterIn; discovery?: boolean }>;
}

export interface RateLimitIn {
  rps: number;
  burst?: number;
}

export interface KeyIn {
  name: string;
  sha256?: string;
  key?: string;
  servers: '*' | string[];
  admin?: boolean;
  rateLimit?: RateLimitIn;
  tools?: FilterIn;
}

export interface AuthIn {
  none?: boolean;
  rateLimit?: RateLimitIn;
  keys?: KeyIn[];
  oauth?: OAuthIn;
}

export interface OAuthIn {
  issuers: {
    issuer: string;
    jwksUri?: string;
    audiences?: string[];
    algorithms?: JwsAlgorithm[];
    clockSkew?: DurationIn;
    tokenType?: string;
  }[];
  grants?: { claim: string; value: string; servers: '*' | string[]; admin?: boolean }[];
  rateLimit?: RateLimitIn;
}

export const DEFAULT_LISTEN: ListenSpec = Object.freeze({
  host: '127.0.0.1',
  port: 3001,
  corsOrigins: [],
  allowedHosts: [],
  bodyLimit: 4 * 1024 * 1024,
  accessLog: false,
  shutdownGraceMs: 10_000,
});

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
  requestTimeoutMax: '10m',
  stderrLines: 200,
  sessionIdleTimeout: '30m',
  maxSessions: 100,
  maxInFlight: 64,
  queueTimeout: '5s',
  drainTimeout: '30s',
  liveness: { interval: '30s', timeout: '10s', failures: 3 },
  onDemandIdleStop: '10m',
  rateLimit: { rps: 50 } as RateLimitIn,
  algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] as JwsAlgorithm[],
  clockSkew: '30s',
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

/** What the loader knows of a manifest besides its data. */
export interface ResolveContext {
  /** The manifest's absolute path: relative `cwd` values are resolved against its folder. */
  readonly file: string;
  readonly hash: string;
  /** See Desired.inputHash; the manifest's hash when it names no env file. */
  readonly inputHash?: string;
  /** Each server's env files' variables (see ServerSpec.envFromFile). */
  readonly envFromFiles?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** See Desired.envFileValues. */
  readonly envFileValues?: ReadonlyMap<string, readonly string[]>;
  /** From portFromEnv. */
  readonly portOverride?: number;
  /** The variables `auth.keys[].key` used. */
  readonly secretEnvNames?: readonly string[];
  /** Paths that held ${VAR}, with the variables read there (see Desired.interpolated). */
  readonly interpolated?: ReadonlyMap<string, readonly string[]>;
}

export function resolveManifest(m: ManifestV1, context: ResolveContext): Desired {
  const { file, hash, portOverride, secretEnvNames = [] } = context;
  const dir = path.dirname(file);
  const tls = m.listen?.tls;
  const listen: ListenSpec = Object.freeze({
    host: m.listen?.host ?? DEFAULT_LISTEN.host,
    port: portOverride ?? m.listen?.port ?? DEFAULT_LISTEN.port,
    corsOrigins: Object.freeze([...(m.listen?.cors?.origins ?? [])]),
    allowedHosts: Object.freeze([...(m.listen?.allowedHosts ?? [])]),
    bodyLimit: m.listen?.bodyLimit ?? DEFAULT_LISTEN.bodyLimit,
    accessLog: m.listen?.accessLog ?? DEFAULT_LISTEN.accessLog,
    shutdownGraceMs: m.listen?.shutdownGrace === undefined ? DEFAULT_LISTEN.shutdownGraceMs : ms(m.listen.shutdownGrace),
    ...(tls === undefined ? {} : { tls: Object.freeze({ certFile: path.resolve(dir, tls.cert), keyFile: path.resolve(dir, tls.key) }) }),
    ...(m.listen?.publicUrl === undefined ? {} : { publicUrl: normalizeWebUrl(m.listen.publicUrl) }),
  });
  const auth = resolveAuth(m.auth ?? {}, secretEnvNames);
  const defaults = m.defaults ?? {};
  const servers = new Map<string, ServerSpec>();
  for (const [name, s] of Object.entries(m.servers)) servers.set(name, resolveServer(name, s, defaults, dir, context.envFromFiles?.get(name) ?? {}));
  // A frozen Map still has a working set(); ReadonlyMap in the type is what guards it. Freezing the
  // specs is what matters: they are shared with the supervisor and router.
  const interpolated = new Map([...(context.interpolated ?? [])].map(([at, names]) => [at, Object.freeze([...names])] as const));
  const envFileValues = new Map([...(context.envFileValues ?? [])].map(([name, values]) => [name, Object.freeze([...values])] as const));
  const endpoints = new Map<string, EndpointSpec>();
  for (const [name, e] of Object.entries(m.endpoints ?? {})) {
    endpoints.set(name, Object.freeze({
      name,
      servers: e.servers === '*' ? '*' : Object.freeze([...e.servers]),
      ...(e.description === undefined ? {} : { description: e.description }),
      tools: itemFilter(e.tools),
      discovery: e.discovery ?? false,
    }));
  }
  return Object.freeze({
    file,
    hash,
    inputHash: context.inputHash ?? hash,
    listen,
    auth,
    servers: Object.freeze(servers),
    separator: m.aggregate?.separator ?? '__',
    endpoints: Object.freeze(endpoints),
    interpolated: Object.freeze(interpolated),
    envFileValues: Object.freeze(envFileValues),
  });
}

function rateLimit(r: RateLimitIn): RateLimitSpec {
  return Object.freeze({ rps: r.rps, burst: r.burst ?? Math.max(1, Math.ceil(2 * r.rps)) });
}

/** Keys keep only their sha256: a key given as `key:` is hashed here and the text dropped. */
function resolveAuth(a: AuthIn, secretEnvNames: readonly string[]): AuthSpec {
  const fallback = a.rateLimit ?? BUILTIN.rateLimit;
  const keys: KeySpec[] = (a.keys ?? []).map((k) =>
    Object.freeze({
      name: k.name,
      sha256: (k.sha256 ?? createHash('sha256').update(k.key ?? '', 'utf8').digest('hex')).toLowerCase(),
      servers: k.servers === '*' ? '*' : Object.freeze([...k.servers]),
      admin: k.admin ?? false,
      rateLimit: rateLimit(k.rateLimit ?? fallback),
      ...(k.tools === undefined ? {} : { tools: itemFilter(k.tools) }),
    }),
  );
  return Object.freeze({
    none: a.none ?? false,
    keys: Object.freeze(keys),
    secretEnvNames: Object.freeze([...secretEnvNames]),
    ...(a.oauth === undefined ? {} : { oauth: resolveOAuth(a.oauth, fallback) }),
  });
}

/** Issuers and grants as written (an issuer is never normalized: tokens' `iss` must equal it). */
function resolveOAuth(o: OAuthIn, fallback: RateLimitIn): OAuthSpec {
  const issuers = o.issuers.map(
    (i): OAuthIssuerSpec =>
      Object.freeze({
        issuer: i.issuer,
        ...(i.jwksUri === undefined ? {} : { jwksUri: i.jwksUri }),
        audiences: Object.freeze([...(i.audiences ?? [])]),
        algorithms: Object.freeze([...(i.algorithms ?? BUILTIN.algorithms)]),
        clockSkewMs: ms(i.clockSkew ?? BUILTIN.clockSkew),
        ...(i.tokenType === undefined ? {} : { tokenType: i.tokenType }),
      }),
  );
  const grants = (o.grants ?? []).map(
    (g): GrantRule =>
      Object.freeze({
        claim: g.claim,
        value: g.value,
        servers: g.servers === '*' ? '*' : Object.freeze([...g.servers]),
        admin: g.admin ?? false,
      }),
  );
  return Object.freeze({ issuers: Object.freeze(issuers), grants: Object.freeze(grants), rateLimit: rateLimit(o.rateLimit ?? fallback) });
}

/** `fromFile`: the server's env files' variables; those its own `env` sets are dropped (`env` wins). */
function resolveServer(name: string, s: ServerIn, d: TuningIn, dir: string, fromFile: Readonly<Record<string, string>>): ServerSpec {
  const env = s.env ?? {};
  const startMode = s.start ?? d.start ?? 'always';
  const spec: ServerSpec = {
    name,
    command: s.command,
    args: Object.freeze([...(s.args ?? [])]),
    env: Object.freeze(Object.fromEntries(Object.entries(env))),
    envFromFile: Object.freeze(Object.fromEntries(Object.entries(fromFile).filter(([k]) => !Object.hasOwn(env, k)))),
    cwd: path.resolve(dir, s.cwd ?? '.'),
    enabled: s.enabled ?? true,
    sharing: s.sharing ?? 'shared',
    clientCapabilities: Object.freeze([...(s.clientCapabilities ?? [])]),
    inheritEnv: s.inheritEnv ?? d.inheritEnv ?? false,
    limits: resolveLimits(s.limits ?? d.limits ?? {}),
    ...(s.callerEnv === undefined ? {} : { callerEnv: s.callerEnv }),
    restart: resolveRestart(s.restart ?? {}, d.restart ?? {}),
    startTimeoutMs: ms(s.startTimeout ?? d.startTimeout ?? BUILTIN.startTimeout),
    stopTimeoutMs: ms(s.stopTimeout ?? d.stopTimeout ?? BUILTIN.stopTimeout),
    requestTimeoutMs: ms(s.requestTimeout ?? d.requestTimeout ?? BUILTIN.requestTimeout),
    // Never below requestTimeout: a request that reports no progress at all may always take that long.
    requestTimeoutMaxMs: Math.max(ms(s.requestTimeoutMax ?? d.requestTimeoutMax ?? BUILTIN.requestTimeoutMax), ms(s.requestTimeout ?? d.requestTimeout ?? BUILTIN.requestTimeout)),
    stderrLines: s.stderrLines ?? d.stderrLines ?? BUILTIN.stderrLines,
    sessionIdleTimeoutMs: ms(s.sessionIdleTimeout ?? d.sessionIdleTimeout ?? BUILTIN.sessionIdleTimeout),
    maxSessions: s.maxSessions ?? d.maxSessions ?? BUILTIN.maxSessions,
    maxInFlight: s.maxInFlight ?? d.maxInFlight ?? BUILTIN.maxInFlight,
    queueTimeoutMs: ms(s.queueTimeout ?? d.queueTimeout ?? BUILTIN.queueTimeout),
    ...(s.schedule === undefined ? {} : { schedule: schedule(s.schedule) }),
    exposure: Object.freeze({
      prefix: s.prefix ?? name,
      tools: itemFilter(s.tools),
      prompts: itemFilter(s.prompts),
      resources: itemFilter(s.resources),
      overrides: Object.freeze(Object.fromEntries(Object.entries(s.tools?.override ?? {}).map(([k, v]) => [k, Object.freeze({ ...v })]))),
    }),
    rollout: s.rollout ?? d.rollout ?? 'overlap',
    drainTimeoutMs: ms(s.drainTimeout ?? d.drainTimeout ?? BUILTIN.drainTimeout),
    liveness: resolveLiveness(s.liveness, d.liveness),
    start: startMode,
    idleStopMs: ms(s.idleStop ?? d.idleStop ?? (startMode === 'on-demand' ? BUILTIN.onDemandIdleStop : 0)),
  };
  return Object.freeze(spec);
}

function itemFilter(f: FilterIn | undefined): ItemFilter {
  return Object.freeze({
    ...(f?.allow === undefined ? {} : { allow: Object.freeze([...f.allow]) }),
    ...(f?.deny === undefined ? {} : { deny: Object.freeze([...f.deny]) }),
  });
}

function schedule(s: { restart: string; timezone?: string }): ScheduleSpec {
  return Object.freeze(s.timezone === undefined ? { restart: s.restart } : { restart: s.restart, timezone: s.timezone });
}

/** false at either level turns pings off; objects merge field by field (server over defaults over built-in). */
function resolveLiveness(s: false | LivenessIn | undefined, d: false | LivenessIn | undefined): LivenessSpec | null {
  if (s === false || (s === undefined && d === false)) return null;
  const base = d === false ? {} : (d ?? {});
  const own = s ?? {};
  return Object.freeze({
    intervalMs: ms(own.interval ?? base.interval ?? BUILTIN.liveness.interval),
    timeoutMs: ms(own.timeout ?? base.timeout ?? BUILTIN.liveness.timeout),
    failures: own.failures ?? base.failures ?? BUILTIN.liveness.failures,
  });
}

function resolveLimits(l: LimitsIn): LimitsSpec {
  const memoryBytes = l.memory === undefined ? undefined : parseByteSize(l.memory);
  const cpuPercent = l.cpu === undefined ? undefined : parseCpuPercent(l.cpu);
  return Object.freeze({
    ...(memoryBytes === undefined ? {} : { memoryBytes }),
    ...(cpuPercent === undefined ? {} : { cpuPercent }),
    ...(l.files === undefined ? {} : { files: l.files }),
    ...(l.processes === undefined ? {} : { processes: l.processes }),
  });
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
