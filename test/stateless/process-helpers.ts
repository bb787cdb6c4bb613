// Probes of the 2026 stateless path (review): raw 2026 POSTs with fetch, and a few manifests.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ROOT, DEMO } from '../helpers/gateway.ts';

export const MODERN = '2026-07-28';
export const CONFORMANCE = path.join(ROOT, 'examples', 'servers', 'conformance.js');
export const sha = (k: string): string => createHash('sha256').update(k).digest('hex');

export const KEY_A = 'key-a-0123456789abcdef0123';
export const KEY_B = 'key-b-0123456789abcdef0123';

export function meta(caps: Record<string, object> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': caps,
    'io.modelcontextprotocol/clientInfo': { name: 'review', version: '0' },
  };
}

export function body26(id: number | string, method: string, params: Record<string, unknown> = {}, caps: Record<string, object> = {}): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...meta(caps), ...((params._meta as object) ?? {}) } } };
}

export function headers26(method: string, name?: string, key?: string): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
  };
  if (name !== undefined) h['mcp-name'] = name;
  if (key !== undefined) h.authorization = `Bearer ${key}`;
  return h;
}

export interface Answer {
  status: number;
  contentType: string;
  /** The JSON-RPC messages of the answer (the lone JSON, or every SSE data line that is JSON). */
  messages: any[];
}

export async function read(res: Response): Promise<Answer> {
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const messages = contentType.startsWith('text/event-stream')
    ? text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).map((l) => JSON.parse(l.slice(6)))
    : text === '' ? [] : [JSON.parse(text)];
  return { status: res.status, contentType, messages };
}

/** One 2026 POST; `name` goes to Mcp-Name for tools/call etc. */
export async function post26(url: string, server: string, body: Record<string, unknown>, opts: { key?: string; name?: string; signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Answer> {
  const method = String(body.method);
  const params = (body.params ?? {}) as Record<string, unknown>;
  const name = opts.name ?? (typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined);
  const res = await fetch(`${url}/mcp/${server}/mcp`, {
    method: 'POST',
    headers: { ...headers26(method, name, opts.key), ...(opts.headers ?? {}) },
    body: JSON.stringify(body),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return read(res);
}

export const last = (a: Answer): any => a.messages[a.messages.length - 1];

export function server(name: string, script: string, extra = ''): string {
  return `  ${name}:\n    command: node\n    args: ${JSON.stringify([script])}\n${extra}`;
}

export { DEMO };
