// A 2025 aggregate session opened with a token follows its subject's newest token, under the grants the
// manifest gives now: a request admitted before a reload (its principal made by the old grants) does not
// widen the session again when its body arrives after it, nor does an older, wider token of the subject.
import http from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { closeAll, manifest, type Harness, type Json } from '../helpers/gateway.ts';
import { closeAuthServers } from '../helpers/oidc.ts';
import { gatewayTrusting, oauthYaml, SERVERS_AB } from '../auth/oauth-setup.ts';

afterEach(async () => {
  await closeAll();
  await closeAuthServers();
});

const GRANTS = ['{ claim: scope, value: "mcp:a", servers: [a] }', '{ claim: scope, value: "mcp:b", servers: [b] }'];

function lastMessage(text: string): Json {
  const data = text.split('\n').filter((l) => l.startsWith('data: {'));
  return JSON.parse(data.length > 0 ? data.at(-1)!.slice(6) : text);
}

async function post(h: Harness, token: string, body: unknown, session?: string): Promise<{ status: number; body: Json; session: string | null }> {
  const res = await fetch(`${h.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18', ...(session === undefined ? {} : { 'mcp-session-id': session }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: lastMessage(await res.text()), session: res.headers.get('mcp-session-id') };
}

/** A POST whose headers go now and whose body is finished by `finish()` (a slow upload). */
function slowPost(h: Harness, token: string, body: unknown, session: string): { finish(): Promise<Json> } {
  const text = JSON.stringify(body);
  const u = new URL(`${h.url}/mcp`);
  let resolve!: (v: Json) => void;
  const done = new Promise<Json>((r) => (resolve = r));
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18', 'mcp-session-id': session, 'content-length': Buffer.byteLength(text) } }, (res) => {
    let s = '';
    res.on('data', (c) => (s += c));
    res.on('end', () => resolve(lastMessage(s)));
  });
  req.write(text.slice(0, 10));
  return {
    finish() {
      req.end(text.slice(10));
      return done;
    },
  };
}

it('a request admitted before a reload that narrows the grants does not re-widen the aggregate session when it arrives', async () => {
  const { h, as } = await gatewayTrusting({ grants: GRANTS, scopes: ['mcp:a', 'mcp:b'], skew: '1s' });
  const token = await as.token({ resource: `${h.url}/mcp`, scope: 'mcp:a mcp:b' });
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
  const opened = await post(h, token, init);
  const session = opened.session!;
  const callB = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'b__echo', arguments: { text: 'b' } } });
  expect((await post(h, token, callB(2), session)).body.result.content[0].text).toBe('b');

  const slow = slowPost(h, token, callB(3), session); // admitted now, under the grants that give b
  await new Promise((r) => setTimeout(r, 300));
  h.write(manifest(SERVERS_AB, oauthYaml(as.issuer, [GRANTS[0]!], '1s'))); // b's grant taken away
  expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
  // The same token now: b is gone from the session.
  expect((await post(h, token, callB(4), session)).body.error?.message).toMatch(/names no tool/);

  const late = await slow.finish();
  expect(JSON.stringify(late)).toMatch(/names no tool/);
  expect((await post(h, token, callB(5), session)).body.error?.message).toMatch(/names no tool/);
});

it('an older token of the subject, wider than the newest, does not take the session back to its view', async () => {
  const { h, as } = await gatewayTrusting({ grants: GRANTS, scopes: ['mcp:a', 'mcp:b'], skew: '1s' });
  const wide = await as.token({ resource: `${h.url}/mcp`, scope: 'mcp:a mcp:b' });
  await new Promise((r) => setTimeout(r, 1100)); // exp has whole seconds: the next token expires later
  const narrow = await as.token({ resource: `${h.url}/mcp`, scope: 'mcp:a' });
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
  const session = (await post(h, wide, init)).session!;
  const callB = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'b__echo', arguments: { text: 'b' } } });
  expect((await post(h, wide, callB(2), session)).body.result.content[0].text).toBe('b');
  expect((await post(h, narrow, callB(3), session)).body.error?.message).toMatch(/names no tool/);
  expect((await post(h, wide, callB(4), session)).body.error?.message).toMatch(/names no tool/);
});
