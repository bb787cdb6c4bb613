// MCP 2026-07-28 ("modern": stateless, per-request _meta) names and the pure rules of its HTTP binding:
// which POST belongs to which era, header/body validation, and the fields a 2026 result carries that a
// 2025 child's result lacks. Effects (children, streams, parked calls) live in src/stateless/.
import { ErrorCode, Header, Method, ResourceMethod, SUPPORTED_PROTOCOL_VERSIONS, type JsonRpcId } from './jsonrpc.ts';

export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** Every revision a client may name on the gateway's MCP endpoints, newest first (server/discover lists them). */
export const ALL_PROTOCOL_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v !== '2024-11-05')];

export const Meta = {
  ProtocolVersion: 'io.modelcontextprotocol/protocolVersion',
  ClientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  ClientInfo: 'io.modelcontextprotocol/clientInfo',
  LogLevel: 'io.modelcontextprotocol/logLevel',
  ServerInfo: 'io.modelcontextprotocol/serverInfo',
  SubscriptionId: 'io.modelcontextprotocol/subscriptionId',
  /**
   * The gateway's own: a 2025 child names the key its server-to-client request gets in a 2026 client's
   * `inputRequests` (README, "Protocol eras"). Taken off before the request reaches the client.
   */
  InputKey: 'mcp-gateway/inputKey',
} as const;

export const ModernErrorCode = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

export const ModernHeader = {
  Method: 'mcp-method',
  Name: 'mcp-name',
} as const;

export const ModernMethod = {
  Discover: 'server/discover',
  Listen: 'subscriptions/listen',
  Acknowledged: 'notifications/subscriptions/acknowledged',
} as const;

/** Methods of the 2025 revisions that 2026 removed: on the stateless path they are unknown (404, -32601). */
export const REMOVED_METHODS: ReadonlySet<string> = new Set([
  Method.Initialize,
  Method.Ping,
  'logging/setLevel',
  ResourceMethod.Subscribe,
  ResourceMethod.Unsubscribe,
]);

/** The only requests that may be answered with input_required (MRTR). */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'resources/read', 'prompts/get']);

/** Results that carry caching hints (ttlMs, cacheScope). */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set([
  ModernMethod.Discover,
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/** Requests whose target travels in Mcp-Name as well (params.name or params.uri). A Map: `toString` is no method here. */
const NAMED_METHODS: ReadonlyMap<string, 'name' | 'uri'> = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
]);

/** At most this many resource URIs per subscriptions/listen (each is a subscribe on the child). */
export const MAX_LISTEN_URIS = 256;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Which era a POST to an MCP endpoint speaks. A session id, a 2025 MCP-Protocol-Version, or an initialize
 * without a version header: 2025 (today's session path). Any other MCP-Protocol-Version (2026, or one
 * nobody knows, which the stateless path refuses with the supported list), or a body with 2026 `_meta`:
 * the stateless path. The two never mix on one request.
 */
export function isModernPost(headers: Headers, body: unknown): boolean {
  if (headers[Header.SessionId] !== undefined) return false;
  const version = header(headers, Header.ProtocolVersion);
  if (version !== undefined) return !SUPPORTED_PROTOCOL_VERSIONS.includes(version);
  if (!isObject(body) || body.method === Method.Initialize) return false;
  const meta = isObject(body.params) ? body.params._meta : undefined;
  return isObject(meta) && meta[Meta.ProtocolVersion] !== undefined;
}

/** What a valid 2026 request declares about its client. */
export interface RequestMeta {
  readonly protocolVersion: string;
  /** Capability names the client declared for this request (`sampling`, `elicitation`, `roots`, …). */
  readonly capabilities: ReadonlySet<string>;
  readonly logLevel: string | undefined;
}

export interface ModernRefusal {
  readonly status: 400 | 404;
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

const LOG_LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);

/** A plain header value as the spec allows it: visible ASCII, inner spaces and tabs, no edge whitespace. */
const PLAIN_HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;

/**
 * Decodes an Mcp-Name value: the Base64 sentinel form (`=?base64?…?=`), or a plain value; undefined when
 * it is neither (raw non-ASCII bytes, control characters, edge whitespace: the client must encode those).
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (value.startsWith('=?base64?') && value.endsWith('?=') && value.length >= 11) {
    const b64 = value.slice('=?base64?'.length, -2);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
    return Buffer.from(b64, 'base64').toString('utf8');
  }
  return PLAIN_HEADER_VALUE.test(value) ? value : undefined;
}

/**
 * Checks a 2026 request's headers against its body and its `_meta`, in the order that gives each probe
 * of the spec its own answer: a header/body version mismatch (-32020) before an unknown version (-32022)
 * before invalid `_meta` (-32602) before the method and name headers (-32020).
 */
export function checkModernRequest(headers: Headers, method: string, params: Record<string, unknown> | undefined): { meta: RequestMeta } | ModernRefusal {
  const version = header(headers, Header.ProtocolVersion);
  const meta = params?._meta;
  const bodyVersion = isObject(meta) ? meta[Meta.ProtocolVersion] : undefined;
  if (version === undefined) {
    return { status: 400, code: ModernErrorCode.HeaderMismatch, message: 'Header mismatch: the MCP-Protocol-Version header is required' };
  }
  if (bodyVersion !== undefined && bodyVersion !== version) {
    return {
      status: 400,
      code: ModernErrorCode.HeaderMismatch,
      message: `Header mismatch: MCP-Protocol-Version header ${JSON.stringify(version)} does not match _meta ${JSON.stringify(bodyVersion)}`,
    };
  }
  if (version !== MODERN_PROTOCOL_VERSION) {
    return {
      status: 400,
      code: ModernErrorCode.UnsupportedProtocolVersion,
      message: `Unsupported protocol version ${JSON.stringify(version)}`,
      data: { supported: ALL_PROTOCOL_VERSIONS, requested: version },
    };
  }
  if (!isObject(meta)) return invalidMeta('params._meta is required');
  if (typeof bodyVersion !== 'string') return invalidMeta(`_meta["${Meta.ProtocolVersion}"] is required`);
  const caps = meta[Meta.ClientCapabilities];
  if (!isObject(caps)) return invalidMeta(`_meta["${Meta.ClientCapabilities}"] is required and must be an object`);
  const info = meta[Meta.ClientInfo];
  if (info !== undefined && !isObject(info)) return invalidMeta(`_meta["${Meta.ClientInfo}"] must be an object`);
  const logLevel = meta[Meta.LogLevel];
  if (logLevel !== undefined && (typeof logLevel !== 'string' || !LOG_LEVELS.has(logLevel))) return invalidMeta(`_meta["${Meta.LogLevel}"] is not a log level`);

  const methodHeader = header(headers, ModernHeader.Method);
  if (methodHeader !== method) {
    return {
      status: 400,
      code: ModernErrorCode.HeaderMismatch,
      message: methodHeader === undefined ? 'Header mismatch: the Mcp-Method header is required' : `Header mismatch: Mcp-Method header ${JSON.stringify(methodHeader)} does not match body method ${JSON.stringify(method)}`,
    };
  }
  const field = NAMED_METHODS.get(method);
  if (field !== undefined) {
    const raw = header(headers, ModernHeader.Name);
    const name = raw === undefined ? undefined : decodeHeaderValue(raw);
    const body = params?.[field];
    if (name === undefined || name !== body) {
      return {
        status: 400,
        code: ModernErrorCode.HeaderMismatch,
        message:
          raw === undefined
            ? `Header mismatch: the Mcp-Name header is required for ${method}`
            : name === undefined
              ? 'Header mismatch: Mcp-Name holds characters a header cannot carry plainly (send them as =?base64?…?=)'
              : `Header mismatch: Mcp-Name header does not match params.${field}`,
      };
    }
  }
  return { meta: { protocolVersion: bodyVersion, capabilities: new Set(Object.keys(caps)), logLevel: logLevel as string | undefined } };
}

function invalidMeta(why: string): ModernRefusal {
  return { status: 400, code: ErrorCode.InvalidParams, message: `Invalid params: ${why}` };
}

/** The server capability that covers a method (`tools/call` → tools), if any. */
const CAPABILITY_OF_PREFIX: ReadonlyMap<string, string> = new Map([
  ['tools', 'tools'],
  ['prompts', 'prompts'],
  ['resources', 'resources'],
  ['completion', 'completions'],
  ['logging', 'logging'],
]);

/**
 * The HTTP status of a JSON-RPC error answered on the stateless path (the spec names 400 and 404 cases).
 * -32601 is 404 only when the method is one the child does not implement: a child that declared `tools`
 * and answers a tools/call with -32601 passes on some inner refusal, not an unknown method.
 */
export function modernErrorStatus(code: number, method?: string, childCapabilities?: unknown): number {
  if (code === ErrorCode.MethodNotFound) {
    const slash = method?.indexOf('/') ?? -1;
    const cap = slash < 0 ? undefined : CAPABILITY_OF_PREFIX.get(method!.slice(0, slash));
    const declared = cap !== undefined && isObject(childCapabilities) && isObject(childCapabilities[cap]);
    return declared ? 200 : 404;
  }
  if (code === ModernErrorCode.HeaderMismatch || code === ModernErrorCode.MissingRequiredClientCapability || code === ModernErrorCode.UnsupportedProtocolVersion) return 400;
  return 200;
}

/** Strips what only the gateway reads (the 2026 `_meta` fields, MRTR fields) before a request goes to a 2025 child. */
export function toChildParams(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (params === undefined) return undefined;
  const { _meta, inputResponses: _i, requestState: _s, ...rest } = params;
  if (!isObject(_meta)) return rest;
  const { [Meta.ProtocolVersion]: _v, [Meta.ClientCapabilities]: _c, [Meta.ClientInfo]: _n, [Meta.LogLevel]: _l, ...kept } = _meta;
  return Object.keys(kept).length === 0 ? rest : { ...rest, _meta: kept };
}

/**
 * Caching hints for a proxied child. The gateway cannot know how long a child's lists stay valid (a child
 * may change them at any moment, and says so only if it declared listChanged), so every hint says
 * "immediately stale" (ttlMs 0). Lists of a shared child are the same for every caller (public); what a
 * per-session child says, and any resource's contents, may be the caller's own (private).
 */
export function cacheHints(method: string, perCaller: boolean): { ttlMs: number; cacheScope: 'public' | 'private' } | undefined {
  if (!CACHEABLE_METHODS.has(method)) return undefined;
  const scope = perCaller || method === 'resources/read' ? 'private' : 'public';
  return { ttlMs: 0, cacheScope: scope };
}

/** A child's result as a 2026 result: resultType, serverInfo in _meta, caching hints where they belong. */
export function toModernResult(method: string, result: Record<string, unknown>, serverInfo: unknown, perCaller: boolean): Record<string, unknown> {
  const meta = isObject(result._meta) ? { ...result._meta } : {};
  if (serverInfo !== undefined) meta[Meta.ServerInfo] = serverInfo;
  return { ...result, ...cacheHints(method, perCaller), resultType: 'complete', _meta: meta };
}

/** Capabilities a 2026 client may rely on: what the child declared, less what the stateless path cannot carry. */
const MODERN_SERVER_CAPABILITIES = ['tools', 'prompts', 'resources', 'completions', 'logging'] as const;

/** server/discover, answered from the child's kept InitializeResult. */
export function discoverResult(initializeResult: Record<string, unknown>, perCaller: boolean): Record<string, unknown> {
  const caps = isObject(initializeResult.capabilities) ? initializeResult.capabilities : {};
  const capabilities: Record<string, unknown> = {};
  for (const name of MODERN_SERVER_CAPABILITIES) if (isObject(caps[name])) capabilities[name] = caps[name];
  const result: Record<string, unknown> = { supportedVersions: ALL_PROTOCOL_VERSIONS, capabilities };
  if (typeof initializeResult.instructions === 'string') result.instructions = initializeResult.instructions;
  return toModernResult(ModernMethod.Discover, result, initializeResult.serverInfo, perCaller);
}

/** What a subscriptions/listen request asked for, cut down to what the child can deliver. */
export interface ListenFilter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

/** A listen request's filter as asked (checked, not yet cut down to what a child can deliver). */
export function listenFilter(asked: unknown): ListenFilter | { invalid: string } {
  const all = { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true, subscribe: true } };
  return honouredFilter(asked, { capabilities: all });
}

export function honouredFilter(asked: unknown, initializeResult: Record<string, unknown> | undefined): ListenFilter | { invalid: string } {
  if (asked !== undefined && !isObject(asked)) return { invalid: 'params.notifications must be an object' };
  const a = asked ?? {};
  const caps = isObject(initializeResult?.capabilities) ? initializeResult.capabilities : {};
  const cap = (name: string, flag: string): boolean => isObject(caps[name]) && (caps[name] as Record<string, unknown>)[flag] === true;
  const out: ListenFilter = {};
  if (a.toolsListChanged === true && cap('tools', 'listChanged')) out.toolsListChanged = true;
  if (a.promptsListChanged === true && cap('prompts', 'listChanged')) out.promptsListChanged = true;
  if (a.resourcesListChanged === true && cap('resources', 'listChanged')) out.resourcesListChanged = true;
  const uris = a.resourceSubscriptions;
  if (uris !== undefined) {
    if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string')) return { invalid: 'notifications.resourceSubscriptions must be an array of strings' };
    if (uris.length > MAX_LISTEN_URIS) return { invalid: `notifications.resourceSubscriptions holds ${uris.length} URIs; at most ${MAX_LISTEN_URIS} per stream` };
    if (cap('resources', 'subscribe') && uris.length > 0) out.resourceSubscriptions = [...new Set(uris as string[])];
  }
  return out;
}

/** Whether a child's notification passes a listen stream's filter. */
export function passesFilter(filter: ListenFilter, method: string, params: Record<string, unknown> | undefined): boolean {
  switch (method) {
    case 'notifications/tools/list_changed':
      return filter.toolsListChanged === true;
    case 'notifications/prompts/list_changed':
      return filter.promptsListChanged === true;
    case 'notifications/resources/list_changed':
      return filter.resourcesListChanged === true;
    case ResourceMethod.Updated:
      return typeof params?.uri === 'string' && filter.resourceSubscriptions?.includes(params.uri) === true;
    default:
      return false;
  }
}

/** A JSON-RPC error object with its HTTP status, for answers the stateless path makes itself. */
export function refusal(id: JsonRpcId | null, r: ModernRefusal): { status: number; body: unknown } {
  const error = r.data === undefined ? { code: r.code, message: r.message } : { code: r.code, message: r.message, data: r.data };
  return { status: r.status, body: { jsonrpc: '2.0', id, error } };
}
