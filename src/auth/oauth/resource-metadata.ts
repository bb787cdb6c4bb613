// The gateway as OAuth protected resources (MCP authorization; RFC 9728, RFC 8707, RFC 6750). Pure.
//
// Resources, by resource path (appended to listen.publicUrl to make the resource's URL, the `aud` a token
// must name):
// - `/mcp/<server>/mcp`: one per server, named by its Streamable HTTP URL. Every route under
//   `/mcp/<server>/` is the same resource: the `/sse` and `/legacy/*` transports, the classic `/command`,
//   and `start`/`stop`/`restart`/`stderr`. A token for a server is good for all of that server's faces
//   (what it may do there is the grants' business: admin), and never for another server's.
// - `/mcp`: the aggregate endpoint, also at `/sse` and `/message` (the legacy transport).
// - `/mcp/@<bundle>`: a bundle, also at `/sse/@<bundle>` and `/message/@<bundle>`.
// - `` (empty): the gateway as a whole, whose URL is publicUrl itself: every other route (`/mcp/servers`,
//   `/admin/*`, `/metrics`, the status page). Its metadata is the root form of the well-known URL.
//
// Metadata is published where RFC 9728 §3.1 puts it: the well-known path inserted between the host and the
// resource URL's path. With a publicUrl that has a path (`https://example.com/gateway`), that is at the
// host's root, `/.well-known/oauth-protected-resource/gateway/mcp/demo/mcp`, outside the prefix a proxy
// forwards: the proxy must route that path to the gateway unchanged as well.
import { normalizeWebUrl } from '../../config/public-url.ts';
import type { ListenSpec } from '../../config/types.ts';

/** RFC 9728 §3: the well-known path of Protected Resource Metadata. */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';
const METADATA_SEGMENTS = ['.well-known', 'oauth-protected-resource'] as const;

/** The resource path of the gateway as a whole (its URL is publicUrl). */
export const GATEWAY_RESOURCE = '';
/** The resource path of the aggregate endpoint. */
export const AGGREGATE_RESOURCE = '/mcp';

/** Server and bundle names, as the manifest schema allows them (URL-safe: never percent-encoded). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
/** '' or `/segment…` without a trailing slash. */
const PATH_FORM = /^(\/[^/?#]+)*$/;

/**
 * The canonical URL of a resource (RFC 8707 §2, the MCP spec's canonical server URI): publicUrl with scheme
 * and host in lower case, no default port, no query or fragment, then the resource path, no trailing slash.
 * ('https://GW.example.com:443/base/', '/mcp/demo/mcp') → 'https://gw.example.com/base/mcp/demo/mcp'.
 */
export function canonicalResource(publicUrl: string, resourcePath: string): string {
  return normalizeWebUrl(publicUrl) + checkedPath(resourcePath.replace(/\/+$/, ''), 'resource path');
}

/**
 * The base URL a loopback gateway without listen.publicUrl is reached at (the rules require publicUrl
 * anywhere else when auth.oauth is set). `port`: the port actually bound (listen.port may be 0).
 */
export function publicUrlOf(listen: Pick<ListenSpec, 'host' | 'tls' | 'publicUrl'>, port: number): string {
  if (listen.publicUrl !== undefined) return listen.publicUrl;
  const host = listen.host.includes(':') && !listen.host.startsWith('[') ? `[${listen.host}]` : listen.host;
  return normalizeWebUrl(`${listen.tls === undefined ? 'http' : 'https'}://${host}:${port}`);
}

/**
 * The resource a request is for, from its decoded path segments (Target.segments, as the route table sees
 * them): see the list at the top. undefined for a path under `/mcp`, `/sse` or `/message` that names no
 * resource (a bad server or bundle name, or no such route): such a request can only get 404.
 */
export function resourcePathOf(segments: readonly string[]): string | undefined {
  const [first, second, ...rest] = segments;
  if (first !== 'mcp' && first !== 'sse' && first !== 'message') return GATEWAY_RESOURCE;
  if (second === undefined) return AGGREGATE_RESOURCE;
  if (second.startsWith('@')) return rest.length === 0 && NAME.test(second.slice(1)) ? `/mcp/${second}` : undefined;
  if (first !== 'mcp') return undefined;
  // `/mcp/servers` lists the servers a caller may use: the gateway's, not a server's.
  if (rest.length === 0) return second === 'servers' ? GATEWAY_RESOURCE : undefined;
  return NAME.test(second) ? `/mcp/${second}/mcp` : undefined;
}

/** resourcePathOf for a request path (`/mcp/demo/sse?x=1`): its segments percent-decoded once, as parseTarget does. */
export function resourcePathFor(requestPath: string): string | undefined {
  const segments = segmentsOf(requestPath);
  return segments === undefined ? undefined : resourcePathOf(segments);
}

/**
 * Where a resource's metadata is served on the gateway's host (RFC 9728 §3.1): the well-known path, then
 * publicUrl's own path (`basePath`, '' or `/gateway`; see basePathOf), then the resource path. The root
 * form, `/.well-known/oauth-protected-resource`, is the gateway's (resource path '', no base path).
 */
export function metadataPathFor(resourcePath: string, basePath = ''): string {
  return METADATA_PATH + checkedPath(basePath, 'base path') + checkedPath(resourcePath, 'resource path');
}

/** The absolute URL of a resource's metadata: a challenge's `resource_metadata`. */
export function metadataUrlFor(publicUrl: string, resourcePath: string): string {
  const base = new URL(normalizeWebUrl(publicUrl));
  return base.origin + metadataPathFor(resourcePath, basePathOf(publicUrl));
}

/** publicUrl's path without a trailing slash ('' when it has none): what metadataPathFor puts first. */
export function basePathOf(publicUrl: string): string {
  const path = new URL(normalizeWebUrl(publicUrl)).pathname;
  return path === '/' ? '' : path;
}

/**
 * The resource whose metadata a request path asks for: metadataPathFor's inverse. undefined when the path
 * is not a metadata path under `basePath`, or names no resource the gateway has (by its shape: whether a
 * server or bundle of that name exists is the caller's question).
 */
export function resourcePathFromMetadataPath(path: string, basePath = ''): string | undefined {
  const segments = segmentsOf(path);
  const base = segmentsOf(basePath === '' ? '/' : basePath);
  return segments === undefined || base === undefined ? undefined : resourcePathFromMetadataSegments(segments, base);
}

/** resourcePathFromMetadataPath for decoded segments (Target.segments, and basePathOf's segments). */
export function resourcePathFromMetadataSegments(segments: readonly string[], base: readonly string[] = []): string | undefined {
  const head = [...METADATA_SEGMENTS, ...base];
  if (segments.length < head.length || head.some((s, i) => segments[i] !== s)) return undefined;
  const rest = segments.slice(head.length);
  if (rest.length === 0) return GATEWAY_RESOURCE;
  const resource = resourcePathOf(rest);
  // Only a resource's own path: `/mcp/demo/sse` is served at `/mcp/demo/mcp`'s metadata, not at its own.
  return resource !== undefined && resource !== GATEWAY_RESOURCE && resource === `/${rest.join('/')}` ? resource : undefined;
}

/** RFC 9728 §2, the fields the gateway fills. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  /** Left out when no grant names a scope. */
  readonly scopes_supported?: readonly string[];
  /** Only the Authorization header: a token in a query or body would end up in logs. */
  readonly bearer_methods_supported: readonly ['header'];
  readonly resource_name?: string;
}

/**
 * The metadata document of one resource. `resource` is its canonical URL (canonicalResource), `issuers`
 * the issuer identifiers as configured (clients compare them with the authorization server's `issuer`),
 * `scopes` what a client may ask for (grants.ts scopesSupported).
 */
export function protectedResourceMetadata(o: {
  readonly resource: string;
  readonly issuers: readonly string[];
  readonly scopes: readonly string[];
  readonly name?: string;
}): ProtectedResourceMetadata {
  return {
    resource: o.resource,
    authorization_servers: [...new Set(o.issuers)],
    ...(o.scopes.length === 0 ? {} : { scopes_supported: [...new Set(o.scopes)] }),
    bearer_methods_supported: ['header'],
    ...(o.name === undefined ? {} : { resource_name: o.name }),
  };
}

/** RFC 6750 §3.1 error codes: 401, 403 and 400 respectively. */
export type BearerError = 'invalid_token' | 'insufficient_scope' | 'invalid_request';

export interface ChallengeOptions {
  /** The metadata URL (metadataUrlFor): how an MCP client finds the authorization server. */
  readonly resourceMetadata: string;
  /** Left out for a request without a token (RFC 6750 §3.1: no error information then). */
  readonly error?: BearerError;
  /** Space-separated scopes the resource needs (MCP: on 401 and on insufficient_scope). */
  readonly scope?: string;
  /** Shown only with `error`; reduced to what RFC 6750 allows (see errorDescription). */
  readonly description?: string;
  readonly realm?: string;
}

/** RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** A JWS/JWT in compact form: its header is base64url of `{"…`, which always starts `eyJ`. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?/g;
const DESCRIPTION_MAX = 200;

/**
 * A `WWW-Authenticate` value (RFC 6750 §3, with RFC 9728 §5.1's `resource_metadata`):
 * `Bearer error="insufficient_scope", scope="mcp:demo", resource_metadata="https://…", error_description="…"`.
 * Every value is a quoted-string (RFC 9110 §5.6.4: `\` and `"` escaped with `\`, anything outside visible
 * ASCII, space and tab replaced by `?`), so no value can end its parameter or the header. Scope words that
 * are not scope-tokens are dropped. The value never holds a credential: none is passed in, and anything
 * shaped like a JWT in the description or realm is replaced by `[token]`.
 */
export function bearerChallenge(o: ChallengeOptions): string {
  const params: [string, string][] = [];
  if (o.realm !== undefined) params.push(['realm', o.realm.replace(JWT_LIKE, '[token]')]);
  if (o.error !== undefined) params.push(['error', o.error]);
  const scope = (o.scope ?? '').split(' ').filter((w) => SCOPE_TOKEN.test(w));
  if (scope.length > 0) params.push(['scope', scope.join(' ')]);
  params.push(['resource_metadata', o.resourceMetadata]);
  if (o.error !== undefined && o.description !== undefined) {
    const description = errorDescription(o.description);
    if (description !== '') params.push(['error_description', description]);
  }
  return `Bearer ${params.map(([name, value]) => `${name}=${quoted(value)}`).join(', ')}`;
}

/**
 * `text` as RFC 6750 §3 allows an error_description (%x20-21 / %x23-5B / %x5D-7E: no `"` or `\`): `"`
 * becomes `'`, `\` becomes `/`, other characters outside printable ASCII `?`; a JWT-shaped run `[token]`;
 * at most 200 characters.
 */
export function errorDescription(text: string): string {
  const clean = text
    .replace(JWT_LIKE, '[token]')
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7E]/gu, '?');
  return clean.length <= DESCRIPTION_MAX ? clean : `${clean.slice(0, DESCRIPTION_MAX - 3)}...`;
}

/** An RFC 9110 quoted-string holding `value` (characters a header cannot carry become `?`). */
function quoted(value: string): string {
  return `"${value.replace(/[^\t\x20-\x7E]/gu, '?').replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A path's segments, each percent-decoded once (as parseTarget does); undefined for a malformed one. */
function segmentsOf(path: string): string[] | undefined {
  const end = path.search(/[?#]/);
  const p = end === -1 ? path : path.slice(0, end);
  if (!p.startsWith('/')) return undefined;
  if (p === '/') return [];
  try {
    return p.slice(1).split('/').map((s) => (s.includes('%') ? decodeURIComponent(s) : s));
  } catch {
    return undefined;
  }
}

function checkedPath(path: string, what: string): string {
  // A programming error, not a manifest problem: resource paths come from resourcePathOf.
  if (!PATH_FORM.test(path)) throw new Error(`internal: a ${what} is '' or /segments without a trailing slash`);
  return path;
}
