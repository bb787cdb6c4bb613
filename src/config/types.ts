// The manifest after it has been parsed, interpolated, validated and resolved: every default applied,
// every duration in milliseconds, every path absolute. Built by resolve.ts only, and frozen.

export type RestartPolicy = 'always' | 'on-failure' | 'never';

/** shared: one child for every session. per-session: a child per MCP session. */
export type Sharing = 'shared' | 'per-session';

/** Server-to-client features a shared child may be offered. */
export type ClientCapability = 'sampling' | 'elicitation' | 'roots';

export interface RestartSpec {
  readonly policy: RestartPolicy;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number; readonly resetAfterMs: number };
  readonly limit: { readonly count: number; readonly windowMs: number };
}

/** overlap: new child first, then swap, then drain the old; replace: old child stopped first. */
export type RolloutMode = 'overlap' | 'replace';

/** always: started at boot; on-demand: started by the first request that needs it. */
export type StartMode = 'always' | 'on-demand';

/** Pings for a child that has gone quiet; `failures` missed in a row restart it (Unresponsive). */
export interface LivenessSpec {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failures: number;
}

/** What the OS holds the child to; absent fields are not limited. Applied at spawn (a change restarts). */
export interface LimitsSpec {
  readonly memoryBytes?: number;
  /** Percent of one CPU: 50 is half a core, 200 two cores. */
  readonly cpuPercent?: number;
  readonly files?: number;
  readonly processes?: number;
}

export interface ScheduleSpec {
  /** A node-cron expression: five fields, or six with seconds first. */
  readonly restart: string;
  readonly timezone?: string;
}

/** Which items of a server the aggregate endpoint shows: globs over names (tools, prompts) or URIs. */
export interface ItemFilter {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

/** How a server appears on the aggregate endpoint (/mcp and bundles). Applied in place: no restart. */
export interface Exposure {
  /** Before its tool and prompt names (with the separator); '' for none. Default: the server's name. */
  readonly prefix: string;
  readonly tools: ItemFilter;
  readonly prompts: ItemFilter;
  readonly resources: ItemFilter;
  /** Per tool (by its own name): a title and description shown instead of the server's. */
  readonly overrides: Readonly<Record<string, { readonly title?: string; readonly description?: string }>>;
}

/** A named aggregate (`endpoints:`), served at /mcp/@<name>. */
export interface EndpointSpec {
  readonly name: string;
  readonly servers: '*' | readonly string[];
  readonly description?: string;
  /** Globs over the bundle's names (`<prefix><separator><tool>`). */
  readonly tools: ItemFilter;
  /** Sessions start with search_tools and enable_tools only, and enable what they need. */
  readonly discovery: boolean;
}

export interface ServerSpec {
  readonly name: string;
  /** Fields that shape the process: a change to any of them restarts the child. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /**
   * Variables from the server's `envFile` (later files winning) that its `env` does not set: secrets, named
   * in plans by key only.
   */
  readonly envFromFile: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly enabled: boolean;
  readonly sharing: Sharing;
  readonly clientCapabilities: readonly ClientCapability[];
  /** Pass the gateway's whole environment (minus its keys) instead of the safe base. */
  readonly inheritEnv: boolean;
  readonly limits: LimitsSpec;
  /** Per-session only: the variable that tells a session's child who opened the session (see caller-env.ts). */
  readonly callerEnv?: string;
  /** Fields the supervisor and router apply in place, without a restart. */
  readonly restart: RestartSpec;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Progress restarts requestTimeout, but a request never runs longer than this in all (>= requestTimeoutMs). */
  readonly requestTimeoutMaxMs: number;
  readonly stderrLines: number;
  readonly sessionIdleTimeoutMs: number;
  readonly maxSessions: number;
  readonly maxInFlight: number;
  readonly queueTimeoutMs: number;
  readonly schedule?: ScheduleSpec;
  readonly exposure: Exposure;
  readonly rollout: RolloutMode;
  /** How long an old child may finish its requests after an overlap rollout swapped it out. */
  readonly drainTimeoutMs: number;
  /** null: never pinged. */
  readonly liveness: LivenessSpec | null;
  readonly start: StartMode;
  /** Stop the shared child after this long unused (state `idle`); 0: never. */
  readonly idleStopMs: number;
}

export interface ListenSpec {
  readonly host: string;
  readonly port: number;
  /** Browser origins allowed (CORS, and the Origin check of MCP endpoints) besides loopback ones. */
  readonly corsOrigins: readonly string[];
  /** Host header names accepted besides loopback names (only checked when bound to loopback). */
  readonly allowedHosts: readonly string[];
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly bodyLimit: number;
  /** One log line per request. */
  readonly accessLog: boolean;
  /** On SIGTERM, how long requests in flight may take before children are stopped anyway. */
  readonly shutdownGraceMs: number;
  /**
   * The base URL clients use (`https://gw.example.com`, `https://example.com/gateway`), in canonical form
   * (public-url.ts: lower-case scheme and host, no default port, no trailing slash). OAuth resource
   * identifiers and Protected Resource Metadata URLs are made from it. Absent: not configured.
   */
  readonly publicUrl?: string;
}

export interface RateLimitSpec {
  readonly rps: number;
  readonly burst: number;
}

export interface KeySpec {
  readonly name: string;
  /** Hex sha256 of the key: all the gateway keeps of it. */
  readonly sha256: string;
  readonly servers: '*' | readonly string[];
  readonly admin: boolean;
  readonly rateLimit: RateLimitSpec;
  /** Globs over the aggregate endpoint's tool names this key may see and call (all when absent). */
  readonly tools?: ItemFilter;
  /**
   * Set when the caller was admitted by a bearer token (auth.oauth), not a key: who it is, and the claims its
   * grants come from (read again at every reload). Its `name` is `oauth:<issuer>#<subject>`, which no key
   * name can be; its `sha256` is empty.
   */
  readonly token?: {
    readonly issuer: string;
    readonly subject: string;
    readonly claims: Readonly<Record<string, unknown>>;
    /** When this token stops being good (exp plus the issuer's clock skew), ms since the epoch. */
    readonly expiresAt: number;
  };
}

/** JWS algorithms a token may be signed with: asymmetric only (never `none`, never HS*: no shared secrets). */
export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519';

/** An authorization server whose JWT access tokens the gateway accepts. */
export interface OAuthIssuerSpec {
  /** Exactly as its tokens' `iss` says it: compared as a string, never normalized (a trailing slash counts). */
  readonly issuer: string;
  /** Where its signing keys are; absent: the `jwks_uri` of the issuer's metadata. */
  readonly jwksUri?: string;
  /**
   * `aud` values accepted besides the canonical URL of the resource called. Each one is accepted on every
   * resource, so it weakens the binding of a token to one server.
   */
  readonly audiences: readonly string[];
  readonly algorithms: readonly JwsAlgorithm[];
  /** Leeway for `exp`, `nbf` and `iat`. */
  readonly clockSkewMs: number;
  /**
   * The `typ` header a token must carry (RFC 9068 access tokens say `at+jwt`); absent: any. Many providers
   * (Keycloak, Entra) send `JWT`, so it is opt-in.
   */
  readonly tokenType?: string;
}

/**
 * Claims → what a static key grants. A rule matches when the claim at `claim` (a name, or a dotted path
 * into nested objects) equals `value`, is an array holding it, or, for `scope` and `scp`, is a
 * space-separated string holding it as a word. A token gets the union of every rule that matches.
 */
export interface GrantRule {
  readonly claim: string;
  readonly value: string;
  readonly servers: '*' | readonly string[];
  readonly admin: boolean;
}

export interface OAuthSpec {
  readonly issuers: readonly OAuthIssuerSpec[];
  readonly grants: readonly GrantRule[];
  /** Per token subject (`iss` + `sub`). */
  readonly rateLimit: RateLimitSpec;
}

export interface AuthSpec {
  /** Explicitly no keys, even on a non-loopback address. */
  readonly none: boolean;
  readonly keys: readonly KeySpec[];
  /** Environment variables that hold keys (`key: ${VAR}`): never passed on to a child. */
  readonly secretEnvNames: readonly string[];
  /** Bearer JWTs from these issuers, beside the keys. Absent: keys only. */
  readonly oauth?: OAuthSpec;
}

export interface Desired {
  /** Absolute path of the manifest file this came from. */
  readonly file: string;
  /** sha256 of the manifest's bytes. */
  readonly hash: string;
  /**
   * sha256 of the manifest's bytes and of every env file it names: what a reload compares to see whether
   * anything changed. Never shown: it would let a guess at a short secret be checked.
   */
  readonly inputHash: string;
  readonly listen: ListenSpec;
  readonly auth: AuthSpec;
  readonly servers: ReadonlyMap<string, ServerSpec>;
  /** Between a prefix and a name on the aggregate endpoint (default `__`). */
  readonly separator: string;
  /** Named bundles, by name. */
  readonly endpoints: ReadonlyMap<string, EndpointSpec>;
  /**
   * Where the manifest wrote ${VAR}: each such value's path as errors name it (`listen.host`,
   * `servers.a.args[1]`, `servers.a.env.TOKEN`), with the variables it was made from. Anything shown to
   * a person (plans, status, logs) names these paths and variables, never the values there.
   */
  readonly interpolated: ReadonlyMap<string, readonly string[]>;
  /**
   * Every variable the env files set (top level and per server), with each value it had: all secrets, kept
   * only so that withoutEnvValues can take them out of messages made by others. Nothing may show them.
   */
  readonly envFileValues: ReadonlyMap<string, readonly string[]>;
}

/** One problem in a manifest, with the place a person must look to fix it. */
export interface ConfigError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export function formatConfigError(e: ConfigError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message}`;
}

export type LoadResult =
  | { readonly ok: true; readonly desired: Desired }
  | {
      readonly ok: false;
      /** sha256 of the manifest's bytes, and (inputHash) of them and the env files, when the manifest was read. */
      readonly hash: string | undefined;
      readonly inputHash: string | undefined;
      readonly errors: readonly ConfigError[];
    };
