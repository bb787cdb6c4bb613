// `docker run` of the gateway image as README shows it: the manifest FOLDER mounted read-only (here a copy
// of examples/docker/, verbatim), the key from an env file, host networking with a free port (PORT).
// Real container, real HTTP on 127.0.0.1, real edits of the mounted file on the host, a real `docker stop`.
import { copyFileSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, fetchBounded, freePort, getJson, gone, IMAGE, inspect, LABEL, logLines, mountableDir, needImage, ok, postJson, procs, ROOT, top, type Proc, uniqueName, waitFor, waitRunning } from './docker.ts';

const ready = (): boolean => {
  const setup = inject('container');
  return setup.missing === undefined && setup.buildError === undefined;
};

const dirs: string[] = [];
const containers: string[] = [];
afterAll(async () => {
  if (containers.length > 0) await docker('rm', '-f', ...containers.splice(0));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mountableDir('container');
  dirs.push(dir);
  return dir;
}

/** The demo server's block as a manifest in the image names it. */
const demoBlock = (name: string): string => `  ${name}:\n    command: node\n    args: [/opt/mcp-gateway/examples/servers/demo.js]\n`;

async function serverRows(url: string, key?: string): Promise<{ name: string; state: string; pid: number | null }[]> {
  const r = await getJson(`${url}/mcp/servers`, key);
  expect(r.status).toBe(200);
  return r.body.servers;
}

describe('docker run, with the manifest folder mounted and the key from an env file', () => {
  const name = uniqueName('run');
  const key = randomBytes(24).toString('base64url');
  let dir = '';
  let file = '';
  let url = '';

  beforeAll(async () => {
    if (!ready()) return;
    dir = tempDir();
    file = path.join(dir, 'mcp-gateway.yaml');
    copyFileSync(path.join(ROOT, 'examples', 'docker', 'mcp-gateway.yaml'), file);
    const envFile = path.join(tempDir(), 'mcp-gateway.env');
    writeFileSync(envFile, `MCP_GATEWAY_KEY=${key}\n`, { mode: 0o600 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    containers.push(name);
    await ok(
      docker(
        'run', '-d', '--name', name, '--label', `${LABEL}=1`,
        '--network', 'host', '-e', `PORT=${port}`,
        '--env-file', envFile,
        '-v', `${dir}:/etc/mcp-gateway:ro`,
        '--stop-timeout', '30',
        // The image's own check, looked at every second instead of every 10 s.
        '--health-interval', '1s',
        IMAGE,
      ),
      'docker run',
    );
  });

  it('serves: /readyz turns 200, and the image\'s health check reports the container healthy', async (ctx) => {
    needImage(ctx);
    const readyz = await waitFor(async () => ((await fetchBounded(`${url}/readyz`)).status === 200 ? 200 : undefined), '/readyz 200');
    expect(readyz).toBe(200);
    expect(await waitFor(async () => ((await inspect(name, '{{.State.Health.Status}}')) === 'healthy' ? 'healthy' : undefined), 'healthy')).toBe('healthy');
  });

  it('runs as user node (uid 1000) under tini: tini is PID 1, the gateway its child, the demo server the gateway\'s', async (ctx) => {
    needImage(ctx);
    expect((await ok(docker('exec', name, 'id', '-u'))).trim()).toBe('1000');
    const rows = await waitFor(async () => {
      const t = await top(name);
      return t.some((p) => p.args.includes('examples/servers/demo.js')) ? t : undefined;
    }, 'the demo server in docker top');
    for (const p of rows) expect(p.uid, p.args).toBe(1000);
    const tini = rows.filter((p) => p.args.startsWith('/usr/bin/tini'));
    expect(tini).toHaveLength(1);
    const underTini = rows.filter((p) => p.ppid === tini[0]!.pid);
    expect(underTini.map((p) => p.args)).toEqual([`node --max-semi-space-size=2 --max-old-space-size=256 /opt/mcp-gateway/bin/mcp-gateway.js run`]);
    const demo = rows.filter((p) => p.args === 'node /opt/mcp-gateway/examples/servers/demo.js');
    expect(demo.map((p) => p.ppid)).toEqual([underTini[0]!.pid]);
    // Inside the container tini has pid 1.
    const inside = await procs(name);
    expect(inside.find((p) => p.pid === 1)?.comm).toBe('tini');
  });

  it('answers MCP through the container with the key from the env file: classic /command and Streamable HTTP', async (ctx) => {
    needImage(ctx);
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'through docker' } } };
    // 0.0.0.0 with keys: no key, no answer.
    expect((await postJson(`${url}/mcp/demo/command`, call)).status).toBe(401);
    const auth = { authorization: `Bearer ${key}` };
    await waitRunning(url, 'demo', key);
    const classic = await postJson(`${url}/mcp/demo/command`, call, auth);
    expect(classic.status).toBe(200);
    expect(classic.body).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'through docker' }] } });

    const init = await postJson(
      `${url}/mcp/demo/mcp`,
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'container-test', version: '1' } } },
      auth,
    );
    expect(init.status).toBe(200);
    expect(init.body.result.protocolVersion).toBe('2025-06-18');
    expect(init.body.result.serverInfo).toBeDefined();
    const session = { ...auth, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-06-18' };
    expect(session['mcp-session-id']).toMatch(/\S{16,}/);
    expect((await postJson(`${url}/mcp/demo/mcp`, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status).toBe(202);
    const streamed = await postJson(`${url}/mcp/demo/mcp`, { ...call, id: 2, params: { name: 'echo', arguments: { text: 'streamable' } } }, session);
    expect(streamed.status).toBe(200);
    expect(streamed.body.result.content).toEqual([{ type: 'text', text: 'streamable' }]);
  });

  it('runs `mcp-gateway status` inside the container with the env file\'s key', async (ctx) => {
    needImage(ctx);
    await waitRunning(url, 'demo', key);
    // The test's PORT is not 3001, status's default; MCP_GATEWAY_KEY is in the container's environment.
    const status = await docker('exec', '-e', `MCP_GATEWAY_URL=${url}`, name, 'mcp-gateway', 'status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/demo\s+running/);
  });

  it('applies edits of the mounted manifest made on the host, in place and by rename, without a restart', async (ctx) => {
    needImage(ctx);
    await waitRunning(url, 'demo', key);
    const before = await serverRows(url, key);
    expect(before.map((s) => s.name)).toEqual(['demo']);
    const demoPid = before[0]!.pid;
    expect(demoPid).toBeGreaterThan(0);

    // In place: the same inode, new bytes (what `>>` or most editors' plain save does).
    const inode = statSync(file).ino;
    writeFileSync(file, readFileSync(file, 'utf8') + demoBlock('second'));
    expect(statSync(file).ino).toBe(inode);
    const two = await waitFor(async () => {
      const rows = await serverRows(url, key);
      return rows.find((s) => s.name === 'second')?.state === 'running' ? rows : undefined;
    }, 'server second running');
    expect(two.find((s) => s.name === 'demo')!.pid).toBe(demoPid);

    // By rename: a new inode in the folder (an editor's atomic save; a single-file mount would miss it).
    const next = path.join(dir, '.mcp-gateway.yaml.tmp');
    writeFileSync(next, readFileSync(file, 'utf8') + demoBlock('third'));
    renameSync(next, file);
    expect(statSync(file).ino).not.toBe(inode);
    const three = await waitFor(async () => {
      const rows = await serverRows(url, key);
      return rows.find((s) => s.name === 'third')?.state === 'running' ? rows : undefined;
    }, 'server third running');
    expect(three.map((s) => s.name).sort()).toEqual(['demo', 'second', 'third']);
    expect(three.find((s) => s.name === 'demo')!.pid).toBe(demoPid);
    expect(three.find((s) => s.name === 'second')!.pid).toBe(two.find((s) => s.name === 'second')!.pid);

    // The same gateway all along: one start of the container, one `listening`, two file-triggered reloads.
    expect(await inspect(name, '{{.RestartCount}}')).toBe('0');
    expect(await logLines(name, 'listening')).toHaveLength(1);
    const reloads = (await ok(docker('logs', name))).split('\n').filter((l) => l.includes('"trigger":"file"') && l.includes('"msg":"reload: started'));
    expect(reloads).toHaveLength(2);
  });

  it('docker kill -s HUP reaches the gateway through tini: a reload', async (ctx) => {
    needImage(ctx);
    const reloads = async (): Promise<number> => (await ok(docker('logs', name))).split('\n').filter((l) => l.includes('"trigger":"signal"')).length;
    expect(await reloads()).toBe(0);
    await ok(docker('kill', '-s', 'HUP', name), 'docker kill -s HUP');
    expect(await waitFor(async () => (await reloads()) === 1, 'a reload by signal')).toBe(true);
    expect(await inspect(name, '{{.State.Running}} {{.RestartCount}}')).toBe('true 0');
  });

  it('docker stop: SIGTERM reaches the gateway through tini, which stops its children and exits 0; no process is left', async (ctx) => {
    needImage(ctx);
    const rows: Proc[] = await top(name);
    const children = rows.filter((p) => p.args === 'node /opt/mcp-gateway/examples/servers/demo.js');
    expect(children).toHaveLength(3);

    await ok(docker('stop', '-t', '30', name), 'docker stop');
    // 0: the gateway's own exit after draining; docker's SIGKILL at the end of the grace would be 137.
    expect(await inspect(name, '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}')).toBe('exited 0 false');
    for (const p of rows) expect(gone(p.pid), `${p.pid} ${p.args}`).toBe(true);
    const logs = (await ok(docker('logs', name))).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.find((l) => l.msg === 'shutting down')?.signal).toBe('SIGTERM');
    const exits = logs.filter((l) => l.msg === 'child exited');
    expect(exits.map((l) => l.server).sort()).toEqual(['demo', 'second', 'third']);
    for (const e of exits) expect(e.signal, String(e.server)).toBeNull();
    expect(logs.at(-1)?.msg).toBe('stopped');
  });
});

describe('a bind mount of the manifest FILE alone (why README says to mount the folder)', () => {
  it('shows in-place writes, but stays on the old file when the host replaces it by rename (an editor\'s atomic save)', async (ctx) => {
    needImage(ctx);
    const dir = tempDir();
    const file = path.join(dir, 'mcp-gateway.yaml');
    writeFileSync(file, '# first\n');
    const name = uniqueName('file-mount');
    containers.push(name);
    await ok(docker('run', '-d', '--name', name, '--label', `${LABEL}=1`, '--entrypoint', 'sleep', '-v', `${file}:/etc/mcp-gateway/mcp-gateway.yaml:ro`, IMAGE, 'infinity'), 'docker run');
    const inside = async (): Promise<string> => ok(docker('exec', name, 'cat', '/etc/mcp-gateway/mcp-gateway.yaml'), 'docker exec cat');
    expect(await inside()).toBe('# first\n');
    writeFileSync(file, '# second, in place\n');
    expect(await inside()).toBe('# second, in place\n');
    writeFileSync(path.join(dir, 'next.yaml'), '# third, by rename\n');
    renameSync(path.join(dir, 'next.yaml'), file);
    expect(readFileSync(file, 'utf8')).toBe('# third, by rename\n');
    expect(await inside()).toBe('# second, in place\n');
  });
});

describe('orphaned grandchildren', () => {
  // A server whose shell leaves a grandchild behind ((sleep &) in a subshell): the kernel gives the orphan
  // to the container's PID 1. When it ends, only PID 1 can reap it.
  async function orphanContainer(entrypoint: string[]): Promise<{ name: string; orphan: { pid: number } }> {
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'mcp-gateway.yaml'),
      `version: 1\nlisten: { host: 127.0.0.1, port: ${port} }\nservers:\n  orphans:\n    command: sh\n    args: [-c, "(sleep 3600 &); exec node /opt/mcp-gateway/examples/servers/demo.js"]\n`,
    );
    const name = uniqueName('orphans');
    containers.push(name);
    const override = entrypoint.length === 0 ? [] : ['--entrypoint', entrypoint[0]!];
    await ok(docker('run', '-d', '--name', name, '--label', `${LABEL}=1`, '--network', 'host', '-v', `${dir}:/etc/mcp-gateway:ro`, ...override, IMAGE, ...entrypoint.slice(1)), 'docker run');
    await waitRunning(`http://127.0.0.1:${port}`, 'orphans');
    const orphan = await waitFor(async () => (await procs(name)).find((p) => p.comm === 'sleep'), 'the orphaned sleep');
    expect(orphan.ppid).toBe(1);
    // It ends (killed from inside the container, as its own user).
    await ok(docker('exec', name, 'sh', '-c', `kill ${orphan.pid}`), 'kill the orphan');
    return { name, orphan };
  }

  it('are reaped by tini, PID 1 of the image', async (ctx) => {
    needImage(ctx);
    const { name, orphan } = await orphanContainer([]);
    expect((await procs(name)).find((p) => p.pid === 1)?.comm).toBe('tini');
    await waitFor(async () => !(await procs(name)).some((p) => p.pid === orphan.pid), 'the orphan reaped');
    expect((await procs(name)).filter((p) => p.state === 'Z')).toEqual([]);
  });

  it('stay zombies with node as PID 1 (the image without tini): the control for the test above', async (ctx) => {
    needImage(ctx);
    const { name, orphan } = await orphanContainer(['node', '--max-semi-space-size=2', '--max-old-space-size=256', '/opt/mcp-gateway/bin/mcp-gateway.js', 'run']);
    expect((await procs(name)).find((p) => p.pid === 1)?.comm).toBe('node');
    const zombie = await waitFor(async () => (await procs(name)).find((p) => p.pid === orphan.pid && p.state === 'Z'), 'the orphan a zombie');
    expect(zombie.ppid).toBe(1);
  });
});
