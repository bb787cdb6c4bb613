import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateCommand } from '../../src/cli/validate.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gateway-validate-'));
  await writeFile(
    path.join(dir, 'good.yaml'),
    'version: 1\nservers:\n  a: { command: node }\n  b: { command: node, enabled: false }\n  c: { command: "${CMD:-node}" }\n',
  );
  await writeFile(path.join(dir, 'one.yaml'), 'version: 1\nlisten: { host: "::1", port: 8080 }\nservers:\n  a: { command: node }\n');
  await writeFile(path.join(dir, 'bad.yaml'), 'version: 1\nservers:\n  a:\n    comand: node\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(files: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await validateCommand(files, (l) => out.push(l), (l) => err.push(l), env);
  return { code, out, err };
}

describe('validateCommand', () => {
  it('prints one summary line per valid file and exits 0', async () => {
    const good = path.join(dir, 'good.yaml');
    const one = path.join(dir, 'one.yaml');
    expect(await run([good, one], { PORT: '4000' })).toEqual({
      code: 0,
      out: [`${good}: ok, 3 servers (2 enabled), listen 127.0.0.1:4000`, `${one}: ok, 1 server (1 enabled), listen [::1]:4000`],
      err: [],
    });
  });

  it('prints file:line:col: message for each problem and exits 1 if any file fails', async () => {
    const good = path.join(dir, 'good.yaml');
    const bad = path.join(dir, 'bad.yaml');
    const r = await run([bad, good]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `${bad}:3:3: missing required key "command" in server "a"; add e.g. "command: node"`,
      `${bad}:4:5: unknown key "comand" in server "a"; did you mean "command"? allowed: command, args, env, envFile, cwd, restart, startTimeout, stopTimeout, requestTimeout, requestTimeoutMax, stderrLines, schedule, enabled, sharing, clientCapabilities, sessionIdleTimeout, maxSessions, inheritEnv, maxInFlight, queueTimeout, prefix, tools, prompts, resources, rollout, drainTimeout, liveness, start, idleStop, limits, callerEnv`,
    ]);
    expect(r.out).toEqual([`${good}: ok, 3 servers (2 enabled), listen 127.0.0.1:3001`]);
  });

  it('never shows a listen host made with ${VAR}: it names the variable instead', async () => {
    const file = path.join(dir, 'secret-host.yaml');
    await writeFile(file, 'version: 1\nlisten: { host: "${BIND_HOST}" }\nauth: { none: true }\nservers: {}\n');
    const r = await run([file], { BIND_HOST: 'SECRET_MARKER_7f3a' });
    expect(r).toEqual({ code: 0, out: [`${file}: ok, 0 servers (0 enabled), listen (from \${BIND_HOST}):3001`], err: [] });
  });

  it('defaults to mcp-gateway.yaml in the current folder', async () => {
    const before = process.cwd();
    process.chdir(dir);
    try {
      const missing = await run([]);
      expect(missing).toEqual({ code: 1, out: [], err: ['mcp-gateway.yaml:1:1: file not found; check the path, or create the manifest there'] });
      await writeFile(path.join(dir, 'mcp-gateway.yaml'), 'version: 1\nservers: {}\n');
      expect(await run([])).toEqual({ code: 0, out: ['mcp-gateway.yaml: ok, 0 servers (0 enabled), listen 127.0.0.1:3001'], err: [] });
    } finally {
      process.chdir(before);
    }
  });

  it('checks auth.oauth: a grant naming an unknown server, a missing publicUrl off loopback', async () => {
    const file = path.join(dir, 'oauth.yaml');
    await writeFile(
      file,
      [
        'version: 1',
        'listen: { host: 0.0.0.0 }',
        'auth:',
        '  oauth:',
        '    issuers: [ { issuer: https://idp.example.com } ]',
        '    grants: [ { claim: scope, value: "mcp:x", servers: [x] } ]',
        'servers:',
        '  a: { command: node }',
        '',
      ].join('\n'),
    );
    expect(await run([file])).toEqual({
      code: 1,
      out: [],
      err: [
        `${file}:5:5: auth.oauth: needs listen.publicUrl (the base URL clients use, e.g. https://gw.example.com): tokens are bound to URLs made from it, and behind a proxy or a DNS name the gateway cannot know it`,
        `${file}:6:57: auth.oauth.grants[0].servers[0]: no server of that name in servers; fix the name or remove it`,
      ],
    });
  });
});
