// The classic API, kept compatible with existing clients: list servers, act on one, send it a JSON-RPC
// message, or follow its live stream. Routes read ctx, call the reconciler's supervisors and routers, and
// set the answer; they never touch a child.
import type { Context } from 'koa';
import type { Socket } from 'node:net';
import { ErrorCode, Header, checkMessage, errorResponse, isResponse } from '../protocol/jsonrpc.ts';
import type { FailureKind } from '../router/router.ts';
import type { ManagedServer } from '../supervisor/managed-server.ts';
import type { RolloutFailure } from '../supervisor/rollout.ts';
import type { ServerStatus } from '../supervisor/supervisor.ts';
import { PerSessionServer } from '../supervisor/per-session-server.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import type { SessionRegistry } from '../sessions/registry.ts';
import { sendEmpty, whenClientGoes } from './answer.ts';
import { readJson } from './body.ts';
import type { KeyRing } from '../auth/keys.ts';
import type { RequestContext, Serve } from './request-context.ts';
import { Needs, type Route } from './route-table.ts';
import { mayUse } from '../auth/keys.ts';
import { aggregateView } from '../aggregate/view.ts';
import type { Desired, EndpointSpec, KeySpec } from '../config/types.ts';
import { shownValue } from '../config/shown.ts';
import { HttpError, apiError } from './errors.ts';
import { SseStream, type SseOptions } from './sse.ts';

export interface ClassicDeps {
  readonly reconciler: Reconciler;
  readonly sessions: SessionRegistry;
  /** Called with the new key ring after every reload. */
  readonly onKeysChanged: (listener: (keys: KeyRing) => void) => () => void;
  readonly sse: SseOptions;
  readonly bodyLimit: () => number;
  /** Open classic streams by server (shared with the metrics). */
  readonly streams: Map<string, Set<SseStream>>;
}

/**
 * HTTP status for each way the gateway can answer in a child's place. A request cancelled by a
 * notifications/cancelled is answered (with a JSON-RPC error), so that is a 200.
 */
const FAILURE_STATUS: Record<FailureKind, number> = { unavailable: 503, timeout: 504, closed: 502, cancelled: 200, busy: 503 };


/** Open SSE streams on a server: classic streams and the MCP sessions' GET (or legacy) streams. */
export function sseClients(deps: Pick<ClassicDeps, 'sessions' | 'streams'>, server: string): number {
  return (deps.streams.get(server)?.size ?? 0) + deps.sessions.streamsFor(server);
}

/**
 * The servers table and the manifest's reload status, as `GET /mcp/servers` and the status page show
 * them: only the servers `key` may see, and never an env value.
 */
export function serversView(deps: Pick<ClassicDeps, 'reconciler' | 'sessions' | 'streams'>, key: KeySpec | undefined): Record<string, unknown> {
  const { reconciler, sessions } = deps;
  return {
    servers: [...reconciler.servers.values()].filter((sup) => mayUse(key, sup.name)).map((sup) => ({
      ...withoutChildLog(sup.status(), key),
      enabled: sup.spec.enabled,
      sharing: sup.spec.sharing,
      policy: sup.spec.restart.policy,
      schedule: sup.spec.schedule ?? null,
      inFlight: sup.inFlight,
      // A per-session server's children may also be held by aggregate sessions: each is one session.
      sessions: Math.max(sessions.countFor(sup.name), sup instanceof PerSessionServer ? sup.sessions : 0),
      sseClients: sseClients(deps, sup.name),
    })),
    // The aggregate endpoints this key may use, with the servers each shows it (bundles narrowed to them).
    endpoints: endpointsView(reconciler, key),
    // The reload status names every server (its plan, its errors): only for keys that see them all.
    manifest: seesAll(key) ? { ...reconciler.status, listen: listenShown(reconciler.desired) } : { state: reconciler.status.state },
  };
}

/**
 * A failed rollout's stderr tail is the new child's log: shown, as GET /mcp/:server/stderr shows it, only
 * to admin keys (and where there are no keys); other keys see why it failed, not what it wrote.
 */
function withoutChildLog(status: ServerStatus, key: KeySpec | undefined): Omit<ServerStatus, 'rolloutFailure'> & { rolloutFailure: Omit<RolloutFailure, 'stderr'> | null } {
  if (status.rolloutFailure === null || key === undefined || key.admin) return status;
  const { stderr: _log, ...failure } = status.rolloutFailure;
  return { ...status, rolloutFailure: failure };
}

/** /mcp and each bundle: its path, description and the servers it shows this key (with their prefix). */
function endpointsView(reconciler: ClassicDeps['reconciler'], key: KeySpec | undefined): Record<string, unknown>[] {
  const desired = reconciler.desired;
  const separator = desired?.separator ?? '__';
  const one = (path: string, bundle: EndpointSpec | undefined, description?: string): Record<string, unknown> => ({
    path,
    ...(description === undefined ? {} : { description }),
    servers: aggregateView(reconciler.servers.values(), separator, key, bundle).members.map((m) => ({ name: m.server, prefix: m.exposure.prefix })),
  });
  // A bundle with none of the key's servers is not shown to it (nor served: 404).
  const bundles = [...(desired?.endpoints.values() ?? [])].map((b) => one(`/mcp/@${b.name}`, b, b.description)).filter((e) => (e.servers as unknown[]).length > 0);
  return [one('/mcp', undefined), ...bundles];
}

/** Where the gateway listens, as the manifest may show it: a host written with ${VAR} is named, not shown. */
function listenShown(desired: Desired | undefined): { host: string; port: number } | null {
  if (desired === undefined) return null;
  return { host: shownValue(desired, 'listen.host', desired.listen.host), port: desired.listen.port };
}

/** No keys at all, or an admin key for every server. */
function seesAll(key: KeySpec | undefined): boolean {
  return key === undefined || (key.admin && key.servers === '*');
}

export function classicRoutes(deps: ClassicDeps): Route<Serve>[] {
  const { reconciler } = deps;
  const streams = deps.streams;
  /** The key and server of each classic stream: a reload that takes the key's admin or scope closes it. */
  const streamKeys = new Map<SseStream, { key: KeySpec | undefined; server: string }>();
  deps.onKeysChanged((ring) => {
    for (const [stream, { key, server }] of streamKeys) {
      const current = key === undefined ? undefined : ring.current(key);
      const allowed = key === undefined ? !ring.enabled : current !== undefined && current.admin && mayUse(current, server);
      if (!allowed) stream.close();
    }
  });
  // One caller per key across the classic API: a notifications/cancelled sent here finds that key's
  // request, and never another key's. Without keys nobody is known, so each connection is a caller of
  // its own (a client then cancels a request by closing its connection).
  const callers = new Map<string, { id: string }>();
  const anonymous = new WeakMap<Socket, { id: string }>();
  let nextAnonymous = 1;
  const callerFor = (key: KeySpec | undefined, socket: Socket): { id: string } => {
    if (key === undefined) {
      let c = anonymous.get(socket);
      if (c === undefined) anonymous.set(socket, (c = { id: `classic:#${nextAnonymous++}` }));
      return c;
    }
    let c = callers.get(key.name);
    if (c === undefined) callers.set(key.name, (c = { id: `classic:${key.name}` }));
    return c;
  };

  reconciler.onRemoved((name) => {
    for (const s of streams.get(name) ?? []) s.close();
    streams.delete(name);
  });

  const find = (rc: RequestContext): ManagedServer => {
    const name = rc.params.server!;
    const sup = reconciler.servers.get(name);
    if (sup === undefined) throw apiError(404, 'UnknownServer', `no server named "${name}" in the manifest`);
    return sup;
  };

  const servers = (ctx: Context, rc: RequestContext): void => {
    ctx.body = serversView(deps, rc.principal);
  };

  const stderr = (ctx: Context, rc: RequestContext): void => {
    const sup = find(rc);
    ctx.body = { server: sup.name, lines: sup.stderr.lines() };
  };

  const act = (action: 'start' | 'stop' | 'restart') => async (ctx: Context, rc: RequestContext): Promise<void> => {
    const sup = find(rc);
    const status = await sup[action]();
    ctx.body = { server: status };
  };

  const command = async (ctx: Context, rc: RequestContext): Promise<void> => {
    const name = rc.params.server!;
    const sup = reconciler.servers.get(name);
    if (sup === undefined) throw new HttpError(404, errorResponse(null, ErrorCode.InvalidRequest, `no server named "${name}" in the manifest`));
    const router = sup.router;
    const caller = callerFor(rc.principal, ctx.req.socket);
    if (router === undefined) {
      throw new HttpError(409, errorResponse(null, ErrorCode.InvalidRequest, `server "${name}" runs a child per MCP session; use /mcp/${name}/mcp`));
    }
    const body = await readJson(ctx.req, deps.bodyLimit());
    const checked = checkMessage(body);
    if ('reason' in checked) throw new HttpError(400, errorResponse(null, ErrorCode.InvalidRequest, `Invalid request: ${checked.reason}`));
    const message = checked.message;
    if ('method' in message) rc.rpcMethod = message.method;
    if (isResponse(message)) throw new HttpError(400, errorResponse(null, ErrorCode.InvalidRequest, 'Invalid request: this endpoint takes requests and notifications'));
    if (!('id' in message) || message.id === undefined) {
      if (!router.notify(message, caller)) {
        throw new HttpError(503, errorResponse(null, ErrorCode.ServerUnavailable, `server "${name}" is not running`));
      }
      ctx.respond = false; // 202 with no body at all, as MCP answers notifications
      sendEmpty(ctx.res, 202);
      return;
    }
    const result = await router.request(message, { caller, onGone: whenClientGoes(ctx.res) });
    ctx.status = result.failure === undefined ? 200 : FAILURE_STATUS[result.failure];
    ctx.body = result.response;
  };

  const stream = (ctx: Context, rc: RequestContext): void => {
    const sup = find(rc);
    ctx.respond = false; // we own the raw response from here
    const stream = new SseStream(ctx.res, deps.sse);
    let set = streams.get(sup.name);
    if (set === undefined) streams.set(sup.name, (set = new Set()));
    set.add(stream);
    streamKeys.set(stream, { key: rc.principal, server: sup.name });
    stream.send(JSON.stringify(sup.status()), 'status');
    const unsubscribe = [
      sup.tap((message) => stream.send(JSON.stringify(message))),
      sup.onStatus((status) => stream.send(JSON.stringify(status), 'status')),
      sup.onStderr((line) => stream.send(JSON.stringify({ line }), 'stderr')),
    ];
    stream.onClose(() => {
      for (const u of unsubscribe) u();
      set.delete(stream);
      streamKeys.delete(stream);
    });
  };

  return [
    { method: 'GET', pattern: '/mcp/servers', need: Needs.anyKey, serve: { koa: servers } },
    // stderr, start, stop and restart act on a process or show its log: admin keys only.
    { method: 'GET', pattern: '/mcp/:server/stderr', need: Needs.serverAdmin, serve: { koa: stderr } },
    ...(['start', 'stop', 'restart'] as const).map((a) => ({ method: 'POST', pattern: `/mcp/:server/${a}`, need: Needs.serverAdmin, serve: { koa: act(a) } })),
    { method: 'POST', pattern: '/mcp/:server/command', need: Needs.server, jsonRpc: true, serve: { koa: command } },
    // The classic stream shows everything a server says, to anyone reading: admin only. (With an
    // Mcp-Session-Id, a GET here is a Streamable HTTP session's stream: see the MCP routes.)
    { method: 'GET', pattern: '/mcp/:server/sse', need: Needs.serverAdmin, stream: true, when: (h) => h[Header.SessionId] === undefined, serve: { koa: stream } },
  ];
}
