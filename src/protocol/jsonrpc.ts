// JSON-RPC 2.0 and MCP names, named once. Wire error codes (what peers see) are kept apart from the
// gateway's own failure kinds (GatewayErrorKind), which faces map to HTTP statuses.

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcResult {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
}

export interface JsonRpcError {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcResult | JsonRpcError;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard JSON-RPC codes, and the MCP SDK's codes for a closed connection and a timeout. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ConnectionClosed: -32000,
  /** Implementation-defined server error: what the SDK answers for transport-level refusals. */
  TransportError: -32000,
  /** The SDK's answer for an unknown session. */
  SessionNotFound: -32001,
  RequestTimeout: -32001,
  /** LSP's code for a request its caller cancelled; used when a client goes away mid-request. */
  RequestCancelled: -32800,
  /** The gateway's own: the server is not running (stopped, failed, backing off). */
  ServerUnavailable: -32010,
} as const;

export const Method = {
  Initialize: 'initialize',
  Initialized: 'notifications/initialized',
  Ping: 'ping',
  Cancelled: 'notifications/cancelled',
  Progress: 'notifications/progress',
} as const;

export const LATEST_PROTOCOL_VERSION = '2025-11-25';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isValidId(id: unknown): id is JsonRpcId {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

export function isRequest(m: JsonRpcMessage): m is JsonRpcRequest {
  return 'method' in m && 'id' in m && m.id !== undefined;
}

export function isResponse(m: JsonRpcMessage): m is JsonRpcResponse {
  return !('method' in m) && ('result' in m || 'error' in m);
}

/** Checks the shape of one parsed JSON value; returns a reason when it is not a JSON-RPC 2.0 message. */
export function checkMessage(v: unknown): { message: JsonRpcMessage } | { reason: string } {
  if (!isObject(v)) return { reason: 'a JSON-RPC message must be a JSON object' };
  if (v.jsonrpc !== '2.0') return { reason: 'jsonrpc must be "2.0"' };
  if ('method' in v) {
    if (typeof v.method !== 'string') return { reason: 'method must be a string' };
    if (v.params !== undefined && !isObject(v.params)) return { reason: 'params must be an object' };
    if ('id' in v && v.id !== undefined && !isValidId(v.id)) return { reason: 'id must be a string or a number' };
    // Both a request and a response: which one it is cannot be told, so it is neither.
    if ('result' in v || 'error' in v) return { reason: 'a request or notification has no result or error' };
    return { message: v as unknown as JsonRpcMessage };
  }
  if ('result' in v || 'error' in v) {
    if (v.id !== null && !isValidId(v.id)) return { reason: 'id must be a string or a number' };
    return { message: v as unknown as JsonRpcMessage };
  }
  return { reason: 'not a request, notification or response' };
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcError {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

/** MCP HTTP header names (lower case, as Node presents them). */
export const Header = {
  SessionId: 'mcp-session-id',
  ProtocolVersion: 'mcp-protocol-version',
  LastEventId: 'last-event-id',
} as const;

/** Protocol revisions the gateway speaks on its HTTP faces, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/** The revision assumed when a client sends no MCP-Protocol-Version header (as the spec says). */
export const DEFAULT_HTTP_PROTOCOL_VERSION = '2025-03-26';

/** Server-to-client requests and the client capability each one needs. */
export const CAPABILITY_OF_METHOD: Readonly<Record<string, 'sampling' | 'elicitation' | 'roots'>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** The lists a server may declare (by capability), the method that reads each, and the notification that says it changed. */
export const LISTS = [
  { capability: 'tools', method: 'tools/list', changed: 'notifications/tools/list_changed' },
  { capability: 'prompts', method: 'prompts/list', changed: 'notifications/prompts/list_changed' },
  { capability: 'resources', method: 'resources/list', changed: 'notifications/resources/list_changed' },
] as const;

export const ResourceMethod = {
  Subscribe: 'resources/subscribe',
  Unsubscribe: 'resources/unsubscribe',
  Updated: 'notifications/resources/updated',
} as const;
