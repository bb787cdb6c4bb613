// The effects of one child process: spawn it in its own process group (under its resource limits, see
// limits-host.ts), read its stderr as lines, and stop the whole group (stdin close → SIGTERM → SIGKILL) so
// no grandchild is left behind.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { LimitsSpec } from '../config/types.ts';
import { LineSplitter, type Oversize } from '../router/framing.ts';
import { applyLimits, type LimitsLog } from './limits-host.ts';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (ENOENT, EACCES). */
  readonly error?: string;
  /** With a memory limit: whether the kernel's OOM killer ended the child (or a process of its cgroup). */
  readonly oomKilled?: boolean;
}

export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The server's name: names its cgroup, and the warnings about limits that cannot be applied. */
  readonly server?: string;
  readonly limits?: LimitsSpec;
}

export interface ChildHandle {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves once, when the leader has exited (or failed to spawn) and its stdout is drained. */
  readonly exited: Promise<ExitInfo>;
  /** Stops the whole group; resolves when the leader is gone. Safe to call more than once. */
  stop(stopTimeoutMs: number): Promise<ExitInfo>;
}

const STDIN_GRACE_MS = 1000;
const STDERR_MAX_LINE = 16 * 1024;

/**
 * The process groups (pgid = the leader's pid) of every child this process spawned whose group may still
 * hold a process: added at spawn, removed once the group is seen empty (at the leader's exit, by a stop
 * or a reap) or SIGKILLed. The kernel reuses no pid that is still a live group's id, so a pgid in here
 * names one of our groups. Only for killChildGroupsNow(); the orderly stop goes through each child's stop().
 */
const liveGroups = new Set<number>();

/**
 * SIGKILLs every child process group still alive, synchronously: for a second Ctrl-C, when the gateway
 * exits at once and must not leave children (which live in groups of their own) running. Returns how many
 * groups were signalled.
 */
export function killChildGroupsNow(): number {
  let n = 0;
  for (const pgid of liveGroups) if (signalGroup(pgid, 'SIGKILL')) n++;
  liveGroups.clear();
  return n;
}

/** `log` hears of limits that cannot be applied (once per server and limit) and of cgroups left behind. */
export function spawnChild(spec: SpawnSpec, onStderrLine: (line: string) => void, log?: LimitsLog): ChildHandle {
  const server = spec.server ?? 'child';
  const { command, args, cgroups } = applyLimits(server, spec.limits ?? {}, spec.command, spec.args, log);
  let released: Promise<void> | undefined;
  const release = (): Promise<void> | undefined =>
    (released ??= cgroups?.release().catch((err: Error) => log?.warn({ server, reason: err.message }, 'cgroup not removed')));
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(command, [...args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group (pgid = pid), so a stop reaches grandchildren too
    });
  } catch (err) {
    void release();
    throw err;
  }
  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);

  // stderr is read continuously: a child blocked on a full stderr pipe would freeze. It is a log, so a
  // line past 16 KiB is cut (a child that prints a whole file on one line must not cost the gateway).
  const splitter = new LineSplitter(STDERR_MAX_LINE);
  const cut = (o: Oversize): void => onStderrLine(`${o.head.toString('utf8')} …[line of ${o.bytes} bytes cut]`);
  child.stderr.on('data', (chunk: Buffer) => splitter.push(chunk, onStderrLine, cut));
  child.stderr.once('end', () => splitter.flush(onStderrLine, cut));

  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (pid !== undefined) return;
      void release();
      resolve({ code: null, signal: null, error: err.code ?? err.message });
    });
    child.once('exit', (code, signal) => {
      signalGroup(pid, 0); // forgets the group if the leader was its last member
      // The counters go with the cgroup: read them now, then remove it once the group has emptied.
      const oomKilled = cgroups?.oomKilled(signal);
      void release();
      // Let stdout drain what the child wrote just before it exited, but never wait on a grandchild
      // that keeps the pipe open.
      const info: ExitInfo = oomKilled === undefined ? { code, signal } : { code, signal, oomKilled };
      if (child.stdout.readableEnded) resolve(info);
      else {
        const t = setTimeout(() => resolve(info), 100);
        child.stdout.once('end', () => {
          clearTimeout(t);
          resolve(info);
        });
      }
    });
  });

  let stopping: Promise<ExitInfo> | undefined;
  const stop = (stopTimeoutMs: number): Promise<ExitInfo> => {
    stopping ??= stopGroup(child, pid, exited, stopTimeoutMs).then(async (info) => {
      // The group is gone: whatever is still in the cgroups left it (setsid) and ends now.
      cgroups?.hurry();
      await release();
      return info;
    });
    return stopping;
  };

  return { pid, stdin: child.stdin, stdout: child.stdout, exited, stop };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    liveGroups.delete(pid);
    return false; // ESRCH: nobody left in the group
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function stopGroup(
  child: ChildProcessWithoutNullStreams,
  pid: number | undefined,
  exited: Promise<ExitInfo>,
  stopTimeoutMs: number,
): Promise<ExitInfo> {
  // 1. Close stdin: the MCP stdio spec's polite "please go".
  child.stdin.end();
  let info = await raceTimeout(exited, Math.min(STDIN_GRACE_MS, stopTimeoutMs));
  // 2. SIGTERM the group, 3. SIGKILL it after stopTimeout.
  if (info === undefined) {
    signalGroup(pid, 'SIGTERM');
    info = await raceTimeout(exited, stopTimeoutMs);
  }
  if (info === undefined) {
    signalGroup(pid, 'SIGKILL');
    info = await exited;
  }
  await reapGroup(pid, stopTimeoutMs);
  return info;
}

/** After the leader is gone, ends whatever else is left in its group (grandchildren), TERM then KILL. */
export async function reapGroup(pid: number | undefined, stopTimeoutMs: number): Promise<void> {
  if (!signalGroup(pid, 'SIGTERM')) return;
  const deadline = Date.now() + stopTimeoutMs;
  while (Date.now() < deadline) {
    await delay(50);
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, 'SIGKILL');
  if (pid !== undefined) liveGroups.delete(pid);
}
