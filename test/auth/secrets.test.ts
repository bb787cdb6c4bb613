import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO, waitFor, type Json } from '../helpers/gateway.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';

const MARKER = 'S3CRET-MARKER-90210-abcdefgh';
const ADMIN = 'plain-admin-key-for-tests-123';
const running: GatewayProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function manifest(extra = ''): string {
  return `version: 1
listen: { host: 127.0.0.1, port: 0, accessLog: true }
auth:
  keys:
    - { name: ops, key: "\${ADMIN_KEY}", servers: "*", admin: true }
    - { name: marked, key: "\${MARKER_KEY}", servers: [demo], rateLimit: { rps: 1, burst: 2 } }
servers:
  demo:
    command: node
    args: [${JSON.stringify(DEMO)}]
    env: { API_TOKEN: "\${MARKER_ENV}", INLINE: "${MARKER}-inline" }
${extra}`;
}

describe('secrets', () => {
  it('never appear in API answers, SSE data, error bodies or the log, across every face and error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-secrets-'));
    dirs.push(dir);
    const file = path.join(dir, 'mcp-gateway.yaml');
    writeFileSync(file, manifest());
    const g = await spawnGateway(['--config', file], { ADMIN_KEY: ADMIN, MARKER_KEY: MARKER, MARKER_ENV: MARKER });
    running.push(g);
    const seen: string[] = [];
    const call = async (p: string, init: RequestInit = {}, key = ADMIN) => {
      const res = await fetch(`${g.url}${p}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
      const text = await res.text();
      seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
      return { status: res.status, text };
    };
    const json = { 'content-type': 'application/json' };
    const mcp = { ...json, accept: 'application/json, text/event-stream' };
    await waitFor(async () => (await call('/mcp/servers')).text.includes('"running"'), 'demo running');

    // The classic stream, read while everything else happens.
    const sse = await fetch(`${g.url}/mcp/demo/sse`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const reader = sse.body!.getReader();
    let streamed = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        streamed += new TextDecoder().decode(value);
      }
    })();

    await call('/');
    await call('/mcp/demo/stderr');
    await call('/mcp/demo/command', { method: 'POST', headers: json, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'env_names', arguments: {} } }) });
    await call('/mcp/demo/command', { method: 'POST', headers: json, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'greet', arguments: {} } }) });
    await call('/mcp/demo/command', { method: 'POST', headers: json, body: '{"broken' });
    await call('/mcp/ghost/command', { method: 'POST', headers: json, body: '{}' });
    await call('/mcp/demo/command', { method: 'POST', headers: json, body: '{}' }, 'wrong-key-' + MARKER); // a wrong key that looks like ours
    await call('/mcp/demo/command', { method: 'POST', headers: json, body: '{}' }, MARKER);
    for (let i = 0; i < 4; i++) await call('/mcp/servers', {}, MARKER); // over its rate
    await call('/mcp/demo/restart', { method: 'POST' }, MARKER); // not admin
    const init = await fetch(`${g.url}/mcp/demo/mcp`, {
      method: 'POST',
      headers: { ...mcp, authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    seen.push(await init.text());
    const sid = init.headers.get('mcp-session-id')!;
    await call('/mcp/demo/mcp', { method: 'POST', headers: { ...mcp, 'mcp-session-id': sid }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fail', arguments: {} } }) });
    await call('/mcp/demo/mcp', { method: 'POST', headers: { ...mcp, 'mcp-session-id': 'nope' }, body: '{"jsonrpc":"2.0","id":3,"method":"ping"}' });
    const legacy = await fetch(`${g.url}/mcp/demo/legacy/sse`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const first = await legacy.body!.getReader().read();
    seen.push(new TextDecoder().decode(first.value));
    await legacy.body?.cancel().catch(() => {});
    // A broken edit: the errors are shown, and must not quote the interpolated values.
    writeFileSync(file, manifest('    stopTimeout: "${MARKER_ENV}"\n'));
    await waitFor(async () => (await call('/mcp/servers')).text.includes('"state":"error"'), 'error shown');
    await call('/mcp/demo/restart', { method: 'POST' });
    await waitFor(() => streamed.includes('"state":"running"'), 'status on the stream');

    await reader.cancel();
    await pump.catch(() => {});
    await g.stop();
    const everything = [...seen, streamed, ...g.out].join('\n');
    expect(everything).not.toContain(MARKER);
    expect(everything).toContain('API_TOKEN'); // the child's env names were read back…
    expect(g.out.some((l) => l.includes('"msg":"access"') && l.includes('"key":"marked"'))).toBe(true); // …and the key is named in the log
    expect(g.out.some((l) => l.includes('authentication failed'))).toBe(true);
  });

  it('gives a child only the safe base of the environment and its own env, never the gateway keys', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-env-'));
    dirs.push(dir);
    const file = path.join(dir, 'mcp-gateway.yaml');
    writeFileSync(file, manifest(`  wide:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n    inheritEnv: true\n`));
    const g = await spawnGateway(['--config', file], { ADMIN_KEY: ADMIN, MARKER_KEY: MARKER, MARKER_ENV: MARKER, SOME_CLOUD_TOKEN: 'x-cloud-token-0123456789', MCP_GATEWAY_KEY: 'y' });
    running.push(g);
    const names = async (server: string): Promise<string[]> => {
      const r = await waitFor(async () => {
        const res = await fetch(`${g.url}/mcp/${server}/command`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'env_names', arguments: {} } }),
        });
        return res.status === 200 ? ((await res.json()) as Json) : undefined;
      }, `${server} answers`);
      return (r.result.content[0].text as string).split(',');
    };
    const base = await names('demo');
    const safe = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|TZ|TERM|TMPDIR|TEMP|TMP|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS|XDG_\w+|LC_\w+)$/;
    const own = new Set(['API_TOKEN', 'INLINE']);
    expect(base.filter((n) => !safe.test(n) && !own.has(n))).toEqual([]);
    expect(base).toContain('PATH');
    expect(base).toContain('API_TOKEN');
    const wide = await names('wide');
    expect(wide).toContain('SOME_CLOUD_TOKEN');
    // A reload that adds a key and, with it, a server that inherits everything: the new key's variable
    // is held back from that server's first child too.
    writeFileSync(file, manifest(`  wide:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n    inheritEnv: true\n  wider:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n    inheritEnv: true\n`).replace('    - { name: marked', '    - { name: cloud, key: "${SOME_CLOUD_TOKEN}", servers: "*" }\n    - { name: marked'));
    const wider = await names('wider');
    expect(wider).not.toContain('SOME_CLOUD_TOKEN');
    expect(wider).toContain('PATH');
    for (const secret of ['ADMIN_KEY', 'MARKER_KEY', 'MCP_GATEWAY_KEY']) {
      expect(base).not.toContain(secret);
      expect(wide).not.toContain(secret);
    }
  });
});

describe('the servers table', () => {
  it('names the variable a listen host was written with, never its value', async () => {
    const { startHarness: start, demoServer: demo } = await import('../helpers/gateway.ts');
    const h = await start(`version: 1\nlisten: { host: "\${GW_TEST_HOST}", port: 0 }\nservers:\n${demo('demo')}`, { env: { ...process.env, PORT: undefined, GW_TEST_HOST: '127.0.0.1' } });
    try {
      const body = (await (await fetch(`${h.url}/mcp/servers`)).json()) as { manifest: { listen: { host: string } } };
      expect(body.manifest.listen.host).toBe('(from ${GW_TEST_HOST})');
      expect(JSON.stringify(body)).not.toContain('127.0.0.1');
    } finally {
      await h.close();
    }
  });

  it('names it in the error when the gateway cannot listen there', async () => {
    const { startHarness: start, demoServer: demo } = await import('../helpers/gateway.ts');
    const failed = start(`version: 1\nlisten: { host: "\${GW_TEST_HOST}", port: 0 }\nauth: { none: true }\nservers:\n${demo('demo')}`, {
      env: { ...process.env, PORT: undefined, GW_TEST_HOST: '192.0.2.77' },
    });
    const err = (await failed.then(() => undefined, (e: unknown) => e)) as Error;
    expect(err.message).toMatch(/cannot listen on \(from \$\{GW_TEST_HOST\}\)/);
    expect(err.message).not.toContain('192.0.2.77');
  });
});
