// The MCP remote transports on plain node:http (the message path skips Koa: see README, "Performance"):
// Streamable HTTP (2025-03-26 … 2025-11-25) and the legacy HTTP+SSE transport (2024-11-05). Both only
// parse, check and hand over: sessions talk to children through the router, never directly.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import {
  ErrorCode,
  Header,
  Method,
  SUPPORTED_PROTOCOL_VERSIONS,
  checkMessage,
  isValidId,
  isRequest,
  isResponse,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
} from '../protocol/jsonrpc.ts';
import { isModernPost } from '../protocol/modern.ts';
import type { StatelessRegistry } from '../stateless/registry.ts';
import { modernPost } from './modern-face.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import { AGGREGATE, type SessionRegistry } from '../sessions/registry.ts';
import { aggregateView } from '../aggregate/view.ts';
import type { Session } from '../sessions/session.ts';
import { PostAnswer, StreamSink } from '../sessions/sink.ts';
import { BASE_HEADERS, sendEmpty, sendError, sendJson, whenClientGoes } from './answer.ts';
import { readJson } from './body.ts';
import { HttpError } from './errors.ts';
import type { KeySpec } from '../config/types.ts';
import type { RequestContext, Serve } from './request-context.ts';
import { Needs, type Route } from './route-table.ts';
import { SseStream, type SseOptions } from './sse.ts';

export interface McpFaceDeps {
  readonly reconciler: Reconciler;
  readonly sessions: SessionRegistry;
  /** The 2026 stateless path's parked calls, listen streams and per-principal children. */
  readonly stateless: StatelessRegistry;
  readonly log: Logger;
  /** The gateway's version, for the aggregate endpoint's serverInfo. */
  readonly version: string;
  readonly sse: SseOptions;
  /** The current body limit (it follows manifest reloads). */
  readonly bodyLimit: () => number;
}

/** A bundle's segment: `@` and a name as server names are made (so no server route is ever one). */
const BUNDLE_PARAM = { endpoint: /^@[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/ } as const;
/**
 * A server's segment: a server name as the manifest makes them. Never `@…`: the faces take a name starting
 * with `@` for the aggregate or a bundle, so `/mcp/@/mcp` would serve the aggregate under a server route
 * (another need, and for a token another audience: resourcePathOf names no resource for it).
 */
const SERVER_PARAM = { server: /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/ } as const;

/**
 * The MCP endpoints of each server: Streamable HTTP at /mcp/:server/mcp (and at /sse for POST, DELETE and
 * a GET with Mcp-Session-Id, so a modern client given the classic URL works), and the legacy HTTP+SSE
 * transport. The gate has checked Origin, Host, key, scope and rate before any of these runs.
 */
export function mcpRoutes(deps: McpFaceDeps): Route<Serve>[] {
  type Face = (server: string, req: IncomingMessage, res: ServerResponse, deps: McpFaceDeps, rc: RequestContext) => unknown;
  const serve = (face: Face): Serve => ({
    raw: async (req, res, rc) => {
      // /mcp is the aggregate of every server ('@'), /mcp/@<name> a bundle ('@<name>'): no server name
      // starts with '@'.
      const endpoint = rc.params.endpoint;
      const bundle = endpoint === undefined ? undefined : deps.reconciler.desired?.endpoints.get(endpoint.slice(1));
      // A bundle none of whose servers the key may use does not exist for it (as an unknown one).
      if (endpoint !== undefined && (bundle === undefined || aggregateView(deps.reconciler.servers.values(), '', rc.principal, bundle).members.length === 0)) {
        return sendError(res, 404, ErrorCode.InvalidRequest, `no endpoint ${JSON.stringify(endpoint)}: bundles are /mcp/@<name> for a name under endpoints: in the manifest`);
      }
      const server = rc.params.server ?? endpoint ?? AGGREGATE.name;
      if (server.startsWith('@')) rc.endpoint = server;
      try {
        await face(server, req, res, deps, rc);
      } catch (err) {
        if (err instanceof HttpError) return sendJson(res, err.status, err.body);
        deps.log.error({ err, server }, 'MCP request failed');
        sendError(res, 500, ErrorCode.InternalError, 'internal error; see the gateway log');
      }
    },
  });
  const streamable = (method: string, pattern: string, face: Face, when?: Route<Serve>['when']): Route<Serve> => ({
    method,
    pattern,
    // The aggregate endpoint takes any key: what it shows follows the key's servers.
    need: pattern.includes(':server') ? Needs.server : Needs.anyKey,
    ...(pattern.includes(':server') ? { paramPatterns: SERVER_PARAM } : {}),
    jsonRpc: true,
    serve: serve(face),
    ...(when === undefined ? {} : { when }),
  });
  return [
    streamable('POST', '/mcp', post),
    streamable('GET', '/mcp', get),
    streamable('DELETE', '/mcp', del),
    ...(['POST', 'GET', 'DELETE'] as const).map((m) => ({ ...streamable(m, '/mcp/:endpoint', m === 'POST' ? post : m === 'GET' ? get : del), paramPatterns: BUNDLE_PARAM })),
    // The aggregate over the legacy HTTP+SSE transport (2024-11-05): /sse and /message, a bundle's at
    // /sse/@<name> and /message/@<name>.
    streamable('GET', '/sse', legacyStream),
    streamable('POST', '/message', legacyMessage),
    { ...streamable('GET', '/sse/:endpoint', legacyStream), paramPatterns: BUNDLE_PARAM },
    { ...streamable('POST', '/message/:endpoint', legacyMessage), paramPatterns: BUNDLE_PARAM },
    streamable('POST', '/mcp/:server/mcp', post),
    streamable('GET', '/mcp/:server/mcp', get),
    streamable('DELETE', '/mcp/:server/mcp', del),
    streamable('POST', '/mcp/:server/sse', post),
    streamable('DELETE', '/mcp/:server/sse', del),
    // Listed before the classic stream's route of the same method and path.
    streamable('GET', '/mcp/:server/sse', get, (h) => h[Header.SessionId] !== undefined),
    streamable('GET', '/mcp/:server/legacy/sse', legacyStream),
    streamable('POST', '/mcp/:server/legacy/message', legacyMessage),
  ];
}

/** Checks one parsed body as a JSON-RPC message; answers the error itself and returns undefined when it is bad. */
function checkBody(body: unknown, res: ServerResponse): JsonRpcMessage | undefined {
  if (Array.isArray(body)) {
    sendError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: batches are not supported; send one message per POST');
    return undefined;
  }
  const checked = checkMessage(body);
  if ('reason' in checked) {
    sendError(res, 400, ErrorCode.InvalidRequest, `Invalid Request: ${checked.reason}`, idOf(body));
    return undefined;
  }
  return checked.message;
}

/** Reads and checks one JSON-RPC message; answers the error itself and returns undefined when it is bad. */
async function readMessage(req: IncomingMessage, res: ServerResponse, limit: number): Promise<JsonRpcMessage | undefined> {
  return checkBody(await readJson(req, limit), res);
}

function accepts(req: IncomingMessage, ...types: string[]): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('*/*') || types.every((t) => accept.includes(t));
}

/** Both types are acceptable; the one listed first is the one the client would rather have. */
function prefersStream(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  const sse = accept.indexOf('text/event-stream');
  const json = accept.indexOf('application/json');
  return sse !== -1 && (json === -1 || sse < json);
}

/**
 * The session named by Mcp-Session-Id; answers 400 (none given) or 404 (unknown, whatever the method:
 * the client then initializes anew). `id`: the request's, which the error echoes.
 */
function findSession(server: string, req: IncomingMessage, res: ServerResponse, deps: McpFaceDeps, principal: KeySpec | undefined, id: JsonRpcId | null = null): Session | undefined {
  const sessionId = req.headers[Header.SessionId];
  if (typeof sessionId !== 'string' || sessionId === '') {
    sendError(res, 400, ErrorCode.TransportError, 'Bad Request: Mcp-Session-Id header is required (send initialize first)', id);
    return undefined;
  }
  const session = deps.sessions.get(sessionId);
  // A session answers only to the key that opened it: to any other it does not exist.
  if (session === undefined || session.server !== server || session.transport !== 'streamable' || session.key?.name !== principal?.name) {
    sendError(res, 404, ErrorCode.SessionNotFound, 'Session not found: it ended or expired; initialize a new one', id);
    return undefined;
  }
  deps.sessions.follow(session, principal);
  return session;
}

async function post(server: string, req: IncomingMessage, res: ServerResponse, deps: McpFaceDeps, rc: RequestContext): Promise<void> {
  if (!(req.headers['content-type'] ?? '').includes('application/json')) {
    return sendError(res, 415, ErrorCode.TransportError, 'Unsupported Media Type: Content-Type must be application/json');
  }
  const body = await readJson(req, deps.bodyLimit());
  // One URL, two eras: a 2026 request (its headers, its _meta) takes the stateless path, the rest the
  // 2025 session path. Every error from here on echoes the request's id when it has one.
  if (isModernPost(req.headers, body)) return modernPost(server, req, res, body, deps, rc);
  const id = idOf(body);
  if (!accepts(req, 'application/json', 'text/event-stream')) {
    return sendError(res, 406, ErrorCode.TransportError, 'Not Acceptable: Accept must list application/json and text/event-stream', id);
  }
  const message = checkBody(body, res);
  if (message === undefined) return;
  if ('method' in message) rc.rpcMethod = message.method;

  if ('method' in message && message.method === Method.Initialize && isRequest(message) && req.headers[Header.SessionId] === undefined) {
    return initialize(server, message, res, deps, rc.principal);
  }
  const session = findSession(server, req, res, deps, rc.principal, id);
  if (session === undefined) return;
  const version = req.headers[Header.ProtocolVersion];
  if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    // Only with a session id (any other unknown version took the stateless path, which lists the versions).
    return sendError(res, 400, ErrorCode.TransportError, `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(version)} for a session; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`, id);
  }
  if ('method' in message && message.method === Method.Initialize) {
    return sendError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: this session is initialized already; send initialize without Mcp-Session-Id to start a new one', id);
  }
  if (isResponse(message)) {
    session.answer(message);
    return sendEmpty(res, 202);
  }
  if (!isRequest(message)) {
    session.notify(message);
    return sendEmpty(res, 202);
  }
  // A client that drops a plain POST gives the request up: the child hears a cancel. Once events with ids
  // went out, a drop is no cancel (the spec says so): the client may resume with Last-Event-ID, and the
  // answer waits in the session's event log, bounded by requestTimeout.
  const answer = new PostAnswer(res, deps.sse, BASE_HEADERS, prefersStream(req), session.primer(message.id));
  const onGone = whenClientGoes(res);
  await session.request(message, answer, (giveUp) => onGone(() => void (answer.resumable || giveUp())), (to) => (rc.routedTo = to));
}

/** The request's id, when the body is an object that has a valid one (errors echo it). */
function idOf(body: unknown): JsonRpcId | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const id = (body as Record<string, unknown>).id;
  return isValidId(id) ? id : null;
}

async function initialize(server: string, message: JsonRpcRequest, res: ServerResponse, deps: McpFaceDeps, principal: KeySpec | undefined): Promise<void> {
  if (server.startsWith('@')) return initializeAggregate(server, message, res, deps, principal);
  const target = deps.reconciler.servers.get(server);
  if (target === undefined) return sendError(res, 404, ErrorCode.InvalidRequest, `no server named "${server}" in the manifest`, message.id);
  const session = deps.sessions.create(target, 'streamable', principal);
  if ('status' in session) return sendError(res, session.status, session.code, session.message, message.id);
  const bound = await deps.sessions.bind(session, target, message);
  if ('status' in bound) {
    await deps.sessions.end(session.id, 'initialize failed');
    return sendError(res, bound.status, bound.code, bound.message, message.id);
  }
  sendJson(res, 200, { jsonrpc: '2.0', id: message.id, result: bound.initializeResult }, { 'Mcp-Session-Id': session.id });
}

/** `endpoint`: '@' for /mcp, '@<bundle>' for a bundle. */
async function initializeAggregate(endpoint: string, message: JsonRpcRequest, res: ServerResponse, deps: McpFaceDeps, principal: KeySpec | undefined): Promise<void> {
  const session = deps.sessions.create({ name: endpoint, spec: AGGREGATE.spec }, 'streamable', principal);
  if ('status' in session) return sendError(res, session.status, session.code, session.message, message.id);
  const bundle = endpoint === AGGREGATE.name ? undefined : endpoint.slice(1);
  const bound = await deps.sessions.bindAggregate(session, message, { name: 'mcp-gateway', version: deps.version }, bundle);
  if ('status' in bound) {
    await deps.sessions.end(session.id, 'initialize failed');
    return sendError(res, bound.status, bound.code, bound.message, message.id);
  }
  sendJson(res, 200, { jsonrpc: '2.0', id: message.id, result: bound.initializeResult }, { 'Mcp-Session-Id': session.id });
}

function get(server: string, req: IncomingMessage, res: ServerResponse, deps: McpFaceDeps, rc: RequestContext): void {
  if (!accepts(req, 'text/event-stream')) {
    return sendError(res, 406, ErrorCode.TransportError, 'Not Acceptable: Accept must list text/event-stream');
  }
  const session = findSession(server, req, res, deps, rc.principal);
  if (session === undefined) return;
  const last = Number(req.headers[Header.LastEventId]);
  const resumed = Number.isInteger(last) ? session.events.streamOf(last) : undefined;

  if (resumed !== undefined && resumed.startsWith('req:')) {
    // Resuming a request's stream that broke: replay what it missed, then carry its answer.
    const stream = new SseStream(res, deps.sse, BASE_HEADERS);
    stream.prime(String(last));
    for (const e of session.events.after(last, resumed)) stream.send(e.data, undefined, String(e.seq));
    if (!session.resumeRequest(resumed, new StreamSink(stream, { endOnFinish: true }))) stream.close();
    return;
  }
  if (session.hasStream) {
    return sendError(res, 409, ErrorCode.TransportError, 'Conflict: this session already has a GET stream open');
  }
  const stream = new SseStream(res, deps.sse, BASE_HEADERS);
  if (resumed === undefined) stream.prime(session.primer()());
  else {
    // Resumed: primed with the id it resumes from, so that its missed events (older ids than a new one
    // would be) still come after the priming event, and resuming from the priming id loses nothing.
    stream.prime(String(last));
    for (const e of session.events.after(last, resumed)) stream.send(e.data, undefined, String(e.seq));
  }
  session.attachStream(new StreamSink(stream));
  session.touch();
  stream.onClose(() => session.touch());
}

async function del(server: string, req: IncomingMessage, res: ServerResponse, deps: McpFaceDeps, rc: RequestContext): Promise<void> {
  const session = findSession(server, req, res, deps, rc.principal);
  if (session === undefined) return;
  await deps.sessions.end(session.id, 'ended by the client (DELETE)');
  sendEmpty(res, 200);
}

function legacyStream(server: string, _req: IncomingMessage, res: ServerResponse, deps: McpFaceDeps, rc: RequestContext): void {
  const aggregate = server.startsWith('@');
  const target = aggregate ? { name: server, spec: AGGREGATE.spec } : deps.reconciler.servers.get(server);
  if (target === undefined) {
    return sendError(res, 404, ErrorCode.InvalidRequest, `no server named "${server}" in the manifest`);
  }
  // A legacy stream is a session from its GET on: it counts against maxSessions before it initializes.
  const session = deps.sessions.create(target, 'legacy', rc.principal);
  if ('status' in session) return sendError(res, session.status, session.code, session.message);
  const stream = new SseStream(res, deps.sse, BASE_HEADERS);
  const messages = aggregate ? `/message${server === AGGREGATE.name ? '' : `/${server}`}` : `/mcp/${encodeURIComponent(server)}/legacy/message`;
  stream.send(`${messages}?sessionId=${session.id}`, 'endpoint');
  session.attachStream(new StreamSink(stream, { event: 'message' }));
  stream.onClose(() => void deps.sessions.end(session.id, 'stream closed'));
}

async function legacyMessage(server: string, req: IncomingMessage, res: ServerResponse, deps: McpFaceDeps, rc: RequestContext): Promise<void> {
  const sessionId = new URLSearchParams(rc.query).get('sessionId');
  const session = sessionId === null ? undefined : deps.sessions.get(sessionId);
  if (session === undefined || session.server !== server || session.transport !== 'legacy' || session.key?.name !== rc.principal?.name) {
    return sendError(res, 404, ErrorCode.SessionNotFound, 'Session not found: open /legacy/sse again');
  }
  deps.sessions.follow(session, rc.principal);
  if (!(req.headers['content-type'] ?? '').includes('application/json')) {
    return sendError(res, 415, ErrorCode.TransportError, 'Unsupported Media Type: Content-Type must be application/json');
  }
  const message = await readMessage(req, res, deps.bodyLimit());
  if (message === undefined) return;
  if ('method' in message) rc.rpcMethod = message.method;
  sendEmpty(res, 202); // answers travel on the session's stream
  const sink = session.stream;
  if (sink === undefined) return;

  if (isResponse(message)) {
    session.answer(message);
  } else if (!isRequest(message)) {
    session.notify(message);
  } else if (message.method === Method.Initialize && !session.bound) {
    const target = deps.reconciler.servers.get(server);
    const bundle = server === AGGREGATE.name ? undefined : server.slice(1);
    const gateway = { name: 'mcp-gateway', version: deps.version };
    const bound = server.startsWith('@')
      ? await deps.sessions.bindAggregate(session, message, gateway, bundle)
      : target === undefined
        ? undefined
        : await deps.sessions.bind(session, target, message);
    if (bound === undefined || 'status' in bound) {
      sink.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: bound?.code ?? ErrorCode.InvalidRequest, message: bound?.message ?? 'server removed' } }));
      await deps.sessions.end(session.id, 'initialize failed');
      return;
    }
    sink.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: bound.initializeResult }));
  } else {
    await session.request(message, sink);
  }
}
