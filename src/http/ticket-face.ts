// POST /auth/ticket: a page that holds a key or token (sent with fetch) gets a ticket to open one event
// stream with EventSource, which cannot send one (see auth/stream-tickets.ts).
import type { Context } from 'koa';
import type { KeySpec } from '../config/types.ts';
import { readJson } from './body.ts';
import { HttpError } from './errors.ts';
import type { RequestContext, Serve } from './request-context.ts';
import { Needs, type Route } from './route-table.ts';

export interface TicketDeps {
  readonly issue: (principal: KeySpec, path: string) => { ticket: string; expiresInSeconds: number };
}

const bad = (message: string): HttpError => new HttpError(400, { error: { kind: 'BadRequest', message } });

export function ticketRoutes(deps: TicketDeps): Route<Serve>[] {
  const ticket = async (ctx: Context, rc: RequestContext): Promise<void> => {
    if (rc.principal === undefined) {
      throw new HttpError(404, { error: { kind: 'NotFound', message: 'this gateway asks no key or token: open the stream directly' } });
    }
    const body = (await readJson(ctx.req, 4096).catch(() => undefined)) as { path?: unknown } | undefined;
    const path = body?.path;
    if (typeof path !== 'string' || !path.startsWith('/') || path.length > 1024 || path.includes('?') || path.includes('#')) {
      throw bad('send {"path": "/mcp/<server>/sse"}: the path of the stream the ticket is for (no query)');
    }
    ctx.body = deps.issue(rc.principal, path);
  };
  return [{ method: 'POST', pattern: '/auth/ticket', need: Needs.anyKey, serve: { koa: ticket } }];
}
