// Review probe: odd 2026 bodies and headers. Each must get a 4xx JSON-RPC error echoing the id it had
// (never a 500, never a hang), and the gateway must stay up.
import { afterEach, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, running, startHarness } from '../helpers/gateway.ts';
import { MODERN, headers26, meta, read } from './process-helpers.ts';

afterEach(closeAll);

const DEEP = '"__DEEP__"';
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

interface Case {
  readonly what: string;
  readonly body: string;
  readonly headers?: Record<string, string>;
  readonly method?: string;
  readonly name?: string;
}

const tc = (params: unknown, id: unknown = 7) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
const good = { name: 'echo', arguments: { text: 'x' }, _meta: meta({}) };

const CASES: Case[] = [
  { what: 'deep arguments', body: tc({ ...good, arguments: '__DEEP__' }).replace(DEEP, deep(20_000)), name: 'echo' },
  { what: 'inputResponses string', body: tc({ ...good, inputResponses: 'x' }), name: 'echo' },
  { what: 'inputResponses null', body: tc({ ...good, inputResponses: null }), name: 'echo' },
  { what: 'requestState number', body: tc({ ...good, requestState: 5 }), name: 'echo' },
  { what: 'requestState object', body: tc({ ...good, requestState: { a: 1 } }), name: 'echo' },
  { what: 'requestState dots', body: tc({ ...good, requestState: '...' }), name: 'echo' },
  { what: 'requestState huge', body: tc({ ...good, requestState: 'a'.repeat(1_000_000) }), name: 'echo' },
  { what: '_meta array', body: tc({ ...good, _meta: [] }), name: 'echo' },
  { what: 'caps array', body: tc({ ...good, _meta: { ...meta(), 'io.modelcontextprotocol/clientCapabilities': [] } }), name: 'echo' },
  { what: 'logLevel number', body: tc({ ...good, _meta: { ...meta(), 'io.modelcontextprotocol/logLevel': 3 } }), name: 'echo' },
  { what: 'name number', body: tc({ ...good, name: 5 }), name: '5' },
  { what: 'id object', body: tc(good, { a: 1 }), name: 'echo' },
  { what: 'id float', body: tc(good, 1.5), name: 'echo' },
  { what: 'method toString', body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'toString', params: { _meta: meta() } }), method: 'toString' },
  { what: 'method constructor', body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'constructor', params: { _meta: meta() } }), method: 'constructor' },
  { what: 'listen notifications array', body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'subscriptions/listen', params: { notifications: [], _meta: meta() } }), method: 'subscriptions/listen' },
  { what: 'listen uris not strings', body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'subscriptions/listen', params: { notifications: { resourceSubscriptions: [1] }, _meta: meta() } }), method: 'subscriptions/listen' },
  { what: 'huge mcp-name', body: tc(good), name: 'x'.repeat(15_000) },
  { what: 'duplicate version header', body: tc(good), name: 'echo', headers: { 'mcp-protocol-version': `${MODERN}, ${MODERN}` } },
  { what: 'base64 mcp-name bad', body: tc(good), name: '=?base64?***?=' },
  { what: 'response body', body: JSON.stringify({ jsonrpc: '2.0', id: 7, result: {} }) },
];

it('odd bodies: 4xx, the id echoed, no 500, the gateway up', async () => {
  const h = await startHarness(manifest(demoServer('demo')));
  await running(h.url, 'demo');
  const rows: string[] = [];
  const bad: string[] = [];
  for (const c of CASES) {
    const method = c.method ?? 'tools/call';
    const res = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: { ...headers26(method, c.name), ...(c.headers ?? {}) }, body: c.body }).then(read, (e: Error) => ({ status: -1, contentType: '', messages: [e.message] }));
    const m = res.messages[0];
    const line = `${c.what}: ${res.status} ${JSON.stringify(m?.error ?? m?.result ?? m).slice(0, 140)} id=${JSON.stringify(m?.id)}`;
    rows.push(line);
    if (res.status >= 500 || res.status < 0) bad.push(line);
  }
  console.log(rows.join('\n'));
  expect(bad).toEqual([]);
  expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
});
