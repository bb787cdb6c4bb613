// compose.yaml with Debian's docker-compose (1.29): build, up, the published loopback port, the health
// check, the restart policy when the gateway dies, stop and down. A test override adds only what this
// machine needs (the build's network, the stand-in base image, a label, a faster health interval); the
// manifest folder, env file and host port come through the variables compose.yaml documents.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { needTool } from '../helpers/tools.ts';
import { docker, fetchBounded, freePort, getJson, inspect, LABEL, logLines, mountableDir, needImage, ok, postJson, ROOT, run, tail, uniqueName, waitFor, waitRunning } from './docker.ts';

const COMPOSE_IMAGE = 'mcp-gateway-test/gateway:compose';
const project = uniqueName('compose');
const key = randomBytes(24).toString('base64url');
let dir = '';
let env: NodeJS.ProcessEnv = {};
let url = '';
let composeMissing: string | undefined;

const compose = (...args: string[]) => run('docker-compose', ['-p', project, '-f', 'compose.yaml', '-f', path.join(dir, 'compose.test.yaml'), ...args], { env, cwd: ROOT });

function needCompose(ctx: Parameters<typeof needImage>[0]): void {
  needImage(ctx);
  needTool(ctx, { name: 'docker-compose', missing: composeMissing, enable: 'apt-get install -y docker-compose' });
}

/** The id of the service's container (there is one). */
async function containerId(): Promise<string> {
  return (await ok(compose('ps', '-q', 'mcp-gateway'), 'docker-compose ps')).trim();
}

beforeAll(async () => {
  const setup = inject('container');
  if (setup.missing !== undefined || setup.buildError !== undefined) return;
  const version = await run('docker-compose', ['version', '--short']);
  if (version.code !== 0) {
    composeMissing = 'docker-compose is not installed';
    return;
  }
  console.log(`[container] docker-compose ${version.stdout.trim()}`);
  dir = mountableDir('compose');
  copyFileSync(path.join(ROOT, 'examples', 'docker', 'mcp-gateway.yaml'), path.join(dir, 'mcp-gateway.yaml'));
  writeFileSync(path.join(dir, 'mcp-gateway.env'), `MCP_GATEWAY_KEY=${key}\n`, { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'compose.test.yaml'),
    [
      'services:',
      '  mcp-gateway:',
      `    build: { network: host, args: { NODE_IMAGE: "${setup.nodeImage}" } }`,
      `    labels: { ${LABEL}: "1" }`,
      '    healthcheck: { interval: 1s }',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  env = {
    ...process.env,
    MCP_GATEWAY_IMAGE: COMPOSE_IMAGE,
    MCP_GATEWAY_CONFIG_DIR: dir,
    MCP_GATEWAY_ENV_FILE: path.join(dir, 'mcp-gateway.env'),
    MCP_GATEWAY_PORT: String(port),
  };
});

afterAll(async () => {
  if (dir === '') return;
  await compose('down', '--remove-orphans', '--timeout', '30');
  await docker('rmi', COMPOSE_IMAGE);
  rmSync(dir, { recursive: true, force: true });
});

describe('docker-compose with compose.yaml', () => {
  it('builds the image and starts it: /readyz 200 on the loopback port it publishes, healthy, stop grace 30 s', async (ctx) => {
    needCompose(ctx);
    const build = await compose('build');
    expect(build.code, tail(build.stdout + build.stderr)).toBe(0);
    const up = await compose('up', '-d');
    expect(up.code, tail(up.stdout + up.stderr)).toBe(0);
    const id = await containerId();
    expect((await ok(docker('port', id, '3001/tcp'))).trim()).toBe(url.slice('http://'.length));
    expect(await waitFor(async () => (await fetchBounded(`${url}/readyz`)).status === 200, '/readyz 200')).toBe(true);
    expect(await waitFor(async () => (await inspect(id, '{{.State.Health.Status}}')) === 'healthy', 'healthy')).toBe(true);
    expect(await inspect(id, '{{.Config.StopTimeout}} {{.HostConfig.RestartPolicy.Name}}')).toBe('30 unless-stopped');
    // The manifest folder, read-only.
    expect(await inspect(id, '{{range .Mounts}}{{.Destination}} {{.RW}}{{end}}')).toBe('/etc/mcp-gateway false');
  }, 480_000); // its build takes the layer cache of the image the setup built; each command is bounded (docker.ts run)

  it('answers MCP with the key from env_file, and nothing without it', async (ctx) => {
    needCompose(ctx);
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'composed' } } };
    expect((await postJson(`${url}/mcp/demo/command`, call)).status).toBe(401);
    await waitRunning(url, 'demo', key);
    const r = await postJson(`${url}/mcp/demo/command`, call, { authorization: `Bearer ${key}` });
    expect(r.status).toBe(200);
    expect(r.body.result.content).toEqual([{ type: 'text', text: 'composed' }]);
  });

  it('comes back by its restart policy when the gateway process is killed inside the container', async (ctx) => {
    needCompose(ctx);
    const id = await containerId();
    expect(await inspect(id, '{{.RestartCount}}')).toBe('0');
    const [first] = await logLines(id, 'listening');
    const pid = first!.pid as number;
    // The gateway's pid inside the container (tini is 1); SIGKILL, as the node user it runs as.
    await ok(docker('exec', id, 'sh', '-c', `kill -KILL ${pid}`), 'kill the gateway');
    // tini exits with its child, the container with tini, and the policy starts it again.
    await waitFor(async () => Number(await inspect(id, '{{.RestartCount}}')) >= 1, 'a restart');
    expect(await waitFor(async () => (await logLines(id, 'listening')).length === 2, 'a second listening line')).toBe(true);
    expect(await waitFor(async () => (await fetchBounded(`${url}/readyz`)).status === 200, '/readyz 200 again')).toBe(true);
    const servers = await getJson(`${url}/mcp/servers`, key);
    expect(servers.body.servers.map((s: { name: string }) => s.name)).toEqual(['demo']);
  });

  it('docker-compose stop: the gateway exits 0; down removes the container and its network', async (ctx) => {
    needCompose(ctx);
    const id = await containerId();
    await ok(compose('stop'), 'docker-compose stop');
    expect(await inspect(id, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 0');
    await ok(compose('down'), 'docker-compose down');
    expect((await docker('inspect', id)).code).not.toBe(0);
    expect((await ok(docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`))).trim()).toBe('');
    expect((await ok(docker('network', 'ls', '-q', '--filter', `name=${project}_default`))).trim()).toBe('');
  });
});
