// What a token keeps once it has expired, and what the metadata tells a caller with nothing.
import { afterEach, expect, it } from 'vitest';
import { closeAll } from '../helpers/gateway.ts';
import { closeAuthServers } from '../helpers/oidc.ts';
import { gatewayTrusting, KEY } from './oauth-setup.ts';

afterEach(async () => {
  await closeAll();
  await closeAuthServers();
});

const setup = () => gatewayTrusting({ scopes: ['mcp:a'], skew: '1s', grants: ['{ claim: scope, value: "mcp:a", servers: [a] }', '{ claim: groups, value: ops, servers: [a], admin: true }'] });

it('the classic stream (everything server a says, admin only) ends when the token that opened it expires', async () => {
  const { h, as } = await setup();
  const token = await as.token({ resource: `${h.url}/mcp/a/mcp`, claims: { groups: ['ops'] }, ttlSeconds: 1 });
  const ac = new AbortController();
  const res = await fetch(`${h.url}/mcp/a/sse`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await new Promise((r) => setTimeout(r, 2600)); // 1 s of life, 1 s of skew
  // The token is refused everywhere now…
  expect((await fetch(`${h.url}/mcp/a/stderr`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  // …while the stream it opened still carries another caller's traffic.
  const marker = 'secret-payload-of-another-caller';
  await fetch(`${h.url}/mcp/a/command`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: marker } } }) });
  let seen = '';
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline && !seen.includes(marker)) {
    // The stream ending (the gateway cut it) reads as done.
    const r = await Promise.race([reader.read().catch(() => ({ done: true as const, value: undefined })), new Promise<undefined>((res) => setTimeout(() => res(undefined), 200))]);
    if (r === undefined) continue;
    if (r.done) break;
    seen += new TextDecoder().decode(r.value);
  }
  ac.abort();
  expect.soft(seen.includes(marker), 'an expired token still reads the server\'s traffic').toBe(false);
});

it('the metadata is no oracle of server names for a caller with nothing', async () => {
  const { h } = await setup();
  const existing = await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/b/mcp`);
  const missing = await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/nope/mcp`);
  // Without credentials, POST /mcp/b/mcp and /mcp/nope/mcp are both 401: the metadata should not tell them apart either.
  expect.soft(existing.status, 'server names can be enumerated through the metadata').toBe(missing.status);
});
