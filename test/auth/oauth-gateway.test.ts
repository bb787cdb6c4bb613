// The gateway as an OAuth resource server, against a real authorization server (oidc-provider on
// loopback) and real tokens: discovery from a 401, audience binding per server, expiry, issuer, signature,
// key rotation, grants to servers and admin, keys and tokens side by side, and no token in any output.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, manifest, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';
import { closeAuthServers, startAuthServer } from '../helpers/oidc.ts';
import { KEYS_COOLDOWN_MS } from '../../src/auth/oauth/token-auth.ts';
import { gatewayTrusting, KEY, oauthYaml, SERVERS_AB } from './oauth-setup.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
  await closeAuthServers();
});

const GRANTS = [
  '{ claim: scope, value: "mcp:a", servers: [a] }',
  '{ claim: scope, value: "mcp:b", servers: [b] }',
  '{ claim: groups, value: mcp-admins, servers: "*", admin: true }',
];

/** The manifest of setup(): servers a and b, the ops key, and the provider's tokens with GRANTS. */
function oauthManifest(issuer: string, skew = '1s'): string {
  return manifest(SERVERS_AB, oauthYaml(issuer, GRANTS, skew));
}

const setup = () => gatewayTrusting({ grants: GRANTS, scopes: ['mcp:a', 'mcp:b'], skew: '1s' });

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

async function post(h: Harness, path: string, credential?: string, body: unknown = initialize, headers: Record<string, string> = {}): Promise<{ status: number; challenge: string | null; body: Json; session: string | null }> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }), ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Json = text;
  try {
    // An event stream: the answer is its last message (notifications may come before it).
    const sse = text.startsWith('event:') || text.startsWith('id:') || text.startsWith(':');
    parsed = JSON.parse(sse ? text.split('\n').filter((l) => l.startsWith('data: {')).at(-1)!.slice('data: '.length) : text);
  } catch {
    /* kept as text */
  }
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: parsed, session: res.headers.get('mcp-session-id') };
}

describe('auth.oauth: the gateway as a resource server', () => {
  it('a 401 names the resource metadata, which names the authorization server and the scopes', async () => {
    const { h, as } = await setup();
    const r = await post(h, '/mcp/a/mcp');
    expect(r.status).toBe(401);
    expect(r.challenge).toBe(`Bearer scope="mcp:a", resource_metadata="${h.url}/.well-known/oauth-protected-resource/mcp/a/mcp"`);
    const prm = (await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/a/mcp`)).json()) as Json;
    expect(prm).toEqual({ resource: `${h.url}/mcp/a/mcp`, authorization_servers: [as.issuer], scopes_supported: ['mcp:a'], bearer_methods_supported: ['header'] });
    const aggregate = (await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Json;
    expect(aggregate.resource).toBe(`${h.url}/mcp`);
    // An unknown name gets a document too (without scopes): metadata does not tell which servers exist.
    expect(await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/nope/mcp`)).json()).toEqual({ resource: `${h.url}/mcp/nope/mcp`, authorization_servers: [as.issuer], bearer_methods_supported: ['header'] });
    expect((await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/a/sse`)).status).toBe(404); // not a resource's own path
  });

  it('a token for server a works on a (stock SDK client) and is refused by b: the audience is the resource', async () => {
    const { h, as } = await setup();
    const token = await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a' });
    const c = await connect(`${h.url}/mcp/a/mcp`, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    expect(textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    const onB = await post(h, '/mcp/b/mcp', token);
    expect(onB.status).toBe(401);
    expect(onB.challenge).toMatch(/^Bearer error="invalid_token", scope="mcp:b", resource_metadata=".*\/mcp\/b\/mcp", error_description="wrong-audience"$/);
  });

  it('a valid token whose claims grant nothing for the server gets 403 insufficient_scope with the scope it needs', async () => {
    const { h, as } = await setup();
    const token = await as.token({ resource: `${h.url}/mcp/b/mcp`, scope: 'mcp:a' });
    const r = await post(h, '/mcp/b/mcp', token);
    expect(r.status).toBe(403);
    expect(r.challenge).toMatch(/^Bearer error="insufficient_scope", scope="mcp:b", resource_metadata=".*\/mcp\/b\/mcp"/);
  });

  it('refuses an expired token, a token of an issuer it does not trust, and a tampered one, each with its reason', async () => {
    const { h, as } = await setup();
    const other = await startAuthServer({ gatewayBase: h.url, scopes: ['mcp:a'] });
    const resource = `${h.url}/mcp/a/mcp`;
    const short = await as.token({ resource, scope: 'mcp:a', ttlSeconds: 1 });
    expect((await post(h, '/mcp/a/mcp', short)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2600)); // 1 s of life and 1 s of clock skew
    const expired = await post(h, '/mcp/a/mcp', short);
    expect(expired.status).toBe(401);
    expect(expired.challenge).toContain('error_description="expired"');

    const foreign = await other.token({ resource, scope: 'mcp:a' });
    expect((await post(h, '/mcp/a/mcp', foreign)).challenge).toContain('error_description="unknown-issuer"');
    expect(other.requests).toBe(0); // never asked for its keys

    const good = await as.token({ resource, scope: 'mcp:a' });
    const [head, payload, signature] = good.split('.');
    const flipped = `${head}.${payload}.${signature!.slice(0, 10)}${signature![10] === 'A' ? 'B' : 'A'}${signature!.slice(11)}`;
    expect((await post(h, '/mcp/a/mcp', flipped)).challenge).toContain('error_description="bad-signature"');
    expect((await post(h, '/mcp/a/mcp', good)).status).toBe(200);
  });

  it('follows a key rotation with one fetch of the keys, and keeps verifying with the keys it has while the JWKS endpoint is down', async () => {
    const { h, as } = await setup();
    const resource = `${h.url}/mcp/a/mcp`;
    expect((await post(h, '/mcp/a/mcp', await as.token({ resource, scope: 'mcp:a' }))).status).toBe(200);
    const fetched = as.requests;
    await as.rotateKeys({ keepOld: true });
    const rotated = await as.token({ resource, scope: 'mcp:a' });
    // Within the cooldown after a fetch, an unknown kid fetches nothing (a flood of made-up kids costs nothing).
    expect((await post(h, '/mcp/a/mcp', rotated)).status).toBe(401);
    expect(as.requests).toBe(fetched);
    await new Promise((r) => setTimeout(r, KEYS_COOLDOWN_MS + 200));
    expect((await post(h, '/mcp/a/mcp', rotated)).status).toBe(200);
    expect(as.requests).toBe(fetched + 1);
    as.jwksDown(true);
    const again = await as.token({ resource, scope: 'mcp:a' });
    expect((await post(h, '/mcp/a/mcp', again)).status).toBe(200);
  });

  it('the status page\'s event stream and the servers list take a token whose audience is the gateway itself', async () => {
    const { h, as } = await setup();
    const gatewayWide = await as.token({ resource: h.url, claims: { groups: ['mcp-admins'] } });
    const forA = await as.token({ resource: `${h.url}/mcp/a/mcp`, claims: { groups: ['mcp-admins'] } });
    const list = (t: string) => fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${t}` } });
    expect((await list(gatewayWide)).status).toBe(200);
    expect((await list(forA)).status).toBe(401);
    const events = await fetch(`${h.url}/status/events`, { headers: { authorization: `Bearer ${gatewayWide}` } });
    expect(events.status).toBe(200);
    const first = new TextDecoder().decode((await events.body!.getReader().read()).value);
    expect(first).toContain('"servers"');
  });

  it('maps a groups claim to admin: the token may restart servers; a token without it may not', async () => {
    const { h, as } = await setup();
    const admin = await as.token({ resource: `${h.url}/mcp/a/mcp`, claims: { groups: ['mcp-admins'] } });
    const plain = await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a' });
    const restart = (t: string) => fetch(`${h.url}/mcp/a/restart`, { method: 'POST', headers: { authorization: `Bearer ${t}` } });
    expect((await restart(plain)).status).toBe(403);
    expect((await restart(admin)).status).toBe(200);
  });

  it('keys and tokens on one gateway; a session opened with a token refuses the key, and the other way round', async () => {
    const { h, as } = await setup();
    const token = await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a' });
    const byToken = await post(h, '/mcp/a/mcp', token);
    const byKey = await post(h, '/mcp/a/mcp', KEY);
    expect(byToken.status).toBe(200);
    expect(byKey.status).toBe(200);
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const version = { 'mcp-protocol-version': '2025-06-18' };
    expect((await post(h, '/mcp/a/mcp', token, list, { 'mcp-session-id': byToken.session!, ...version })).status).toBe(200);
    expect((await post(h, '/mcp/a/mcp', KEY, list, { 'mcp-session-id': byToken.session!, ...version })).status).toBe(404);
    expect((await post(h, '/mcp/a/mcp', token, list, { 'mcp-session-id': byKey.session!, ...version })).status).toBe(404);
    // Another subject's token, valid for the same server: not this session's principal either.
    const bob = await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a', claims: { sub: 'bob' } });
    expect((await post(h, '/mcp/a/mcp', bob, list, { 'mcp-session-id': byToken.session!, ...version })).status).toBe(404);
    // The same subject with a fresh token (a refresh): the session goes on.
    const again = await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a' });
    expect((await post(h, '/mcp/a/mcp', again, list, { 'mcp-session-id': byToken.session!, ...version })).status).toBe(200);
  });

  it('an aggregate session follows its subject\'s newest token: a narrower one narrows what it sees, a newer wider one widens it', async () => {
    const { h, as } = await setup();
    const aud = `${h.url}/mcp`;
    const both = await as.token({ resource: aud, scope: 'mcp:a mcp:b' });
    const opened = await post(h, '/mcp', both);
    expect(opened.status).toBe(200);
    const on = { 'mcp-session-id': opened.session!, 'mcp-protocol-version': '2025-06-18' };
    const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'b__echo', arguments: { text: 'b' } } };
    const first = await post(h, '/mcp', both, call, on);
    expect(first.body.result.content[0].text).toBe('b');
    const onlyA = await as.token({ resource: aud, scope: 'mcp:a' });
    const narrowed = await post(h, '/mcp', onlyA, call, on);
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.error.message).toMatch(/names no tool/);
    const list = await post(h, '/mcp', onlyA, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, on);
    expect(list.body.result.tools.map((t: Json) => t.name)).toContain('a__echo');
    expect(list.body.result.nextCursor).toBeUndefined(); // b's page is gone
    const bothAgain = await as.token({ resource: aud, scope: 'mcp:a mcp:b' }); // newer than onlyA (the older both is not)
    const wider = await post(h, '/mcp', bothAgain, call, on);
    expect(wider.body.result.content[0].text).toBe('b');
  });

  it('a reload that takes a grant away ends the sessions it opened, and refuses the token from then on', async () => {
    const { h, as } = await setup();
    const token = await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a' });
    const c = await connect(`${h.url}/mcp/a/mcp`, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    expect(textOf(await c.client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    h.write(oauthManifest(as.issuer).replace('      - { claim: scope, value: "mcp:a", servers: [a] }\n', ''));
    await waitFor(() => h.logs.some((l) => l.includes('session ended') && l.includes('lost access')), 'the session ended', 10_000);
    const r = await post(h, '/mcp/a/mcp', token);
    expect(r.status).toBe(403);
    expect(r.challenge).toContain('error="insufficient_scope"');
  });

  it('never shows a token: not in logs, the API, metrics, or a child\'s environment', async () => {
    const { h, as } = await setup();
    const resource = `${h.url}/mcp/a/mcp`;
    const token = await as.token({ resource, scope: 'mcp:a' });
    const c = await connect(resource, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await c.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const envNames = textOf(await c.client.callTool({ name: 'env_names', arguments: {} }));
    await post(h, '/mcp/b/mcp', token); // refused: logged with its reason
    const signature = token.split('.')[2]!;
    const seen = [
      h.logs.join('\n'),
      await (await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${KEY}` } })).text(),
      await (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text(),
      envNames,
    ].join('\n');
    expect(seen).not.toContain(signature);
    expect(seen).not.toContain(token.slice(0, 40));
    expect(h.logs.some((l) => l.includes('authentication failed: bearer token') && l.includes('wrong-audience'))).toBe(true);
    const metrics = await (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
    expect(metrics).toMatch(/mcp_gateway_authentications_total\{method="token",outcome="ok"\} [1-9]/);
    expect(metrics).toContain('mcp_gateway_authentications_total{method="token",outcome="wrong-audience"} 1');
    expect(metrics).toMatch(/mcp_gateway_authentications_total\{method="key",outcome="ok"\} [1-9]/);
  });
});

describe('auth.oauth behind a proxy that serves the gateway under a path', () => {
  it('names resources and their metadata under listen.publicUrl, with the well-known path at the root', async () => {
    const { h, as } = await setup();
    h.write(oauthManifest(as.issuer).replace('listen: { host: 127.0.0.1, port: 0 }', `listen: { host: 127.0.0.1, port: 0, publicUrl: "${h.url}/gw" }`));
    const metadata = `${h.url}/.well-known/oauth-protected-resource/gw/mcp/a/mcp`;
    await waitFor(async () => (await fetch(metadata)).status === 200, 'publicUrl applied', 10_000);
    expect(((await (await fetch(metadata)).json()) as Json).resource).toBe(`${h.url}/gw/mcp/a/mcp`);
    expect((await post(h, '/mcp/a/mcp')).challenge).toContain(`resource_metadata="${metadata}"`);
    // The audience is the URL clients use: a token for the proxied URL works, one for the inner URL does not.
    expect((await post(h, '/mcp/a/mcp', await as.token({ resource: `${h.url}/gw/mcp/a/mcp`, scope: 'mcp:a' }))).status).toBe(200);
    expect((await post(h, '/mcp/a/mcp', await as.token({ resource: `${h.url}/mcp/a/mcp`, scope: 'mcp:a' }))).status).toBe(401);
  });
});

describe('callerEnv: a per-session child learns who opened its session, never the credential', () => {
  it('gets the token\'s subject and issuer, or the key\'s name', async () => {
    const { h, as } = await setup();
    const whoami = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'whoami.js');
    const server = `  p:\n    command: node\n    args: [${JSON.stringify(whoami)}]\n    sharing: per-session\n    callerEnv: MCP_CALLER\n`;
    h.write(oauthManifest(as.issuer).replace('servers:\n', `servers:\n${server}`).replace('      - { claim: scope, value: "mcp:b", servers: [b] }\n', '      - { claim: scope, value: "mcp:b", servers: [b] }\n      - { claim: scope, value: "mcp:p", servers: [p] }\n'));
    await waitFor(async () => ((await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/p/mcp`)).json()) as Json).scopes_supported !== undefined, 'p added with its grant', 10_000);
    const token = await as.token({ resource: `${h.url}/mcp/p/mcp`, scope: 'mcp:p', claims: { sub: 'alice@example' } });
    const byToken = await connect(`${h.url}/mcp/p/mcp`, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    expect(textOf(await byToken.client.callTool({ name: 'whoami', arguments: {} }))).toBe(`alice@example|${as.issuer} token-in-env:false`);
    const byKey = await connect(`${h.url}/mcp/p/mcp`, { requestInit: { headers: { authorization: `Bearer ${KEY}` } } });
    expect(byKey.client.getServerVersion()?.name).toBe('ops|-');
  });
});

describe('auth.oauth: a stock client that knows only the URL', () => {
  it('the SDK client discovers the authorization server from the 401, gets a token (authorization code + PKCE, resource indicator) and calls a tool', async () => {
    const { h, as } = await setup();
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { UnauthorizedError } = await import('@modelcontextprotocol/sdk/client/auth.js');
    let tokens: Json;
    let verifier = '';
    let redirect: URL | undefined;
    const provider = {
      redirectUrl: as.public.redirectUri,
      clientMetadata: { redirect_uris: [as.public.redirectUri], client_name: 'test', grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' },
      clientInformation: () => ({ client_id: as.public.clientId }),
      tokens: () => tokens,
      saveTokens: (t: Json) => void (tokens = t),
      // A browser would go there; the test logs in as alice and consents through the provider's own endpoints.
      redirectToAuthorization: async (url: URL) => void (redirect = await as.authorize(url, 'alice')),
      saveCodeVerifier: (v: string) => void (verifier = v),
      codeVerifier: () => verifier,
    };
    const url = new URL(`${h.url}/mcp/a/mcp`);
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await expect(new Client({ name: 't', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    const code = redirect?.searchParams.get('code');
    expect(code, `the provider's redirect: ${redirect?.toString()}`).toBeTruthy();
    await first.finishAuth(code!);
    expect(tokens!.access_token).toBeTruthy();

    const client = new Client({ name: 't', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'authorized' } }))).toBe('authorized');
    await client.close();
  });
});
