// The 2026-07-28 stateless path of an MCP endpoint: a POST whose era is modern (protocol/modern.ts says
// which) is checked (headers against body, version, _meta), then answered here (server/discover, removed
// methods), opened as a subscriptions/listen stream, or sent to the child as a StatelessCall, which
// turns the child's server-to-client requests into input-required rounds. No session, no GET, no
// Last-Event-ID: every answer belongs to its own POST.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, LATEST_PROTOCOL_VERSION, Method, checkMessage, errorResponse, isRequest, type JsonRpcId, type JsonRpcRequest } from '../protocol/jsonrpc.ts';
import { LISTS } from '../aggregate/names.ts';
import { AGGREGATE } from '../sessions/registry.ts';
import {
  ALL_PROTOCOL_VERSIONS,
  INPUT_REQUIRED_METHODS,
  Meta,
  ModernMethod,
  REMOVED_METHODS,
  checkModernRequest,
  discoverResult,
  honouredFilter,
  listenFilter,
  modernErrorStatus,
  refusal,
  toChildParams,
  toModernResult,
} from '../protocol/modern.ts';
import { PostAnswer } from '../sessions/sink.ts';
import { ListenStream } from '../stateless/listen-stream.ts';
import { AggregateListen } from '../stateless/aggregate-listen.ts';
import { callDigest } from '../stateless/request-state.ts';
import { MAX_LISTEN_STREAMS, childInitializeResult, type ModernBinding, type StatelessRegistry } from '../stateless/registry.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import { BASE_HEADERS, sendEmpty, sendJson } from './answer.ts';
import type { RequestContext } from './request-context.ts';
import { SseStream, type SseOptions } from './sse.ts';

export interface ModernFaceDeps {
  readonly reconciler: Reconciler;
  /** The gateway's version, for the aggregate endpoint's serverInfo. */
  readonly version: string;
  readonly stateless: StatelessRegistry;
  readonly sse: SseOptions;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(res: ServerResponse, status: number, id: JsonRpcId | null, code: number, message: string, data?: unknown): void {
  sendJson(res, status, errorResponse(id, code, message, data));
}

export async function modernPost(server: string, req: IncomingMessage, res: ServerResponse, body: unknown, deps: ModernFaceDeps, rc: RequestContext): Promise<void> {
  const id = isObject(body) && (typeof body.id === 'string' || typeof body.id === 'number') ? body.id : null;
  const accept = req.headers.accept ?? '';
  if (!accept.includes('*/*') && !(accept.includes('application/json') && accept.includes('text/event-stream'))) {
    return fail(res, 406, id, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must list application/json and text/event-stream');
  }
  if (Array.isArray(body)) return fail(res, 400, null, ErrorCode.InvalidRequest, 'Invalid Request: batches are not supported; send one message per POST');
  const checked = checkMessage(body);
  if ('reason' in checked) return fail(res, 400, id, ErrorCode.InvalidRequest, `Invalid Request: ${checked.reason}`);
  const message = checked.message;
  if (!('method' in message)) return fail(res, 400, id, ErrorCode.InvalidRequest, 'Invalid Request: clients send no responses in 2026-07-28 (input goes in inputResponses)');
  rc.rpcMethod = message.method;
  // 2026 defines no client notifications over HTTP (closing a stream cancels); accept and drop any.
  if (!isRequest(message)) return sendEmpty(res, 202);

  const valid = checkModernRequest(req.headers, message.method, message.params);
  if ('status' in valid) {
    const r = refusal(message.id, valid);
    return sendJson(res, r.status, r.body);
  }
  if (REMOVED_METHODS.has(message.method)) {
    return fail(res, 404, message.id, ErrorCode.MethodNotFound, `Method not found: ${message.method} is not part of MCP 2026-07-28 (no sessions: send requests with _meta)`);
  }
  if (server.startsWith('@')) return aggregatePost(server === AGGREGATE.name ? undefined : server.slice(1), message, res, deps, rc);
  const target = deps.reconciler.servers.get(server);
  if (target === undefined) return fail(res, 404, message.id, ErrorCode.InvalidRequest, `no server named "${server}" in the manifest`);
  const principal = rc.principal?.name ?? '';
  // A client may leave while its per-principal child starts (or a starting child is waited for): nothing
  // is opened or sent for it then.
  let left = false;
  res.once('close', () => (left = true));
  const binding = await deps.stateless.binding(target, principal);
  if (left || res.destroyed) return;
  if ('status' in binding) return fail(res, binding.status, message.id, ErrorCode.ServerUnavailable, binding.message);

  if (message.method === ModernMethod.Discover || message.method === ModernMethod.Listen) {
    // Both answer from what the child declared: a child still starting is waited for, as an initialize
    // of a 2025 client waits (bounded by requestTimeout); a stopped one is 503.
    const known = binding.initializeResult ?? (await childInitializeResult(binding.router));
    if (left || res.destroyed) return;
    if (typeof known === 'string') return fail(res, 503, message.id, ErrorCode.ServerUnavailable, known);
    if (message.method === ModernMethod.Discover) {
      return sendJson(res, 200, { jsonrpc: '2.0', id: message.id, result: discoverResult(known, binding.perCaller) });
    }
    const filter = honouredFilter(message.params?.notifications, known);
    if ('invalid' in filter) return fail(res, 400, message.id, ErrorCode.InvalidParams, `Invalid params: ${filter.invalid}`);
    if (!deps.stateless.mayListen(server, principal)) {
      return fail(res, 429, message.id, ErrorCode.ServerUnavailable, `Too Many Requests: this key has ${MAX_LISTEN_STREAMS} listen streams open on "${server}"; close one first`);
    }
    const stream = new SseStream(res, deps.sse, BASE_HEADERS);
    deps.stateless.listen((seq) => new ListenStream(server, rc.principal, message.id, filter, binding.router, stream, seq), binding);
    return;
  }
  return call(server, message, res, deps, rc, binding);
}

/**
 * The aggregate endpoint on the stateless path: discover and lists answered over every server the key may
 * use, a call routed by its name or URI to its server's child (where MRTR works as on that server's own
 * endpoint), a listen stream over every member.
 */
async function aggregatePost(bundle: string | undefined, message: JsonRpcRequest, res: ServerResponse, deps: ModernFaceDeps, rc: RequestContext): Promise<void> {
  const aggregate = deps.stateless.aggregate(rc.principal, bundle);
  const gateway = { name: 'mcp-gateway', version: deps.version };
  if (message.method === ModernMethod.Discover) {
    const capabilities = await aggregate.united();
    const result = { supportedVersions: ALL_PROTOCOL_VERSIONS, capabilities, instructions: aggregate.instructions() };
    return sendJson(res, 200, { jsonrpc: '2.0', id: message.id, result: toModernResult(message.method, result, gateway, true) });
  }
  if (message.method === ModernMethod.Listen) {
    const asked = listenFilter(message.params?.notifications);
    if ('invalid' in asked) return fail(res, 400, message.id, ErrorCode.InvalidParams, `Invalid params: ${asked.invalid}`);
    const endpoint = bundle === undefined ? '@' : `@${bundle}`;
    if (!deps.stateless.mayListen(endpoint, rc.principal?.name ?? '')) {
      return fail(res, 429, message.id, ErrorCode.ServerUnavailable, `Too Many Requests: this key has ${MAX_LISTEN_STREAMS} listen streams open on this endpoint; close one first`);
    }
    const stream = new SseStream(res, deps.sse, BASE_HEADERS);
    return deps.stateless.aggregateListen(new AggregateListen(rc.principal, bundle, message.id, asked, stream));
  }
  if (LISTS[message.method] !== undefined) {
    const { response } = await aggregate.request({ ...message, params: toChildParams(message.params) ?? {} }, {});
    if ('error' in response) return sendJson(res, modernErrorStatus(response.error.code), response);
    return sendJson(res, 200, { jsonrpc: '2.0', id: message.id, result: toModernResult(message.method, response.result, gateway, true) });
  }
  const here = await aggregate.answerHere({ ...message, params: toChildParams(message.params) ?? {} });
  if (here !== undefined) {
    const r = here.response;
    if ('error' in r) return sendJson(res, modernErrorStatus(r.error.code), r);
    return sendJson(res, 200, { jsonrpc: '2.0', id: message.id, result: toModernResult(message.method, r.result, gateway, true) });
  }
  const routed = await aggregate.route(message);
  if ('server' in routed) rc.routedTo = routed.server;
  if ('error' in routed) {
    return fail(res, modernErrorStatus(routed.code), message.id, routed.code, routed.error, routed.data);
  }
  const member = deps.reconciler.servers.get(routed.server);
  if (member === undefined) return fail(res, 200, message.id, ErrorCode.InvalidParams, `server "${routed.server}" is gone`);
  let left = false;
  res.once('close', () => (left = true));
  const binding = await deps.stateless.binding(member, rc.principal?.name ?? '');
  if (left || res.destroyed) return;
  if ('status' in binding) return fail(res, binding.status, message.id, ErrorCode.ServerUnavailable, binding.message);
  return call(routed.server, routed.message, res, deps, rc, binding);
}

/** A request for the child: a first round, or a retry that continues a parked call. */
function call(
  server: string,
  message: JsonRpcRequest,
  res: ServerResponse,
  deps: ModernFaceDeps,
  rc: RequestContext,
  binding: ModernBinding,
): void {
  const params = message.params;
  const inputResponses = params?.inputResponses;
  const requestState = params?.requestState;
  const mrtr = INPUT_REQUIRED_METHODS.has(message.method);
  if (inputResponses !== undefined && (!mrtr || !isObject(inputResponses))) {
    return fail(res, 400, message.id, ErrorCode.InvalidParams, mrtr ? 'Invalid params: inputResponses must be an object of results by key' : `Invalid params: ${message.method} takes no inputResponses`);
  }
  if (requestState !== undefined && !mrtr) return fail(res, 400, message.id, ErrorCode.InvalidParams, `Invalid params: ${message.method} takes no requestState`);
  // checkModernRequest has made sure _meta holds the capabilities object.
  const capabilities = new Set(Object.keys((params?._meta as Record<string, Record<string, unknown>>)[Meta.ClientCapabilities]!));
  const principal = rc.principal?.name ?? '';
  let digest: string;
  try {
    digest = callDigest(message.method, params);
  } catch {
    return fail(res, 400, message.id, ErrorCode.InvalidParams, 'Invalid params: nested too deeply to be handled');
  }
  const spec = deps.reconciler.servers.get(server)!.spec;
  const sink = new PostAnswer(res, deps.sse, BASE_HEADERS);

  if (requestState !== undefined) {
    const state = deps.stateless.signer.verify(requestState);
    if ('invalid' in state) return fail(res, 400, message.id, ErrorCode.InvalidParams, `Invalid params: ${state.invalid}`);
    const p = state.payload;
    if (p.server !== server || p.principal !== principal || p.digest !== digest) {
      return fail(res, 400, message.id, ErrorCode.InvalidParams, 'Invalid params: requestState belongs to another request (its server, caller or params differ)');
    }
    const parked = deps.stateless.call(p.handle);
    if (parked === undefined || !parked.resume(p.round, message.id, sink, params, capabilities, inputResponses as Record<string, unknown> | undefined)) {
      return fail(res, 400, message.id, ErrorCode.InvalidParams, 'Invalid params: the call this requestState continues is over or has moved on; send the request again without requestState');
    }
    res.once('close', () => parked.clientLeft(sink));
    return;
  }
  const c = deps.stateless.newCall(server, principal, message.method, digest, binding, spec.requestTimeoutMs);
  res.once('close', () => c.clientLeft(sink));
  c.start({ ...message, params: toChildParams(params) ?? {} }, sink, capabilities, inputResponses as Record<string, unknown> | undefined);
}
