// Audience binding against other spellings of a route, with a real provider.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, type Harness, type Json } from '../helpers/gateway.ts';
import { closeAuthServers } from '../helpers/oidc.ts';
import { gatewayTrusting, KEY } from './oauth-setup.ts';
import { rawRequest } from '../helpers/raw-http.ts';

afterEach(async () => {
  await closeAll();
  await closeAuthServers();
});

const setup = () => gatewayTrusting({
  scopes: ['mcp:a', 'mcp:b', 'mcp:all'],
  grants: ['{ claim: scope, value: "mcp:a", servers: [a] }', '{ claim: scope, value: "mcp:b", servers: [b] }', '{ claim: scope, value: "mcp:all", servers: "*" }'],
});

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

async function post(h: Harness, path: string, token: string, body: unknown = initialize, session?: string): Promise<{ status: number; body: Json; session: string | null }> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, ...(session === undefined ? {} : { 'mcp-session-id': session }) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Json = text;
  try {
    parsed = JSON.parse(text.includes('data: ') ? text.split('data: ')[1]!.split('\n')[0]! : text);
  } catch {
    /* text */
  }
  return { status: res.status, body: parsed, session: res.headers.get('mcp-session-id') };
}

describe('review: audience binding across spellings of a route', () => {
  it('a token for the gateway itself (aud = publicUrl, as for /mcp/servers) does not open the aggregate through /mcp/@/mcp', async () => {
    const { h, as } = await setup();
    const gatewayToken = await as.token({ resource: h.url, scope: 'mcp:all' });
    // Its own resource: fine.
    expect((await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${gatewayToken}` } })).status).toBe(200);
    // The aggregate is another resource: refused at its own URL…
    expect((await post(h, '/mcp', gatewayToken)).status).toBe(401);
    // …and must be at any other spelling that reaches it.
    const alias = await post(h, '/mcp/@/mcp', gatewayToken);
    expect.soft(alias.status, 'POST /mcp/@/mcp served the aggregate to a token whose aud is the gateway').not.toBe(200);
    if (alias.status === 200 && alias.session !== null) {
      await post(h, '/mcp/@/mcp', gatewayToken, { jsonrpc: '2.0', method: 'notifications/initialized' }, alias.session);
      const tools = await post(h, '/mcp/@/mcp', gatewayToken, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, alias.session);
      expect.soft(JSON.stringify(tools.body), 'tools of servers a and b listed through the alias').not.toMatch(/a__echo|b__echo/);
    }
    // Same for the legacy transport's alias.
    const legacy = await rawRequest(h.url, `GET /mcp/@/legacy/sse HTTP/1.1\r\nHost: ${new URL(h.url).host}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${gatewayToken}`);
    expect.soft(legacy.status, 'GET /mcp/@/legacy/sse opened an aggregate legacy session').not.toBe(200);
  });

  it('/mcp/@/mcp is no route: server routes take server names only, never the aggregate\'s @', async () => {
    const { h } = await setup();
    expect((await post(h, '/mcp/@/mcp', KEY)).status).toBe(404);
  });
});
