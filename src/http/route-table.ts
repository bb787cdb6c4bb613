// The one route table: every route the gateway serves, declared once with its method, path pattern, what
// it needs of the caller and what serves it. The same match decides both who may call and what answers,
// so no spelling of a target can be authorized for one route and served by another. Pure and generic in
// what serves a route (the app composes the real table; tests use plain values).
//
// Compiled for the message path: patterns are grouped by which segments are parameters, so a match is one
// map lookup per group (two for the gateway's routes), never a scan of the table.
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a route asks of the caller. `probe`: nothing at all (health checks come from anywhere); `public`: no
 * key, but the Host/Origin check (DNS rebinding); `server`: a key that may use the route's `:server` (and
 * is admin if `admin`).
 */
export type Need =
  | { readonly kind: 'probe' }
  | { readonly kind: 'public' }
  | { readonly kind: 'any-key' }
  | { readonly kind: 'server'; readonly admin: boolean }
  | { readonly kind: 'admin' };

export const Needs = {
  probe: { kind: 'probe' },
  public: { kind: 'public' },
  anyKey: { kind: 'any-key' },
  server: { kind: 'server', admin: false },
  serverAdmin: { kind: 'server', admin: true },
  admin: { kind: 'admin' },
} as const satisfies Record<string, Need>;

export interface Route<S> {
  readonly method: string;
  /** Literal segments and `:name` parameters: `/mcp/:server/stop`. Case-sensitive, no trailing slash. */
  readonly pattern: string;
  readonly need: Need;
  /** Where two routes share method and pattern, the first whose `when` accepts the headers serves. */
  readonly when?: (headers: IncomingHttpHeaders) => boolean;
  /** A JSON-RPC face: refusals are JSON-RPC error objects, not `{ error: { kind, message } }`. */
  readonly jsonRpc?: boolean;
  /** Answers with a stream that stays open (SSE): it has no HEAD, whose answer would never end. */
  readonly stream?: boolean;
  /** What each parameter must look like (decoded) for the route to match at all: `/mcp/:endpoint` takes `@…` only. */
  readonly paramPatterns?: Readonly<Record<string, RegExp>>;
  readonly serve: S;
}

export type Lookup<S> =
  | { readonly kind: 'route'; readonly route: Route<S>; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'wrong-method'; readonly allow: readonly string[]; readonly jsonRpc: boolean }
  | { readonly kind: 'none' };

interface Group<S> {
  /** Segment positions that are parameters, and their names. */
  readonly params: readonly (readonly [number, string])[];
  readonly bySegments: Map<string, Route<S>[]>;
}

/** The order an Allow header lists methods in. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const PARAM_MARK = '\u0000';
const NONE = { kind: 'none' } as const;
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

export class RouteTable<S> {
  /** Groups by segment count, then by parameter positions. */
  readonly #groups = new Map<number, Group<S>[]>();
  readonly routes: readonly Route<S>[];

  constructor(routes: readonly Route<S>[]) {
    this.routes = routes;
    for (const route of routes) {
      if (!route.pattern.startsWith('/') || (route.pattern.length > 1 && route.pattern.endsWith('/'))) {
        throw new Error(`route pattern ${route.pattern} must start with / and not end with one`);
      }
      const parts = route.pattern === '/' ? [] : route.pattern.slice(1).split('/');
      const params = parts.flatMap((p, i) => (p.startsWith(':') ? [[i, p.slice(1)] as const] : []));
      const shape = params.map(([i]) => i).join(',');
      let groups = this.#groups.get(parts.length);
      if (groups === undefined) this.#groups.set(parts.length, (groups = []));
      let group = groups.find((g) => g.params.map(([i]) => i).join(',') === shape);
      if (group === undefined) groups.push((group = { params, bySegments: new Map() }));
      const key = parts.map((p) => (p.startsWith(':') ? PARAM_MARK : p)).join('/');
      const list = group.bySegments.get(key);
      if (list === undefined) group.bySegments.set(key, [route]);
      else list.push(route);
    }
    // A literal segment is more specific than a parameter: groups with fewer parameters are tried first.
    for (const groups of this.#groups.values()) groups.sort((x, y) => x.params.length - y.params.length);
  }

  /** The route for a method and decoded path segments (from parseTarget). */
  match(method: string, segments: readonly string[], headers: IncomingHttpHeaders): Lookup<S> {
    const groups = this.#groups.get(segments.length);
    if (groups === undefined) return NONE;
    let other: Route<S>[] | undefined;
    for (const group of groups) {
      const key = lookupKey(group, segments);
      const all = key === undefined ? undefined : group.bySegments.get(key);
      if (all === undefined) continue;
      const candidates = all.filter((route) => paramsFit(route, group, segments));
      if (candidates.length === 0) continue;
      for (const route of candidates) {
        if (route.method !== method || (route.when !== undefined && !route.when(headers))) continue;
        if (group.params.length === 0) return { kind: 'route', route, params: NO_PARAMS };
        const params: Record<string, string> = {};
        for (const [i, name] of group.params) params[name] = segments[i]!;
        return { kind: 'route', route, params };
      }
      // Another group (a parameter where this one has a literal) may still take this method.
      other = other === undefined ? candidates : [...other, ...candidates];
    }
    if (other === undefined) return NONE;
    const allow = METHOD_ORDER.filter((m) => other.some((r) => r.method === m));
    return { kind: 'wrong-method', allow, jsonRpc: other.some((r) => r.jsonRpc === true) };
  }
}

/** Whether the segments in `route`'s parameter places look as its paramPatterns ask (no patterns: yes). */
function paramsFit<S>(route: Route<S>, group: Group<S>, segments: readonly string[]): boolean {
  const patterns = route.paramPatterns;
  if (patterns === undefined) return true;
  for (const [i, name] of group.params) {
    const re = patterns[name];
    if (re !== undefined && !re.test(segments[i]!)) return false;
  }
  return true;
}

/** The lookup key of `segments` in `group`: parameters marked; undefined when a parameter would be empty. */
function lookupKey<S>(group: Group<S>, segments: readonly string[]): string | undefined {
  if (group.params.length === 0) return segments.join('/');
  const parts = segments.slice();
  for (const [i] of group.params) {
    // A parameter is never empty: `/mcp//stop` names no server.
    if (parts[i] === '') return undefined;
    parts[i] = PARAM_MARK;
  }
  return parts.join('/');
}
