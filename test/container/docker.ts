// The container tests' side of Docker: commands run through the real `docker` and `docker-compose` CLIs
// against the machine's engine, names and labels for what the tests create (so that teardown removes
// exactly that), and small readers of what the CLIs print. `npm run test:container` (vitest.container.config.ts).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject, type TestContext } from 'vitest';
import { needTool, type Tool } from '../helpers/tools.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every container, image and compose project the tests make carries this label or name prefix. */
export const LABEL = 'mcp-gateway-test';
/** The gateway image the tests build from the repository's Dockerfile (removed after the run). */
export const IMAGE = 'mcp-gateway-test/gateway:test';

/** What global-setup.ts found and built, for every test file. */
export interface ContainerSetup {
  /** Why the tests cannot run here (no engine), or undefined. */
  readonly missing: string | undefined;
  readonly enable: string;
  /** The base image the gateway image was built FROM (NODE_IMAGE). */
  readonly nodeImage: string;
  /** The `docker build` output's tail when the Dockerfile did not build. */
  readonly buildError: string | undefined;
  readonly buildSeconds: number | undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    container: ContainerSetup;
  }
}

/** Goes on when an engine answers and the image was built; skips (fails under CI=true) without an engine. */
export function needImage(ctx: TestContext): ContainerSetup {
  const setup = inject('container');
  const tool: Tool = { name: 'a Docker engine', missing: setup.missing, enable: setup.enable };
  needTool(ctx, tool);
  if (setup.buildError !== undefined) throw new Error(`the gateway image did not build:\n${setup.buildError}`);
  return setup;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; never throws for an exit code (see ok()). */
/** A docker or compose command that runs longer is killed and fails, saying so (rather than the test timing out mute). */
const COMMAND_MS = 6 * 60_000;

export function run(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  const timeout = options.timeoutMs ?? COMMAND_MS;
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, maxBuffer: 256 * 2 ** 20, timeout },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 127;
        const killed = err !== null && err.killed === true ? `\n(${cmd} ${args.slice(0, 3).join(' ')}… killed after ${timeout / 1000} s: it did not finish)` : '';
        resolve({ code, stdout, stderr: stderr + (err !== null && typeof err.code !== 'number' ? String(err.message) : '') + killed });
      },
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

export const docker = (...args: string[]): Promise<Run> => run('docker', args);

/** The stdout of a command that must succeed. */
export async function ok(result: Promise<Run> | Run, what = 'command'): Promise<string> {
  const r = await result;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr || r.stdout}`);
  return r.stdout;
}

/** The last lines of a long output, for error messages. */
export const tail = (text: string, lines = 40): string => text.trimEnd().split('\n').slice(-lines).join('\n');

/** A TCP port free on 127.0.0.1 right now (the container binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * A new folder to mount into a container: readable by its user (node, uid 1000), as a manifest folder must
 * be (mkdtemp makes it 0700, root's only: the gateway would fail with "permission denied").
 */
export function mountableDir(what: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `mcp-gw-${what}-`));
  chmodSync(dir, 0o755);
  return dir;
}

let counter = 0;
/** A name no other test run uses at the same time. */
export const uniqueName = (what: string): string => `${LABEL}-${what}-${process.pid}-${++counter}`;

/**
 * A request to a container's published port that cannot hang: a port docker-proxy accepts while the
 * container behind it does not answer yet would otherwise hold a fetch until undici's 300 s header timeout.
 */
export function fetchBounded(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(PROBE_MS) });
}

/** How long one probe of waitFor (or one fetchBounded) may take before it counts as a failed try. */
const PROBE_MS = 10_000;

export async function waitFor<T>(probe: () => Promise<T> | T, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> {
  // A guard against hanging, not a bound on speed: the tests assert what happens, never how fast.
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`a probe took over ${PROBE_MS} ms`)), PROBE_MS)));
      const v = await Promise.race([Promise.resolve().then(probe), bound]).finally(() => clearTimeout(timer));
      if (v !== undefined && v !== null && v !== false) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly stat: string;
  readonly args: string;
}

/** `docker top` with pid, ppid, uid: the container's live processes, as the host sees them (host pids). */
export async function top(container: string): Promise<Proc[]> {
  const out = await ok(docker('top', container, '-eo', 'pid,ppid,uid,stat,args'), 'docker top');
  return out
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [pid, ppid, uid, stat, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), uid: Number(uid), stat: stat!, args: args.join(' ') };
    });
}

/**
 * Every process in the container's pid namespace, zombies included, read from /proc inside it (`docker
 * top` cannot show zombies: an exited task has left its cgroup). Container pids; the reader is left out.
 */
export async function procs(container: string): Promise<{ pid: number; comm: string; state: string; ppid: number }[]> {
  const out = await ok(docker('exec', container, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null; echo "self $$"'), 'docker exec cat /proc');
  const lines = out.trim().split('\n');
  const self = Number(lines.pop()!.split(' ')[1]);
  return lines
    .map((l) => /^(\d+) \((.*)\) (\S) (\d+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), comm: m[2]!, state: m[3]!, ppid: Number(m[4]) }))
    .filter((p) => p.pid !== self && p.ppid !== self);
}

export async function inspect(container: string, format: string): Promise<string> {
  return (await ok(docker('inspect', '-f', format, container), 'docker inspect')).trim();
}

/** The gateway's JSON log lines with this msg, from `docker logs` (stdout). */
export async function logLines(container: string, msg: string): Promise<Record<string, unknown>[]> {
  const out = await ok(docker('logs', container), 'docker logs');
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

/** A process of the host is gone (exited and reaped). */
export function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function getJson(url: string, key?: string): Promise<{ status: number; body: any }> {
  const res = await fetchBounded(url, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetchBounded(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
}

/** Waits until the gateway at url reports the server `running` (its MCP handshake done); its row. */
export async function waitRunning(url: string, server: string, key?: string): Promise<{ name: string; state: string; pid: number }> {
  return waitFor(async () => {
    const r = await getJson(`${url}/mcp/servers`, key);
    const row = (r.body?.servers ?? []).find((s: { name: string }) => s.name === server);
    return row?.state === 'running' ? row : undefined;
  }, `server ${server} running`);
}
