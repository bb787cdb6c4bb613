// ecosystem.config.cjs under the real PM2 (installed by this test into .cache/pm2, pinned), with PM2_HOME
// in a temp folder so it never meets a user's own PM2, and PORT set to a free port: the shipped manifest
// and its demo server, as `pm2 start ecosystem.config.cjs` runs them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HEAP_FLAGS } from '../../bin/heap-flags.js';
import { ROOT, alive, waitFor, type Json } from '../helpers/gateway.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';
import { needTool } from '../helpers/tools.ts';

const PM2_VERSION = '6.0.8';
const CACHE = path.join(ROOT, '.cache', 'pm2');
const PM2_BIN = path.join(CACHE, 'node_modules', 'pm2', 'bin', 'pm2');

/** Installs the pinned pm2 into .cache/pm2 unless it is there; why it cannot be used, or undefined. */
function installPm2(): string | undefined {
  const pkg = path.join(CACHE, 'node_modules', 'pm2', 'package.json');
  if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version === PM2_VERSION) return undefined;
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(path.join(CACHE, 'package.json'), '{"private":true}\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', CACHE, `pm2@${PM2_VERSION}`], { encoding: 'utf8' });
  if (r.error !== undefined) return `npm cannot run (${r.error.message})`;
  if (r.status !== 0) return `npm install pm2@${PM2_VERSION} failed: ${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join(' ')}`;
  return undefined;
}

let pm2Home: string | undefined;
afterEach(async () => {
  await closeClients();
  if (pm2Home === undefined) return;
  // Stops the daemon and whatever it still runs (after a failed test too: a gateway may still drain).
  await pm2(['kill']);
  rmSync(pm2Home, { recursive: true, force: true });
  pm2Home = undefined;
}, 90_000);

interface Run {
  readonly code: number | null;
  readonly out: string;
}

let port = 0;

/** `pm2 args…` in the checkout, against the test's PM2_HOME, with PORT set; async, so this process keeps serving its fetches. */
function pm2(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: pm2Home, PORT: String(port) };
  for (const k of Object.keys(env)) if (k.startsWith('MCP_GATEWAY_') || k.startsWith('pm_')) delete env[k];
  const proc = spawn(process.execPath, [PM2_BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, out })));
}

interface Pm2App {
  name: string;
  pid: number;
  pm2_env: { status: string; exec_mode: string; node_args: string[]; restart_time: number };
}

async function jlist(): Promise<Pm2App[]> {
  const r = await pm2(['jlist']);
  expect(r.code, r.out).toBe(0);
  return JSON.parse(r.out.slice(r.out.indexOf('['))) as Pm2App[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port: p } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return p;
}

/** The gateway's JSON log lines, as PM2 keeps them. */
const logLines = (): Json[] => {
  const file = path.join(pm2Home!, 'logs', 'mcp-gateway-out-0.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Json);
};

async function runningDemo(url: string): Promise<number> {
  return waitFor(async () => {
    const body = (await (await fetch(`${url}/mcp/servers`)).json()) as Json;
    return body.servers.find((s: Json) => s.name === 'demo' && s.state === 'running')?.pid as number | undefined;
  }, 'demo running');
}

/** V8's heap limit in MB with `flags` on node's command line, as the gateway's listening line reports it. */
function heapLimitMbWith(flags: readonly string[]): number {
  const r = spawnSync(process.execPath, [...flags, '-p', "Math.round(require('node:v8').getHeapStatistics().heap_size_limit / 2 ** 20)"], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('ecosystem.config.cjs under PM2', () => {
  it('pm2 start serves the manifest in one fork with the heap flags; SIGHUP reloads; a crash restarts; pm2 stop drains and leaves no child', { timeout: 300_000 }, async (ctx) => {
    needTool(ctx, { name: `pm2 ${PM2_VERSION} (the test installs it into .cache/pm2)`, missing: installPm2(), enable: `npm install --prefix .cache/pm2 pm2@${PM2_VERSION} (needs the npm registry)` });
    pm2Home = mkdtempSync(path.join(tmpdir(), 'mcp-gw-pm2-'));
    port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    const started = await pm2(['start', 'ecosystem.config.cjs']);
    expect(started.code, started.out).toBe(0);
    const [app] = await jlist();
    expect(app?.name).toBe('mcp-gateway');
    expect(app?.pm2_env.status).toBe('online');
    expect(app?.pm2_env.exec_mode).toBe('fork_mode');
    expect(app?.pm2_env.node_args).toEqual(HEAP_FLAGS);
    const gatewayPid = app!.pid;

    await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 'GET /healthz 200', 30_000);
    // The process PM2 watches is the one that serves: with the flags given, bin/ did not start node again.
    const listening = await waitFor(() => logLines().find((l) => l.msg === 'listening'), 'the listening log line');
    expect(listening.pid).toBe(gatewayPid);
    expect(listening.heapLimitMb).toBe(heapLimitMbWith(HEAP_FLAGS));

    const { client } = await connect(`${url}/mcp/demo/mcp`);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    await closeClients();
    const demoPid = await runningDemo(url);

    // A manifest reload without PM2's own restart: the gateway re-reads it, the unchanged demo keeps its pid.
    const signalled = await pm2(['sendSignal', 'SIGHUP', 'mcp-gateway']);
    expect(signalled.code, signalled.out).toBe(0);
    await waitFor(() => logLines().find((l) => l.msg === 'reload requested' && l.signal === 'SIGHUP'), 'reload requested');
    expect((await jlist())[0]?.pid).toBe(gatewayPid);
    expect(await runningDemo(url)).toBe(demoPid);

    // A crash: PM2 starts the gateway again (autorestart), and the old child went with the old gateway.
    process.kill(gatewayPid, 'SIGKILL');
    const restarted = await waitFor(async () => (await jlist()).find((a) => a.pid !== gatewayPid && a.pid > 0 && a.pm2_env.status === 'online'), 'a new gateway', 30_000);
    expect(restarted.pm2_env.restart_time).toBe(1);
    await waitFor(() => !alive(gatewayPid) && !alive(demoPid), 'the crashed gateway and its child gone');
    await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 'GET /healthz 200 again', 30_000);
    const newDemoPid = await runningDemo(url);

    // A call that outlasts PM2's default kill_timeout (1.6 s): it is answered only if PM2 waits for the
    // drain, and only if the child was not signalled together with the gateway (treekill: false).
    const slow = fetch(`${url}/mcp/demo/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 4000, steps: 2 } } }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }), (e: Error) => ({ status: 0, body: e.message }));
    await waitFor(async () => ((await (await fetch(`${url}/mcp/servers`)).json()) as Json).servers[0].inFlight === 1, 'the call in flight');
    await closeClients();

    const stopped = await pm2(['stop', 'mcp-gateway']);
    expect(stopped.code, stopped.out).toBe(0);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: 1, result: { content: [{ text: 'waited 4000ms' }] } });
    expect((await jlist())[0]?.pm2_env.status).toBe('stopped');
    await waitFor(() => !alive(restarted.pid) && !alive(newDemoPid), 'gateway and demo child gone');
    const lines = logLines();
    expect(lines.filter((l) => l.msg === 'shutting down').map((l) => l.signal)).toEqual(['SIGINT']);
    expect(lines.at(-1)?.msg).toBe('stopped');
  });
});
