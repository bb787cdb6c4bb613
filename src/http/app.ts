// The Koa application: a small stack of middleware that each do one thing, then the routes.
import Koa from 'koa';
import type Router from '@koa/router';
import { exactRouter } from './koa-router.ts';
import type { Logger } from '../log.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import type { SessionRegistry } from '../sessions/registry.ts';
import type { Gate } from './gate.ts';
import { adminRoutes } from './admin.ts';
import { classicRoutes } from './classic.ts';
import { STATUS_PAGE_CSP, statusPageHtml, statusRoutes } from './status-page/routes.ts';
import { HttpError } from './errors.ts';
import type { SseOptions, SseStream } from './sse.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';

export interface AppDeps {
  readonly reconciler: Reconciler;
  readonly sessions: SessionRegistry;
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
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true; // errors are logged by our own middleware, once, with fields
  app.use(errors(deps.log));
  app.use(securityHeaders);

  const meta = exactRouter();
  meta.get('/', (ctx) => {
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
  });
  meta.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  meta.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });
  meta.get('/readyz', (ctx) => {
    const ready = deps.isReady();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'starting', manifest: deps.reconciler.status.state };
  });

  const classic = classicRoutes({ reconciler: deps.reconciler, sessions: deps.sessions, gate: deps.gate, sse: deps.sse, bodyLimit: deps.bodyLimit, streams: deps.classicStreams });
  app.use(meta.routes()).use(meta.allowedMethods());
  app.use(classic.routes()).use(classic.allowedMethods());
  const status = statusRoutes({ reconciler: deps.reconciler, sessions: deps.sessions, streams: deps.classicStreams, gate: deps.gate, sse: deps.sse });
  app.use(status.routes()).use(status.allowedMethods());
  const admin = adminRoutes({ reconciler: deps.reconciler, env: deps.env, bodyLimit: deps.bodyLimit });
  app.use(admin.routes()).use(admin.allowedMethods());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: { kind: 'NotFound', message: `no route for ${ctx.method} ${ctx.path}` } };
  });
  return app;
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
