// Helpers of the aggregate review probes (test/aggregate/review-*.test.ts): a keyed manifest, raw 2025
// session requests on /mcp, a 2026 listen stream read as it comes, and child fixtures whose lists come
// from files (so a test can change what a child lists, or make it restart with other lists).
import { authKeys, manifest, type Harness, type Json } from '../helpers/gateway.ts';
import { sseMessages } from '../stateless/helpers.ts';
import { V2026, meta } from '../stateless/helpers.ts';

/** Every server, admin. */
export const ALL = 'aggregate-review-key-for-everything';
/** The servers the test's manifest gives it. */
export const SCOPED = 'aggregate-review-key-scoped';

/** A manifest with keys `all` (every server, admin) and `scoped` (`scoped`, YAML), unlimited rates. */
export function keyed(servers: string, scoped: string, head = ''): string {
  const keys = authKeys([
    { name: 'all', key: ALL, servers: '*', admin: true, unlimited: true },
    { name: 'scoped', key: SCOPED, servers: scoped, unlimited: true },
  ]);
  return manifest(servers, keys + head);
}

export const bearer = (key: string | undefined): Record<string, string> => (key === undefined ? {} : { authorization: `Bearer ${key}` });

/** A 2025 request on an aggregate path (a session's when `session` is given); the answer's JSON-RPC message and headers. */
export async function post25(h: Harness, path: string, key: string | undefined, body: Json, session?: string): Promise<{ status: number; session: string | null; message: Json }> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...bearer(key),
      ...(session === undefined ? {} : { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const streamed = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const messages = text === '' ? [] : streamed ? sseMessages(text) : [JSON.parse(text)];
  return { status: res.status, session: res.headers.get('mcp-session-id'), message: messages.find((m: Json) => 'id' in m) };
}

export const init25 = (id: number | string = 1): Json => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'review', version: '1' } } });

/** Opens a 2025 session on `path` (initialize + initialized); its id. */
export async function session25(h: Harness, path: string, key: string | undefined): Promise<string> {
  const r = await post25(h, path, key, init25());
  if (r.session === null) throw new Error(`initialize failed: ${r.status} ${JSON.stringify(r.message)}`);
  await post25(h, path, key, { jsonrpc: '2.0', method: 'notifications/initialized' }, r.session);
  return r.session;
}

/** A 2026 subscriptions/listen stream on `path`, its messages collected as they come. */
export interface OpenListen {
  readonly messages: Json[];
  readonly status: number;
  close(): void;
}

export async function listen26(h: Harness, path: string, key: string | undefined, notifications: Record<string, unknown>, id: string | number = 'listen-1'): Promise<OpenListen> {
  const abort = new AbortController();
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V2026, 'mcp-method': 'subscriptions/listen', ...bearer(key) },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications, _meta: meta() } }),
    signal: abort.signal,
  });
  const messages: Json[] = [];
  if (res.body !== null) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffered = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(chunk, { stream: true });
          const cut = buffered.lastIndexOf('\n\n');
          if (cut === -1) continue;
          messages.push(...sseMessages(buffered.slice(0, cut + 2)));
          buffered = buffered.slice(cut + 2);
        }
      } catch {
        // aborted
      }
    })();
  }
  return { messages, status: res.status, close: () => abort.abort() };
}

/** A 2026 request on any path (headers mirrored from the body); status and the response message. */
export async function post26(h: Harness, path: string, key: string | undefined, method: string, params: Record<string, unknown>, id: string | number = 'r1', capabilities: Record<string, unknown> = {}): Promise<{ status: number; message: Json }> {
  const named = method === 'tools/call' || method === 'prompts/get' ? params.name : method === 'resources/read' ? params.uri : undefined;
  const name = typeof named === 'string' ? named : named === undefined ? undefined : JSON.stringify(named);
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': V2026,
      'mcp-method': method,
      ...(name === undefined ? {} : { 'mcp-name': name }),
      ...bearer(key),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta(capabilities) } }),
  });
  const text = await res.text();
  const streamed = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const messages = text === '' ? [] : streamed ? sseMessages(text) : [JSON.parse(text)];
  return { status: res.status, message: messages.find((m: Json) => 'id' in m) };
}

/**
 * A stdio MCP child whose tools (and resources) are read from a JSON file on every list:
 * `node lists.mjs <file> <label>`; the file is `{ "tools": [names], "resources": [uris] }`. Every tool
 * answers `<label>:<tool>`; the tool `crash` exits (the gateway restarts a shared child).
 */
export const LISTS_CHILD = `
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
const [file, label] = process.argv.slice(2);
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const read = () => JSON.parse(readFileSync(file, 'utf8'));
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined || m.method === undefined) return;
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: { listChanged: true }, resources: {} }, serverInfo: { name: label, version: '1' } } });
  if (m.method === 'tools/list') return send({ jsonrpc: '2.0', id: m.id, result: { tools: [...read().tools, 'crash'].map((name) => ({ name, inputSchema: { type: 'object' } })) } });
  if (m.method === 'resources/list') return send({ jsonrpc: '2.0', id: m.id, result: { resources: (read().resources ?? []).map((uri) => ({ uri, name: uri })) } });
  if (m.method === 'resources/read') return send({ jsonrpc: '2.0', id: m.id, result: { contents: [{ uri: m.params.uri, text: label + ':' + m.params.uri }] } });
  if (m.method === 'tools/call') {
    if (m.params.name === 'crash') process.exit(3);
    if (!read().tools.includes(m.params.name)) return send({ jsonrpc: '2.0', id: m.id, error: { code: -32602, message: label + ' has no tool ' + m.params.name } });
    return send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: label + ':' + m.params.name }] } });
  }
  if (m.method === 'ping') return send({ jsonrpc: '2.0', id: m.id, result: {} });
  send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found: ' + m.method } });
});
lines.on('close', () => process.exit(0));
`;

/** A servers entry for LISTS_CHILD under `name` reading `<name>.json` in the manifest's folder. */
export function listsServer(name: string, extra = ''): string {
  return `  ${name}:\n    command: ${JSON.stringify(process.execPath)}\n    args: ["lists.mjs", "${name}.json", "${name}"]\n${extra}`;
}
