import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, DEMO, ROOT, alive, callTool, command, running, servers, waitFor } from '../helpers/gateway.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';

const BIN = path.join(ROOT, 'bin', 'mcp-gateway.js');
const started: { proc: ChildProcess; dir?: string }[] = [];

afterEach(() => {
  for (const s of started.splice(0)) {
    if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  }
});

async function runGateway(args: string[], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const g = await spawnGateway(args, env);
  started.push({ proc: g.proc });
  return g;
}

function tempManifest(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-cli-'));
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(file, text);
  started.push({ proc: { exitCode: 0 } as ChildProcess, dir });
  return { dir, file };
}

describe('mcp-gateway run', () => {
  it('serves the default manifest with the bundled demo server, and SIGTERM leaves nothing behind', async () => {
    const g = await runGateway([]);
    const demo = await running(g.url, 'demo', 10_000);
    expect(demo.pid).toBeGreaterThan(0);
    const r = await command(g.url, 'demo', callTool(1, 'greet', { name: 'ops' }));
    expect(r.body.result.content[0].text).toBe('hello, ops!');
    g.proc.kill('SIGTERM');
    expect(await g.exited).toBe(0);
    expect(alive(demo.pid!)).toBe(false);
  });

  it('stops children and grandchildren on SIGTERM and exits 0', async () => {
    const script = `node -e 'setInterval(() => {}, 1000)' & echo "grandchild=$!" >&2; exec node ${JSON.stringify(DEMO)}`;
    const { file } = tempManifest(`version: 1\nservers:\n  family:\n    command: sh\n    args: ["-c", ${JSON.stringify(script)}]\n`);
    const g = await runGateway(['--config', file]);
    const child = await running(g.url, 'family', 10_000);
    const lines: string[] = await waitFor(async () => {
      const l: string[] = (await getJson(`${g.url}/mcp/family/stderr`)).lines;
      return l.some((x) => x.startsWith('grandchild=')) ? l : undefined;
    }, 'grandchild pid');
    const grandchild = Number(lines.find((x) => x.startsWith('grandchild='))!.split('=')[1]);
    g.proc.kill('SIGTERM');
    expect(await g.exited).toBe(0);
    expect(alive(child.pid!)).toBe(false);
    await waitFor(() => !alive(grandchild), 'grandchild gone', 2000);
  });

  it('reloads on SIGHUP', async () => {
    const { file } = tempManifest(`version: 1\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n`);
    const g = await runGateway(['--config', file]);
    await running(g.url, 'demo', 10_000);
    g.proc.kill('SIGHUP');
    await waitFor(() => g.out.some((l) => l.includes('"trigger":"signal"') && l.includes('reload: kept demo')), 'reload logged');
    expect((await servers(g.url)).manifest.state).toBe('ok');
  });

  it('refuses to start on an invalid manifest and says where', async () => {
    const { file } = tempManifest('version: 1\nservers:\n  demo:\n    comand: node\n');
    const r = spawnSync(process.execPath, [BIN, 'run', '--config', file], { encoding: 'utf8', env: { ...process.env, PORT: '0' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:4:5:`);
  });
});

describe('secrets', () => {
  it('never shows an env value in API answers or log lines', async () => {
    const marker = 'S3CRET-MARKER-4711';
    const { file } = tempManifest(
      `version: 1\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n    env: { API_TOKEN: "\${TEST_TOKEN}", OTHER: "${marker}-inline" }\n`,
    );
    const g = await runGateway(['--config', file], { TEST_TOKEN: marker });
    await running(g.url, 'demo', 10_000);
    const answers = [
      await (await fetch(`${g.url}/`)).text(),
      await (await fetch(`${g.url}/mcp/servers`)).text(),
      await (await fetch(`${g.url}/mcp/demo/stderr`)).text(),
      JSON.stringify((await command(g.url, 'demo', callTool(1, 'echo', { text: 'x' }))).body),
    ];
    writeFileSync(file, `version: 1\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n    env: { API_TOKEN: "\${TEST_TOKEN}", BROKEN: 5 }\n`);
    await waitFor(async () => (await servers(g.url)).manifest.state === 'error', 'error shown');
    answers.push(await (await fetch(`${g.url}/mcp/servers`)).text());
    g.proc.kill('SIGTERM');
    await g.exited;
    for (const text of [...answers, ...g.out]) expect(text).not.toContain(marker);
    expect(g.out.length).toBeGreaterThan(3);
  });
});
