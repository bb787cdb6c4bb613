// The status page: static files (no build step) and /status/events, an SSE stream of the servers table
// that sends a fresh snapshot whenever a server changes state or the manifest reloads. The page has no
// data of its own: what it shows comes through the stream, which needs a key when keys exist.
import { readFileSync } from 'node:fs';
import type { Context } from 'koa';
import type { Reconciler } from '../../reconciler/reconciler.ts';
import type { ManagedServer } from '../../supervisor/managed-server.ts';
import type { RequestContext, Serve } from '../request-context.ts';
import { Needs, type Route } from '../route-table.ts';
import { serversView, type ClassicDeps } from '../classic.ts';
import { SseStream, type SseOptions } from '../sse.ts';

// static/ sits at the package root: three levels up from src/http/status-page/ and from dist/http/status-page/.
const read = (name: string): string => readFileSync(new URL(`../../../static/status/${name}`, import.meta.url), 'utf8');
const FILES = {
  'page.html': { type: 'text/html; charset=utf-8', body: read('page.html') },
  'page.js': { type: 'text/javascript; charset=utf-8', body: read('page.js') },
  'page.css': { type: 'text/css; charset=utf-8', body: read('page.css') },
} as const;

/** Strict: the page loads its own script and style and talks only to this origin. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface StatusDeps extends Pick<ClassicDeps, 'reconciler' | 'sessions' | 'streams' | 'onKeysChanged'> {
  readonly sse: SseOptions;
}

export function statusPageHtml(): string {
  return FILES['page.html'].body;
}

export const STATUS_PAGE_CSP = CSP;

export function statusRoutes(deps: StatusDeps): Route<Serve>[] {
  const file = (name: 'page.js' | 'page.css') => (ctx: Context): void => {
    ctx.type = FILES[name].type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = FILES[name].body;
  };

  const events = (ctx: Context, rc: RequestContext): void => {
    const opened = rc.principal;
    let key = opened;
    ctx.respond = false;
    const stream = new SseStream(ctx.res, deps.sse);
    let timer: NodeJS.Timeout | undefined;
    // Changes come in bursts (a reload restarts several servers): one snapshot per burst.
    const send = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => stream.send(JSON.stringify(serversView(deps, key))), 50);
    };
    // Subscribed per server object, not per name: a reload may put a new object under the same name.
    const watching = new Map<string, { server: ManagedServer; off: () => void }>();
    const watch = (r: Reconciler): void => {
      for (const [name, w] of watching) {
        if (r.servers.get(name) !== w.server) {
          w.off();
          watching.delete(name);
        }
      }
      for (const [name, server] of r.servers) if (!watching.has(name)) watching.set(name, { server, off: server.onStatus(send) });
    };
    watch(deps.reconciler);
    const offReload = deps.reconciler.onReload(() => {
      watch(deps.reconciler);
      send();
    });
    // A key removed by a reload closes the stream; one whose scope changed sees its new scope.
    const offKeys = deps.onKeysChanged((ring) => {
      if (opened === undefined) {
        if (ring.enabled) stream.close();
        return;
      }
      key = ring.current(opened);
      if (key === undefined) stream.close();
    });
    stream.send(JSON.stringify(serversView(deps, key)));
    stream.onClose(() => {
      clearTimeout(timer);
      offReload();
      offKeys();
      for (const w of watching.values()) w.off();
    });
  };

  return [
    // The page's own files hold no data: public, so a browser can load the page before it has a key.
    ...(['page.js', 'page.css'] as const).map((name) => ({ method: 'GET', pattern: `/status/${name}`, need: Needs.public, serve: { koa: file(name) } })),
    { method: 'GET', pattern: '/status/events', need: Needs.anyKey, stream: true, serve: { koa: events } },
  ];
}
