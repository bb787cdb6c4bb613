// The derived image of README for MCP servers that need Python (examples/docker/Dockerfile.python), built
// FROM the gateway image the tests built, serving a stdio MCP server written in Python.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, fetchBounded, freePort, IMAGE, LABEL, mountableDir, needImage, ok, postJson, ROOT, tail, uniqueName, waitFor, waitRunning } from './docker.ts';

const PYTHON_IMAGE = 'mcp-gateway-test/gateway-python:test';
const containers: string[] = [];
const dirs: string[] = [];
let built = false;
afterAll(async () => {
  if (containers.length > 0) await docker('rm', '-f', ...containers.splice(0));
  if (built) await docker('rmi', PYTHON_IMAGE);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the derived image with Python (examples/docker/Dockerfile.python)', () => {
  it('builds FROM the gateway image, adds python3 and pipx, and runs as user node again', async (ctx) => {
    needImage(ctx);
    const started = Date.now();
    // UV_SPEC empty: uv comes from PyPI, which this machine does not reach (the Debian packages do).
    const build = await docker(
      'build', '--network', 'host', '--label', `${LABEL}=1`,
      '--build-arg', `GATEWAY_IMAGE=${IMAGE}`, '--build-arg', 'UV_SPEC=',
      '-t', PYTHON_IMAGE, '-f', 'examples/docker/Dockerfile.python', 'examples/docker',
    );
    expect(build.code, tail(build.stdout + build.stderr)).toBe(0);
    built = true;
    console.log(`[container] python image built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const [derived] = JSON.parse(await ok(docker('image', 'inspect', PYTHON_IMAGE))) as { Config: Record<string, unknown> }[];
    const [base] = JSON.parse(await ok(docker('image', 'inspect', IMAGE))) as { Config: Record<string, unknown> }[];
    expect(derived!.Config.User).toBe('node');
    for (const field of ['Entrypoint', 'Cmd', 'Healthcheck', 'StopSignal', 'WorkingDir']) expect(derived!.Config[field], field).toEqual(base!.Config[field]);
    const out = await ok(docker('run', '--rm', '--entrypoint', 'sh', PYTHON_IMAGE, '-c', 'id -u; python3 --version; pipx --version'));
    expect(out).toMatch(/^1000\nPython 3\.\d+\.\d+\n\d+\.\d+/);
  });

  it('serves a stdio MCP server written in Python', async (ctx) => {
    needImage(ctx);
    if (!built) throw new Error('the python image did not build (see the test above)');
    const dir = mountableDir('python');
    dirs.push(dir);
    const port = await freePort();
    copyFileSync(path.join(ROOT, 'test', 'container', 'fixtures', 'echo_server.py'), path.join(dir, 'echo_server.py'));
    // The child's cwd is the manifest's folder, so the script's relative path works.
    writeFileSync(path.join(dir, 'mcp-gateway.yaml'), `version: 1\nlisten: { host: 127.0.0.1, port: ${port} }\nservers:\n  py:\n    command: python3\n    args: [echo_server.py]\n`);
    const name = uniqueName('python');
    containers.push(name);
    await ok(docker('run', '-d', '--name', name, '--label', `${LABEL}=1`, '--network', 'host', '-v', `${dir}:/etc/mcp-gateway:ro`, PYTHON_IMAGE), 'docker run');
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetchBounded(`${url}/readyz`)).status === 200, '/readyz 200');
    await waitRunning(url, 'py');
    const r = await postJson(`${url}/mcp/py/command`, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
    expect(r.status).toBe(200);
    expect(r.body.result.content[0].text).toMatch(/^python 3\.\d+: hi$/);
  });
});
