// Where the HTTP side is composed: the one route table (every face's routes, each with what it needs) and
// the request handler that uses it. A request flows one way: parse the target → match a route → the gate
// authorizes from that route's need → the route's face serves it, with the same parameters the gate saw.
// The gate never sees the table and faces never see the gate: the caller reaches faces in RequestContext.
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import type { Logger } from '../log.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import type { SessionRegistry } from '../sessions/registry.ts';
import type { StatelessRegistry } from '../stateless/registry.ts';
import { ErrorCode } from '../protocol/jsonrpc.ts';
import type { Admitted, Gate } from './gate.ts';
import { adminRoutes } from './admin.ts';
import { sendError, sendJson } from './answer.ts';
import { classicRoutes } from './classic.ts';
import { mcpRoutes } from './mcp-face.ts';
import { STATUS_PAGE_CSP, statusPageHtml, statusRoutes } from './status-page/routes.ts';
import { HttpError } from './errors.ts';
import type { RequestContext, Serve } from './request-context.ts';
import { Needs, RouteTable, type Route } from './route-table.ts';
import type { SseOptions, SseStream } from './sse.ts';
import { parseTarget } from './target.ts';
import { resourceMetadataRoutes } from './resource-metadata-face.ts';
import { ticketRoutes } from './ticket-face.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';

export interface AppDeps {
  readonly reconciler: Reconciler;
  readonly sessions: SessionRegistry;
  readonly stateless: StatelessRegistry;
  readonly gate: Gate;
  readonly log: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  readonly startedAt: number;
  readonly sse: SseOptions;
  readonly bodyLimit: () => number;
  readonly metrics: GatewayMetrics;
  readonly classicStreams: Map<string, Set<SseStream>>;
  /** True once the first reconcile pass has been applied. */
  readonly isReady: () => boolean;
  /** True while the gateway shuts down: only /healthz is still served. */
  readonly isDraining: () => boolean;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Every route the gateway serves. Koa GET routes answer HEAD as well (Koa sends no body then), but streams. */
export function routeTable(deps: AppDeps): RouteTable<Serve> {
  const onKeysChanged = deps.gate.onKeysChanged.bind(deps.gate);
  const { reconciler, sessions, sse, bodyLimit } = deps;
  const routes: Route<Serve>[] = [
    ...metaRoutes(deps),
    ...ticketRoutes({ issue: (principal, path) => deps.gate.tickets.issue(principal, path) }),
    ...resourceMetadataRoutes({ tokens: () => deps.gate.policy.keys.tokens, publicUrl: (req) => deps.gate.publicUrlFor(req), reconciler }),
    ...statusRoutes({ reconciler, sessions, streams: deps.classicStreams, onKeysChanged, sse }),
    ...adminRoutes({ reconciler, env: deps.env, bodyLimit }),
    // The MCP routes come first: GET /mcp/:server/sse with a session header is theirs.
    ...mcpRoutes({ reconciler, sessions, stateless: deps.stateless, log: deps.log, version: deps.version, sse, bodyLimit }),
    ...classicRoutes({ reconciler, sessions, onKeysChanged, sse, bodyLimit, streams: deps.classicStreams }),
  ];
  return new RouteTable(routes.flatMap((r) => (r.method === 'GET' && 'koa' in r.serve && r.stream !== true ? [r, { ...r, method: 'HEAD' }] : [r])));
}

function metaRoutes(deps: AppDeps): Route<Serve>[] {
  return [
    {
      method: 'GET',
      pattern: '/',
      need: Needs.public,
      serve: {
        koa: (ctx) => {
          // Browsers get the status page; everything else keeps getting the JSON "is it up" answer.
          if (ctx.accepts('json', 'html') === 'html') {
            ctx.type = 'html';
            ctx.set('Content-Security-Policy', STATUS_PAGE_CSP);
            ctx.body = statusPageHtml();
            return;
          }
          ctx.body = {
            name: 'mcp-gateway',
            version: deps.version,
            uptime: Math.round((Date.now() - deps.startedAt) / 1000),
            servers: deps.reconciler.servers.size,
          };
        },
      },
    },
    { method: 'GET', pattern: '/healthz', need: Needs.probe, serve: { koa: (ctx) => void (ctx.body = { status: 'ok' }) } },
    {
      method: 'GET',
      pattern: '/readyz',
      need: Needs.probe,
      serve: {
        koa: (ctx) => {
          const ready = deps.isReady();
          ctx.status = ready ? 200 : 503;
          ctx.body = { status: ready ? 'ready' : 'starting', manifest: deps.reconciler.status.state };
        },
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      need: Needs.admin,
      serve: {
        koa: async (ctx) => {
          ctx.type = deps.metrics.contentType;
          ctx.body = await deps.metrics.text();
        },
      },
    },
  ];
}

/** The node:http request handler over the route table, and the table (for tests and introspection). */
export function createHandler(deps: AppDeps): { readonly handle: RequestHandler; readonly routes: RouteTable<Serve> } {
  const table = routeTable(deps);
  const { gate } = deps;
  // Koa serves the API and the status page; what it runs for a request is handed over here, by request.
  const handedOver = new WeakMap<IncomingMessage, { rc: RequestContext; serve: (ctx: Koa.Context, rc: RequestContext) => unknown }>();
  const koa = new Koa();
  koa.silent = true; // errors are logged by our own middleware, once, with fields
  koa.use(errors(deps.log));
  koa.use(securityHeaders);
  koa.use(async (ctx) => {
    const h = handedOver.get(ctx.req)!;
    await h.serve(ctx, h.rc);
  });
  const koaCallback = koa.callback();

  const handle: RequestHandler = (req, res) => {
    const method = req.method ?? 'GET';
    const target = parseTarget(req.url ?? '');
    if ('error' in target) {
      sendJson(res, 400, { error: { kind: 'BadRequest', message: `Bad Request: ${target.error}` } }, { Connection: 'close' });
      return;
    }
    if (deps.isDraining() && !(target.segments.length === 1 && target.segments[0] === 'healthz')) {
      // Shutting down: new work goes elsewhere (a load balancer retries 503), requests in flight finish.
      sendJson(res, 503, { error: { kind: 'ShuttingDown', message: 'the gateway is shutting down' } }, { Connection: 'close', 'Retry-After': '1' });
      return;
    }
    // From here on everything sees the origin-form target (Koa, logs); the authority replaced Host.
    if (target.authority !== undefined) req.url = target.query === '' ? target.path : `${target.path}?${target.query}`;
    const found = table.match(method, target.segments, req.headers);
    const jsonRpc = found.kind === 'route' ? found.route.jsonRpc === true : found.kind === 'wrong-method' && found.jsonRpc;
    if (!gate.cors(req, res, jsonRpc)) return;
    if (found.kind !== 'route') {
      // No route, or not this method: say so only to a caller who could use some route (no probing).
      const unrouted = (admitted: Admitted | false): void => {
        if (admitted === false) return;
        if (found.kind === 'none') {
          sendJson(res, 404, { error: { kind: 'NotFound', message: `no route for ${method} ${target.path}` } });
        } else if (jsonRpc) {
          sendError(res, 405, ErrorCode.TransportError, `Method not allowed: use ${found.allow.join(', ')}`, null, { Allow: found.allow.join(', ') });
        } else {
          sendJson(res, 405, { error: { kind: 'MethodNotAllowed', message: `use ${found.allow.join(', ')}` } }, { Allow: found.allow.join(', ') });
        }
      };
      return settle(gate.admit(req, res, Needs.anyKey, undefined, jsonRpc, target.authority, target.segments, target.query), unrouted);
    }
    const { route, params } = found;
    const serve = (admitted: Admitted | false): void => {
      if (admitted === false) return;
      const rc: RequestContext = { pattern: route.pattern, params, query: target.query, principal: admitted.principal, rpcMethod: undefined };
      gate.logAccess(req, res, rc);
      if ('raw' in route.serve) {
        void route.serve.raw(req, res, rc);
        return;
      }
      handedOver.set(req, { rc, serve: route.serve.koa });
      void koaCallback(req, res);
    };
    settle(gate.admit(req, res, route.need, params.server, jsonRpc, target.authority, target.segments, target.query), serve);
  };
  return { handle, routes: table };
}

/**
 * Goes on with what the gate decided: at once for a key (the message path stays synchronous), or once a
 * bearer token is verified (its issuer's keys may have to be fetched first).
 */
function settle(admitted: Admitted | false | Promise<Admitted | false>, then: (admitted: Admitted | false) => void): void {
  if (admitted instanceof Promise) void admitted.then(then);
  else then(admitted);
}

/** Maps thrown errors to answers: HttpErrors as they are, anything else as a 500 that leaks nothing. */
function errors(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = err.body;
        return;
      }
      log.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: { kind: 'Internal', message: 'internal error; see the gateway log' } };
    }
  };
}

const securityHeaders: Koa.Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  await next();
};
