// The one route table: every route the gateway serves, declared once with its method, path pattern, what
// it needs of the caller and what serves it. The same match decides both who may call and what answers,
// so no spelling of a target can be authorized for one route and served by another. Pure and generic in
// what serves a route (the app composes the real table; tests use plain values).
//
// Compiled for the message path: patterns are grouped by which segments are parameters, so a match is one
// map lookup per group (two for the gateway's routes), never a scan of the table.
import type { IncomingHttpHeaders } from 'node:http';

/** What a route asks of the caller. `server`: a key that may use the route's `:server` (and is admin if `admin`). */
export type Need =
  | { readonly kind: 'public' }
  | { readonly kind: 'any-key' }
  | { readonly kind: 'server'; readonly admin: boolean }
  | { readonly kind: 'admin' };

export const Needs = {
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
  }

  /** The route for a method and decoded path segments (from parseTarget). */
  match(method: string, segments: readonly string[], headers: IncomingHttpHeaders): Lookup<S> {
    const groups = this.#groups.get(segments.length);
    if (groups === undefined) return NONE;
    for (const group of groups) {
      let key: string;
      if (group.params.length === 0) key = segments.join('/');
      else {
        const parts = segments.slice();
        for (const [i] of group.params) {
          // A parameter is never empty: `/mcp//stop` names no server.
          if (parts[i] === '') return NONE;
          parts[i] = PARAM_MARK;
        }
        key = parts.join('/');
      }
      const candidates = group.bySegments.get(key);
      if (candidates === undefined) continue;
      for (const route of candidates) {
        if (route.method !== method || (route.when !== undefined && !route.when(headers))) continue;
        if (group.params.length === 0) return { kind: 'route', route, params: NO_PARAMS };
        const params: Record<string, string> = {};
        for (const [i, name] of group.params) params[name] = segments[i]!;
        return { kind: 'route', route, params };
      }
      const allow = METHOD_ORDER.filter((m) => candidates.some((r) => r.method === m));
      return { kind: 'wrong-method', allow, jsonRpc: candidates.some((r) => r.jsonRpc === true) };
    }
    return NONE;
  }
}
