// Probes of the 2026 stateless path (review): raw 2026 POSTs with fetch, and a few manifests.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ROOT, DEMO, authKeys, manifest, waitFor, type Harness } from '../helpers/gateway.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';
import { CONFORMANCE, V2026 as MODERN, sseMessages } from './helpers.ts';

export { CONFORMANCE, MODERN };

/** The late-ask fixture (a 2025 server that asks late, counts its calls, traces what it hears). */
export const LATE = path.join(ROOT, 'test', 'stateless', 'fixtures', 'late-ask.js');

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
  const messages = contentType.startsWith('text/event-stream') ? sseMessages(text) : text === '' ? [] : [JSON.parse(text)];
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

/**
 * The late-ask fixture as server `late` (with `extra` lines, indented 4) behind two keys: alice (KEY_A, late
 * only; left out when `withA` is false, as a reload that revokes her) and bob (KEY_B, admin, every server).
 */
export function lateBehindKeys(withA: boolean, extra: string): string {
  const keys = authKeys([...(withA ? [{ name: 'alice', key: KEY_A, servers: '[late]' }] : []), { name: 'bob', key: KEY_B, servers: '*', admin: true }]);
  return manifest(server('late', LATE, extra), keys);
}

/** Writes `yaml` as the harness's manifest and reloads it; the reload must succeed. */
export async function reloadWith(h: Harness, yaml: string): Promise<void> {
  h.write(yaml);
  expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
}

/**
 * A gateway in a process of its own (bin/, from source) with the demo server only, its manifest in `dir`;
 * resolves once the demo runs. A gateway whose demo never runs is stopped before the error is thrown.
 */
export async function spawnDemoGateway(dir: string): Promise<GatewayProcess> {
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n  demo:\n    command: node\n    args: ${JSON.stringify([DEMO])}\n`);
  const gw = await spawnGateway(['--config', file], { MCP_GATEWAY_FROM_SOURCE: '1' });
  try {
    await waitFor(async () => {
      const r = await fetch(`${gw.url}/mcp/servers`).then((r) => r.json() as Promise<{ servers: { name: string; state: string }[] }>);
      return r.servers.find((s) => s.name === 'demo' && s.state === 'running');
    }, 'demo running', 15_000);
  } catch (e) {
    await gw.stop();
    throw e;
  }
  return gw;
}

export { DEMO };
