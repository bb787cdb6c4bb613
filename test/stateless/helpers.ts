// Plain-HTTP helpers for the 2026-07-28 (stateless) tests: a manifest with the conformance fixture as shared
// and per-session servers behind two keys, well-formed 2026 requests over fetch, answers read as JSON or SSE.
// Nothing here calls into the gateway's own protocol code: what a request must carry is written out here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, authKeys, manifest, waitFor, type Harness, type Json } from '../helpers/gateway.ts';

export const V2026 = '2026-07-28';
export const CONFORMANCE = path.join(ROOT, 'examples', 'servers', 'conformance.js');
export const TAP = path.join(ROOT, 'test', 'stateless', 'fixtures', 'stdin-tap.mjs');

/** Key A may use server `a` only; key B every server. */
export const KEY_A = 'stateless-key-a-0123456789abcdef';
export const KEY_B = 'stateless-key-b-0123456789abcdef';

export const ACCEPT_BOTH = 'application/json, text/event-stream';

export interface ConformanceOptions {
  readonly sharing?: 'shared' | 'per-session';
  /** For a shared child: what the gateway declares to it. */
  readonly clientCapabilities?: readonly string[];
  /** e.g. "1500ms": also the MRTR round timeout. */
  readonly requestTimeout?: string;
  /** Run the child under the stdin tap, which copies what it hears to this file. */
  readonly tapLog?: string;
}

/** A servers-block entry (indented 2) for the conformance fixture. */
export function conformanceServer(name: string, o: ConformanceOptions = {}): string {
  const args = o.tapLog === undefined ? [CONFORMANCE] : [TAP, o.tapLog, CONFORMANCE];
  const lines = [`  ${name}:`, `    command: ${JSON.stringify(process.execPath)}`, `    args: ${JSON.stringify(args)}`];
  if (o.sharing !== undefined) lines.push(`    sharing: ${o.sharing}`);
  if (o.clientCapabilities !== undefined) lines.push(`    clientCapabilities: ${JSON.stringify(o.clientCapabilities)}`);
  if (o.requestTimeout !== undefined) lines.push(`    requestTimeout: ${o.requestTimeout}`);
  return `${lines.join('\n')}\n`;
}

/** A manifest with keys A (server a only) and B (every server), each with a rate limit tests never reach. */
export function keyedManifest(servers: string): string {
  const keys = authKeys([
    { name: 'key-a', key: KEY_A, servers: '[a]', unlimited: true },
    { name: 'key-b', key: KEY_B, servers: '*', unlimited: true },
  ]);
  return manifest(servers, keys);
}

/** Waits until every server in the manifest runs (the status API, with key B). */
export async function allRunning(h: Harness, names: readonly string[]): Promise<void> {
  await waitFor(async () => {
    const res = await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${KEY_B}` } });
    const body = (await res.json()) as Json;
    return names.every((n) => body.servers.some((s: Json) => s.name === n && s.state === 'running'));
  }, `${names.join(', ')} running`, 15_000);
}

/** The per-request `_meta` of a 2026 request. */
export function meta(capabilities: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': V2026,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'stateless-tests', version: '1.0.0' },
    ...extra,
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** Every JSON-RPC message of the answer (one for JSON, each SSE event's data for a stream). */
  readonly messages: Json[];
  /** The message with an id: the response. */
  readonly response: Json | undefined;
  readonly text: string;
}

/** SSE text → the data of each event (events with empty data, such as priming events, are left out). */
export function sseMessages(text: string): Json[] {
  const out: Json[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''));
    if (data.length === 0 || data.join('\n') === '') continue;
    out.push(JSON.parse(data.join('\n')));
  }
  return out;
}

export async function readAnswer(res: Response): Promise<Answer> {
  const text = await res.text();
  const streamed = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const messages: Json[] = text === '' ? [] : streamed ? sseMessages(text) : [JSON.parse(text)];
  return { status: res.status, headers: res.headers, messages, response: messages.find((m) => 'id' in m && ('result' in m || 'error' in m)), text };
}

export interface ModernOptions {
  readonly key?: string;
  readonly id?: string | number;
  readonly capabilities?: Record<string, unknown>;
  /** Replaces the whole `_meta`. */
  readonly meta?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

let nextId = 1;

/** The target a 2026 request names in Mcp-Name (params.name or params.uri), if its method has one. */
export function nameOf(method: string, params: Record<string, unknown>): string | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return params.name as string;
  if (method === 'resources/read') return params.uri as string;
  return undefined;
}

/** A well-formed 2026 request (headers mirrored from the body) with fetch. */
export async function modernFetch(h: Harness, server: string, method: string, params: Record<string, unknown>, o: ModernOptions = {}): Promise<Response> {
  const id = o.id ?? `r${nextId++}`;
  const name = nameOf(method, params);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: ACCEPT_BOTH,
    'mcp-protocol-version': V2026,
    'mcp-method': method,
    authorization: `Bearer ${o.key ?? KEY_B}`,
    ...(name === undefined ? {} : { 'mcp-name': name }),
    ...o.headers,
  };
  const body = { jsonrpc: '2.0', id, method, params: { ...params, _meta: o.meta ?? meta(o.capabilities) } };
  return fetch(`${h.url}/mcp/${server}/mcp`, { method: 'POST', headers, body: JSON.stringify(body), ...(o.signal ? { signal: o.signal } : {}) });
}

export async function modern(h: Harness, server: string, method: string, params: Record<string, unknown>, o: ModernOptions = {}): Promise<Answer> {
  return readAnswer(await modernFetch(h, server, method, params, o));
}

export const callParams = (name: string, args: Record<string, unknown> = {}, more: Record<string, unknown> = {}): Record<string, unknown> => ({ name, arguments: args, ...more });

/** The text of a tools/call result. */
export function textOf(result: Json): string {
  return ((result?.content ?? []) as Json[]).map((c) => c.text ?? '').join('');
}

/** The lines of JSON the child heard (the stdin tap's file). */
export function heard(file: string): Json[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Json);
}
