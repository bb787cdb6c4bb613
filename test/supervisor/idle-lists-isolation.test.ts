// Idle lists against a caller with a key for server `a` only: idle on-demand servers `a` and `b` (b lists a
// tool only it has). Nothing of b reaches the key by any path; kept lists answer only real first-page
// requests, under their own ids; concurrent and reload races. Real gateway, real children, raw HTTP where
// fetch would normalize the request.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { authKeys, closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { body26, headers26 } from '../stateless/process-helpers.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lists-server.cjs');
const KA = 'idle-iso-key-a-0123456789abcdef0';
const KADM = 'idle-iso-key-admin-0123456789abc';
/** The description of b's extra tool: in no answer to a key for a (an error may echo the name asked). */
const B_ONLY = 'A tool only this version has';
const OD = '    start: on-demand\n    idleStop: 300ms\n';

afterEach(async () => {
  await closeAll();
});

const spawnsOf = (h: Harness, server: string): number =>
  h.logs.filter((l) => l.includes('child spawned') && JSON.parse(l).server === server).length;

async function stateOf(h: Harness, name: string): Promise<string> {
  const res = await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${KADM}` } });
  return ((await res.json()) as Json).servers.find((s: Json) => s.name === name).state;
}

async function cmd(h: Harness, server: string, key: string, body: unknown): Promise<{ status: number; body: Json; text: string }> {
  const res = await fetch(`${h.url}/mcp/${server}/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Json;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: res.status, body: parsed, text };
}

async function twoIdle(): Promise<Harness> {
  const head = authKeys([
    { name: 'ka', key: KA, servers: '[a]', unlimited: true },
    { name: 'adm', key: KADM, servers: '*', admin: true, unlimited: true },
  ]) + 'endpoints:\n  both: { servers: [a, b] }\n  onlyb: { servers: [b] }\n';
  const h = await startHarness(manifest(demoServer('a', OD) + demoServer('b', `${OD}    env: { DEMO_EXTRA_TOOL: secret_b }\n`), head));
  // The admin lists both once: each child starts, answers, goes idle with its lists kept.
  expect((await cmd(h, 'a', KADM, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(200);
  const b = await cmd(h, 'b', KADM, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
  expect(JSON.stringify(b.body)).toContain('secret_b');
  await waitFor(async () => (await stateOf(h, 'a')) === 'idle' && (await stateOf(h, 'b')) === 'idle', 'both idle', 8000);
  return h;
}

it('a key for a reads nothing of idle b and wakes nothing of b, by any path (raw targets, bundles, aggregate, legacy, 2026)', async () => {
  const h = await twoIdle();
  const bBefore = spawnsOf(h, 'b');
  const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  const call = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'p', version: '0' } } });
  const auth = `Authorization: Bearer ${KA}`;
  const json = 'Content-Type: application/json\r\nAccept: application/json, text/event-stream';
  const targets = ['/mcp/b/command', '/mcp/%62/command', '/mcp/B/command', '/mcp/a/../b/command', '/mcp/a/%2e%2e/b/command', '/mcp//b/command',
    '/mcp/b%2fcommand', '/mcp/b/command/', '/mcp/b/command?x=1', '/mcp/b/mcp', '/mcp/%62/mcp', '/mcp/b/sse', '/mcp/b/legacy/message?sessionId=x',
    '/mcp/@onlyb', '/mcp/@both', '/mcp/@ONLYB', '/mcp/%40onlyb', '/message/@onlyb', `http://127.0.0.1/mcp/b/command`, '/mcp/b/../a/command', '/mcp/./b/command'];
  const seen: string[] = [];
  for (const t of targets) {
    for (const body of [list, call('secret_b'), init]) {
      const r = await rawRequest(h.url, `POST ${t} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}\r\n${json}`, body);
      seen.push(`${t} ${r.status}`);
      expect(r.body, `${t} ${body}`).not.toContain(B_ONLY);
      // @both is a's too (it shows a only); b/../a may be normalized to a: their results are a's.
      if (t !== '/mcp/@both' && t !== '/mcp/b/../a/command') expect(r.body, `${t} ${body}`).not.toMatch(/"result"/);
    }
  }
  // 2026 stateless: per-server b, the aggregate, a bundle; Mcp-Name naming b's tool.
  for (const [p, method, params, name] of [
    ['/mcp/b/mcp', 'tools/list', {}, undefined],
    ['/mcp', 'tools/list', {}, undefined],
    ['/mcp', 'tools/call', { name: 'b__secret_b', arguments: {} }, 'b__secret_b'],
    ['/mcp', 'tools/call', { name: 'secret_b', arguments: {} }, 'secret_b'],
    ['/mcp/@both', 'tools/list', {}, undefined],
    ['/mcp/@both', 'tools/call', { name: 'b__echo', arguments: { text: 'x' } }, 'b__echo'],
    ['/mcp/a/mcp', 'tools/call', { name: 'secret_b', arguments: {} }, 'secret_b'],
  ] as const) {
    const res = await fetch(`${h.url}${p}`, { method: 'POST', headers: headers26(method, name, KA), body: JSON.stringify(body26(3, method, params as Json)) });
    const text = await res.text();
    seen.push(`2026 ${p} ${method} ${res.status}`);
    expect(text, `${p} ${method}`).not.toContain(B_ONLY);
    if (p !== '/mcp' || method !== 'tools/list') if (p !== '/mcp/@both' || method !== 'tools/list') expect(text, `${p} ${method}`).not.toMatch(/"content"/);
  }
  // 2025 aggregate session: list, then call b's tools by every name form.
  const r = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${KA}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: init });
  const sid = r.headers.get('mcp-session-id')!;
  await r.text();
  const s = (body: string) => fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${KA}`, 'content-type': 'application/json', accept: 'application/json', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, body }).then((x) => x.text());
  for (const b of [list, call('b__secret_b'), call('secret_b'), call('b__echo'), JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'resources/read', params: { uri: 'demo://notes/hello' } })]) {
    const text = await s(b);
    expect(text).not.toContain(B_ONLY);
    if (!b.includes('tools/list') && !b.includes('resources/read')) expect(text).not.toMatch(/"content"/);
  }
  expect(spawnsOf(h, 'b'), seen.join('\n')).toBe(bBefore);
  expect(await stateOf(h, 'b')).toBe('idle');
});

it('an idle server answers a list from its cache under the request\'s own id, of every type, and nothing else from it', async () => {
  const h = await twoIdle();
  const aBefore = spawnsOf(h, 'a');
  for (const id of [0, -1, 1.5, '', 'x', '0', 2 ** 53 + 2, 'a'.repeat(1000)]) {
    const r = await cmd(h, 'a', KA, { jsonrpc: '2.0', id, method: 'tools/list' });
    expect(r.body.id).toStrictEqual(id);
    expect(r.body.result.tools.length).toBeGreaterThan(0);
  }
  // Raw ids JSON itself may carry: an exponent, a huge integer.
  for (const raw of ['1e2', '-0', '1E400', '123456789012345678901234567890']) {
    const r = await cmd(h, 'a', KA, `{"jsonrpc":"2.0","id":${raw},"method":"tools/list"}`);
    expect([200, 400]).toContain(r.status);
    if (r.status === 200) expect(r.body.id).toStrictEqual(JSON.parse(JSON.stringify(JSON.parse(raw))));
  }
  // Not answered from the cache: bad ids, batches, odd params (must not be the kept list under some other id).
  for (const body of [
    '{"jsonrpc":"2.0","id":null,"method":"tools/list"}',
    '{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}',
    '{"jsonrpc":"2.0","id":[1],"method":"tools/list"}',
    '{"jsonrpc":"2.0","id":true,"method":"tools/list"}',
    '[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]',
    '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[]}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":null}',
    '{"jsonrpc":"1.0","id":1,"method":"tools/list"}',
    '{"id":1,"method":"tools/list"}',
  ]) {
    const r = await cmd(h, 'a', KA, body);
    expect(r.status, body).toBe(400);
    expect(r.text, body).not.toContain('"tools"');
  }
  expect(spawnsOf(h, 'a')).toBe(aBefore);
  // A notification named like a list: no process, no hang.
  const n = await cmd(h, 'a', KA, { jsonrpc: '2.0', method: 'tools/list' });
  expect(n.status).toBeLessThan(600);
  // Variants that are not the first page: they go to a child, and come back under their own id.
  for (const [id, params] of [[11, { cursor: null }], [12, { cursor: '' }], [13, { cursor: 0 }]] as const) {
    const r = await cmd(h, 'a', KA, { jsonrpc: '2.0', id, method: 'tools/list', params });
    expect(r.body.id).toBe(id);
  }
});

it('a list asked by many clients at once while the idle stop reads slow lists: each answer has its own id, none hangs', async () => {
  const od = '    start: on-demand\n    idleStop: 200ms\n    env: { LIST_DELAY_MS: "400" }\n';
  const h = await startHarness(manifest(`  s:\n    command: node\n    args: [${JSON.stringify(FIXTURE)}]\n${od}`));
  await fetch(`${h.url}/mcp/s/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) }).then((r) => r.text());
  await waitFor(async () => h.logs.some((l) => l.includes('idle: stopping the unused child')), 'idle stop under way', 5000);
  const asks = Array.from({ length: 40 }, (_, i) => {
    const method = i % 4 === 0 ? 'tools/call' : 'tools/list';
    const params = i % 4 === 0 ? { name: 'base', arguments: {} } : i % 4 === 1 ? { cursor: 'c' } : {};
    return fetch(`${h.url}/mcp/s/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: `q${i}`, method, params }), signal: AbortSignal.timeout(8000) })
      .then((r) => r.json() as Promise<Json>).then((b) => ({ i, b }));
  });
  for (const { i, b } of await Promise.all(asks)) {
    expect(b.id).toBe(`q${i}`);
    if (i % 4 === 0) expect(b.result?.content?.[0]?.text).toMatch(/^called base /);
  }
});

it('a reload that changes the process while the idle stop reads the lists: later lists are the new process\'s', async () => {
  const spec = (extra: string) => manifest(`  s:\n    command: node\n    args: [${JSON.stringify(FIXTURE)}]\n    start: on-demand\n    idleStop: 200ms\n    env: { LIST_DELAY_MS: "600"${extra} }\n`);
  const h = await startHarness(spec(''));
  const list = async (): Promise<string[]> => {
    const r = await fetch(`${h.url}/mcp/s/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), signal: AbortSignal.timeout(8000) });
    return ((await r.json()) as Json).result.tools.map((t: Json) => t.name);
  };
  expect(await list()).toEqual(['base']);
  await waitFor(async () => h.logs.some((l) => l.includes('idle: stopping the unused child')), 'idle stop under way', 5000);
  h.write(spec(', EXTRA_TOOL: fresh'));
  expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
  // Whatever state it settles in (running the new child, or idle again), the list is the new one.
  await new Promise((r) => setTimeout(r, 1500));
  expect(await list()).toContain('fresh');
  await waitFor(async () => (await fetch(`${h.url}/mcp/servers`).then((r) => r.json()) as Json).servers[0].state === 'idle', 'idle again', 8000);
  expect(await list()).toContain('fresh');
});
