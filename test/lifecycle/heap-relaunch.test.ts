// `node bin/mcp-gateway.js run` relaunches node with the heap flags and stays as the parent: signals to
// that parent reach the gateway once each, the parent ends as the gateway ends, and a gateway whose parent
// dies stops by itself. Real processes, real signals; the parent is started in a process group of its own,
// as a shell starts a job, so a "terminal Ctrl-C" is SIGINT to that whole group.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO, ROOT, alive, waitFor, type Json } from '../helpers/gateway.ts';
import { outputLines } from '../helpers/process-gateway.ts';

interface Relaunched {
  readonly parent: ChildProcess;
  readonly out: string[];
  readonly url: string;
  /** The pid of the gateway that serves (the relaunched node). */
  readonly gatewayPid: number;
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Relaunched[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) {
    for (const pid of [r.parent.pid!, r.gatewayPid]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startBare(demoEnv: Record<string, string> = {}): Promise<Relaunched> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-relaunch-'));
  dirs.push(dir);
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n    env: ${JSON.stringify(demoEnv)}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_FORMAT: 'json' };
  delete env.MCP_GATEWAY_NO_REEXEC;
  delete env.NODE_OPTIONS;
  const parent = spawn(process.execPath, [path.join(ROOT, 'bin', 'mcp-gateway.js'), 'run', '-c', file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = outputLines(parent);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => parent.once('exit', (code, signal) => resolve({ code, signal })));
  const line = JSON.parse(await waitFor(() => out.find((l) => l.includes('"msg":"listening"')), 'listening', 15_000)) as Json;
  const r: Relaunched = { parent, out, url: line.url, gatewayPid: line.pid, ended };
  started.push(r);
  return r;
}

async function demoPid(r: Relaunched): Promise<number> {
  return waitFor(async () => {
    const body = (await (await fetch(`${r.url}/mcp/servers`)).json()) as Json;
    const s = body.servers.find((x: Json) => x.name === 'demo');
    return s?.state === 'running' ? (s.pid as number) : undefined;
  }, 'demo running', 10_000);
}

const count = (r: Relaunched, msg: string): number => r.out.filter((l) => l.includes(`"msg":"${msg}"`)).length;

describe('mcp-gateway run, relaunched with the heap flags', () => {
  it('SIGTERM to the parent stops the gateway and its children; the parent exits 0', async () => {
    const r = await startBare();
    const demo = await demoPid(r);
    expect(r.gatewayPid).not.toBe(r.parent.pid);
    r.parent.kill('SIGTERM');
    expect(await r.ended).toEqual({ code: 0, signal: null });
    expect(count(r, 'shutting down')).toBe(1);
    expect(count(r, 'stopped')).toBe(1);
    await waitFor(() => !alive(r.gatewayPid) && !alive(demo), 'gateway and child gone');
  });

  it("a terminal's Ctrl-C (SIGINT to the parent's whole process group) reaches the gateway once: exit 0", async () => {
    const r = await startBare();
    const demo = await demoPid(r);
    process.kill(-r.parent.pid!, 'SIGINT');
    expect(await r.ended).toEqual({ code: 0, signal: null });
    expect(count(r, 'shutting down')).toBe(1); // twice would have been "exit at once", code 1
    await waitFor(() => !alive(r.gatewayPid) && !alive(demo), 'gateway and child gone');
  });

  it('SIGTERM to every process of the service at once (systemd KillMode=control-group) is one stop: exit 0', async () => {
    const r = await startBare();
    const demo = await demoPid(r);
    process.kill(r.gatewayPid, 'SIGTERM');
    r.parent.kill('SIGTERM'); // passed on: the gateway hears SIGTERM twice, milliseconds apart
    expect(await r.ended).toEqual({ code: 0, signal: null });
    expect(count(r, 'shutting down')).toBe(1);
    expect(r.out.some((l) => l.includes('second signal'))).toBe(false);
    await waitFor(() => !alive(r.gatewayPid) && !alive(demo), 'gateway and child gone');
  });

  it('the parent\'s SIGTERM coming long after the direct one (a loaded machine) is still the same stop: exit 0', async () => {
    const r = await startBare({ DEMO_STUBBORN: '1' });
    await demoPid(r);
    process.kill(r.gatewayPid, 'SIGTERM');
    await new Promise((res) => setTimeout(res, 600));
    r.parent.kill('SIGTERM');
    expect(await r.ended).toEqual({ code: 0, signal: null });
    expect(r.out.some((l) => l.includes('second signal'))).toBe(false);
  });

  it('a second SIGINT through the parent kills a stubborn child at once; the parent exits 1', async () => {
    const r = await startBare({ DEMO_STUBBORN: '1' });
    const demo = await demoPid(r);
    r.parent.kill('SIGINT');
    await waitFor(() => count(r, 'shutting down') === 1, 'shutting down');
    // A person's second Ctrl-C, once the stop is under way (the child has already refused SIGTERM).
    await waitFor(() => r.out.some((l) => l.includes('ignoring SIGTERM')), 'the child ignored SIGTERM', 10_000);
    r.parent.kill('SIGINT');
    expect(await r.ended).toEqual({ code: 1, signal: null });
    await waitFor(() => !alive(demo), 'the stubborn child gone');
    expect(alive(r.gatewayPid)).toBe(false);
  });

  it('SIGHUP to the parent reloads the manifest; the gateway keeps serving', async () => {
    const r = await startBare();
    const demo = await demoPid(r);
    r.parent.kill('SIGHUP');
    await waitFor(() => r.out.some((l) => l.includes('"trigger":"signal"')), 'a reload by signal');
    expect(count(r, 'reload requested')).toBe(1);
    expect(await demoPid(r)).toBe(demo);
    expect(r.parent.exitCode).toBeNull();
  });

  it('a gateway whose parent is killed (SIGKILL) shuts down by itself, and stops its children', async () => {
    const r = await startBare();
    const demo = await demoPid(r);
    r.parent.kill('SIGKILL');
    await r.ended;
    await waitFor(() => !alive(r.gatewayPid) && !alive(demo), 'gateway and child gone', 15_000);
  });

  it('the parent dies of the signal that killed the gateway', async () => {
    const r = await startBare();
    process.kill(r.gatewayPid, 'SIGKILL');
    expect(await r.ended).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
