// The gateway image built from the repository's Dockerfile (global-setup.ts): what it holds, and its other
// commands. Real `docker run`s of the built image.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HEAP_FLAGS } from '../../bin/heap-flags.js';
import { IMAGE, ROOT, docker, mountableDir, needImage, ok, run } from './docker.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
}

describe('the image', () => {
  it('is built from the Dockerfile: tini runs node with the heap flags, as user node, with /readyz as its health check', async (ctx) => {
    const setup = needImage(ctx);
    console.log(`[container] gateway image built in ${setup.buildSeconds?.toFixed(1)} s on ${setup.nodeImage}`);
    const [image] = JSON.parse(await ok(docker('image', 'inspect', IMAGE))) as { Config: Record<string, any> }[];
    const config = image!.Config;
    expect(config.Entrypoint).toEqual(['/usr/bin/tini', '--', 'node', ...HEAP_FLAGS, '/opt/mcp-gateway/bin/mcp-gateway.js']);
    expect(config.Cmd).toEqual(['run']);
    expect(config.User).toBe('node');
    expect(config.StopSignal).toBe('SIGTERM');
    expect(Object.keys(config.ExposedPorts)).toEqual(['3001/tcp']);
    expect(config.Env).toContain('MCP_GATEWAY_CONFIG=/etc/mcp-gateway/mcp-gateway.yaml');
    expect(config.Healthcheck.Test[0]).toBe('CMD');
    expect(config.Healthcheck.Test.join(' ')).toContain('/readyz');
    // compose.yaml writes the same check out.
    const compose = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, { healthcheck: { test: string[] } }> };
    expect(compose.services['mcp-gateway']!.healthcheck.test).toEqual(config.Healthcheck.Test);
  });

  it('holds the production dependencies of the lock file, none of the dev ones, and dist/ without src/', async (ctx) => {
    needImage(ctx);
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const topLevel = Object.entries(lock.packages)
      .filter(([p]) => p.startsWith('node_modules/') && !p.slice('node_modules/'.length).includes('node_modules/'))
      .map(([p, e]) => [p.slice('node_modules/'.length), e] as const);
    const prod = topLevel.filter(([, e]) => e.dev !== true && e.devOptional !== true && e.optional !== true).map(([n]) => n);
    const dev = topLevel.filter(([, e]) => e.dev === true).map(([n]) => n);
    expect(prod).toContain('koa');
    expect(dev).toContain('vitest');

    const listing = await ok(
      docker('run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', 'cd /opt/mcp-gateway && ls -d node_modules/* node_modules/@*/* && ls dist/cli/main.js dist/.built && ls -d src 2>&1; true'),
    );
    const installed = new Set(listing.split('\n').filter((l) => l.startsWith('node_modules/')).map((l) => l.slice('node_modules/'.length)));
    for (const name of prod) expect(installed, name).toContain(name);
    for (const name of dev) expect(installed, name).not.toContain(name);
    expect(listing).toContain('dist/cli/main.js');
    expect(listing).toMatch(/src.*No such file/);
  });

  it('runs the other commands: validate finds the bundled manifest, which listens on 0.0.0.0 and needs MCP_GATEWAY_KEY', async (ctx) => {
    needImage(ctx);
    const without = await docker('run', '--rm', IMAGE, 'validate');
    expect(without.code).toBe(1);
    expect(without.stdout + without.stderr).toContain('variable MCP_GATEWAY_KEY is not set');
    const withKey = await docker('run', '--rm', '-e', 'MCP_GATEWAY_KEY=a-key-from-the-env-file', IMAGE, 'validate');
    expect(withKey.stdout + withKey.stderr).toContain('mcp-gateway.yaml: ok, 1 server (1 enabled), listen 0.0.0.0:3001');
    expect(withKey.code).toBe(0);
    const generated = await docker('run', '--rm', IMAGE, 'hash-key', '--generate');
    expect(generated.code).toBe(0);
    const key = /^key: (\S+)$/m.exec(generated.stdout)![1]!;
    // The key given back on stdin hashes to the hash it was printed with.
    const hashed = await ok(run('docker', ['run', '--rm', '-i', IMAGE, 'hash-key'], { input: `${key}\n` }), 'hash-key');
    expect(hashed.trim()).toBe(/^sha256: (\S+)$/m.exec(generated.stdout)![1]);
  });

  it('refuses to serve 0.0.0.0 without keys: the gateway exits 1 and says why', async (ctx) => {
    needImage(ctx);
    const dir = mountableDir('container');
    dirs.push(dir);
    writeFileSync(
      path.join(dir, 'mcp-gateway.yaml'),
      'version: 1\nlisten: { host: 0.0.0.0, port: 3001 }\nservers:\n  demo:\n    command: node\n    args: [/opt/mcp-gateway/examples/servers/demo.js]\n',
    );
    const r = await docker('run', '--rm', '-v', `${dir}:/etc/mcp-gateway:ro`, IMAGE);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('not a loopback address, and no auth.keys');
  });
});
