import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO, authKeys, waitFor } from '../helpers/gateway.ts';
import { cleanup, cli, deadUrl, runGateway, stubServer, tempDir } from './cli.ts';

afterEach(cleanup);

const MANIFEST = `version: 1\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n  idle: { command: node, args: [${JSON.stringify(DEMO)}], enabled: false }\n`;

describe('mcp-gateway status', () => {
  it('prints the servers of a running gateway as a table, and the manifest status; exit 0', async () => {
    const file = path.join(tempDir(), 'mcp-gateway.yaml');
    writeFileSync(file, MANIFEST);
    const g = await runGateway(file);
    const r = await waitFor(async () => {
      const x = await cli(['status', '--url', g.url]);
      return x.stdout.includes(' running ') ? x : undefined;
    }, 'demo running', 10_000);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +STATE +PID +RESTARTS +SINCE +SESSIONS +LAST ERROR$/);
    expect(lines[1]).toMatch(/^demo +running +\d+ +0 +\d+s +0 +-$/);
    expect(lines[2]).toMatch(/^idle +stopped \(Disabled\) +- +0 +\d+s +0 +-$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^manifest ${file}: ok, applied \\d+s ago; last reload: started demo`)));

    const json = await cli(['status', '--json'], { MCP_GATEWAY_URL: g.url });
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as { servers: { name: string }[]; manifest: { state: string } };
    expect(answer.servers.map((s) => s.name)).toEqual(['demo', 'idle']);
    expect(answer.manifest.state).toBe('ok');
  });

  it('shows a manifest that does not load, and its errors, while the last good version runs', async () => {
    const file = path.join(tempDir(), 'mcp-gateway.yaml');
    writeFileSync(file, MANIFEST);
    const g = await runGateway(file);
    writeFileSync(file, 'version: 1\nservers:\n  demo:\n    comand: node\n');
    g.proc.kill('SIGHUP'); // the file watch may not be ready yet; a SIGHUP reload always reads the file
    const r = await waitFor(async () => {
      const x = await cli(['status', '--url', g.url]);
      return x.stdout.includes(': error') ? x : undefined;
    }, 'manifest error shown', 10_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`manifest ${file}: error, last read \\d+s ago; the version applied \\d+s ago keeps running; 2 problems:\\n  ${file}:3:3: missing required key`));
  });

  it('shows an on-demand server as idle, and a failed rollout as what needs fixing', async () => {
    const file = path.join(tempDir(), 'mcp-gateway.yaml');
    const lazy = `  lazy: { command: node, args: [${JSON.stringify(DEMO)}], start: on-demand }\n`;
    writeFileSync(file, MANIFEST + lazy);
    const g = await runGateway(file);
    await waitFor(async () => (await cli(['status', '--url', g.url])).stdout.includes(' running '), 'demo running', 10_000);
    writeFileSync(file, MANIFEST.replace(`args: [${JSON.stringify(DEMO)}]\n`, `args: ["-e", "process.exit(4)"]\n`) + lazy);
    g.proc.kill('SIGHUP');
    const r = await waitFor(async () => {
      const x = await cli(['status', '--url', g.url]);
      return x.stdout.includes('rollout failed') ? x : undefined;
    }, 'rollout failure shown', 15_000);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^demo +running \(RolloutFailed\) +\d+ +0 +\d+s +0 +rollout failed: exited before answering initialize \(code 4\)$/);
    expect(lines[3]).toMatch(/^lazy +idle +- +0 +\d+s +0 +-$/);
  });

  it('sends the key to a gateway with auth.keys; without it, exit 1 and the reason', async () => {
    const key = 'status-test-key-0123456789';
    const file = path.join(tempDir(), 'mcp-gateway.yaml');
    writeFileSync(file, `${MANIFEST}${authKeys([{ name: 'viewer', key, servers: '[demo]' }])}`);
    const g = await runGateway(file);
    const refused = await cli(['status', '--url', g.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `mcp-gateway status: unexpected answer from ${g.url}/mcp/servers: HTTP 401: a key is required: send Authorization: Bearer <key>; give a key with --key-file FILE or MCP_GATEWAY_KEY\n`,
    );
    const ok = await cli(['status', '--url', g.url], { MCP_GATEWAY_KEY: key });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^demo /m);
    for (const text of [refused.stdout, refused.stderr, ok.stdout, ok.stderr]) expect(text).not.toContain(key);
  });

  it('exits 1 with a clear message when nothing answers', async () => {
    const url = await deadUrl();
    const r = await cli(['status', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`mcp-gateway status: cannot reach the gateway at ${url}/mcp/servers: connection refused; is it running, and on this address?\n`);
  });

  it('sends the key as a Bearer token, exits 1 when it is refused, and makes terminal-unsafe text safe', async () => {
    const stub = await stubServer((req) =>
      req.headers.authorization === 'Bearer good-key'
        ? { status: 200, body: { servers: [{ name: 'x', state: 'failed', reason: 'StartLimit', pid: null, restarts: 6, since: new Date().toISOString(), lastError: '\u001b[2Jboom\nsecond line' }] } }
        : { status: 401, body: { error: { kind: 'Unauthorized', message: 'a valid key is required' } } },
    );
    const refused = await cli(['status', '--url', stub.url], { MCP_GATEWAY_KEY: 'bad-key' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('HTTP 401: a valid key is required; give a key with --key-file FILE or MCP_GATEWAY_KEY');
    const keyFile = path.join(tempDir(), 'key');
    writeFileSync(keyFile, 'good-key\n');
    const ok = await cli(['status', '--url', stub.url, '--key-file', keyFile]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^x +failed \(StartLimit\) +- +6 +\ds +0 +\[2Jboom second line$/m);
    expect(ok.stdout).not.toContain('\u001b');
    expect(ok.stdout).toContain('manifest: (the gateway did not say)');
  });

  it('exits 2 on a usage error', async () => {
    expect((await cli(['status', 'extra'])).code).toBe(2);
    expect((await cli(['status', '--bogus'])).code).toBe(2);
  });
});
