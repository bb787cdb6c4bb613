// Resource limits planned without touching the OS: what the host offers (as probed once, see
// limits-host.ts and cgroup.ts) and a server's LimitsSpec in, the command line that applies the rlimits and
// the cgroup file writes out. Also the parsers of the /proc and cgroup files those decisions rest on.
// Everything here is pure: unit-tested without processes or cgroups.
import type { LimitsSpec } from '../config/types.ts';

export type LimitName = 'memory' | 'cpu' | 'files' | 'processes';
export type CgroupController = 'memory' | 'cpu';

/** A way to apply something, or the reason there is none (said once in the log, per server and limit). */
export type Available<T> = T | { readonly unavailable: string };

export function isAvailable<T extends object>(a: Available<T>): a is T {
  return !('unavailable' in a);
}

/** One cgroup hierarchy the gateway can make cgroups in, as the probe found and prepared it. */
export interface CgroupHierarchy {
  readonly version: 1 | 2;
  /** The directory per-child cgroups are made in (…/mcp-gateway); it exists and takes mkdir. */
  readonly parent: string;
  /** Files a fresh cgroup there has: some are optional (memory.memsw.*, memory.swap.max, memory.oom.group). */
  readonly files: ReadonlySet<string>;
}

/** What the host offers, probed once per process. */
export interface HostLimits {
  /** Absolute path of util-linux's prlimit, which sets rlimits and then execs (the pid stays the child's). */
  readonly prlimit: Available<{ readonly path: string }>;
  /** The gateway's own hard rlimits (Infinity: unlimited): a child gets more only if the gateway may raise them. */
  readonly hard: { readonly files: number; readonly processes: number };
  /** CAP_SYS_RESOURCE: may raise a hard rlimit. */
  readonly canRaise: boolean;
  /** fs.nr_open: no RLIMIT_NOFILE above it, whoever asks. */
  readonly nrOpen: number;
  readonly memory: Available<CgroupHierarchy>;
  readonly cpu: Available<CgroupHierarchy>;
}

export interface CgroupWrite {
  /** A file of the cgroup's directory. */
  readonly file: string;
  readonly value: string;
}

/** One cgroup of the child's own, in one hierarchy (v1 has one per controller, v2 one for all). */
export interface CgroupPlan {
  readonly version: 1 | 2;
  readonly dir: string;
  /** The limits it carries: named in the warning when it cannot be made. */
  readonly limits: readonly CgroupController[];
  /** In order: v1 takes memory.memsw only once memory.limit_in_bytes is at most as high. */
  readonly writes: readonly CgroupWrite[];
  /** A file whose `oom_kill N` line counts the kernel's OOM kills inside (memory cgroups only). */
  readonly oomCounter?: string;
  /** v1 before 4.13 has no oom_kill line: hitting the limit, then a SIGKILL, is the next best sign. */
  readonly failCounter?: string;
}

export interface LimitsPlan {
  /** prlimit and its flags, or undefined when no rlimit is to be set. */
  readonly prlimit: { readonly path: string; readonly flags: readonly string[] } | undefined;
  readonly cgroups: readonly CgroupPlan[];
  /** Requested limits that cannot be applied here, with the reason. */
  readonly skipped: readonly { readonly limit: LimitName; readonly reason: string }[];
}

/** The cgroup's name: the gateway's pid, the server and a counter, so two gateways or two children never collide. */
export function cgroupLeaf(gatewayPid: number, server: string, n: number): string {
  return `${gatewayPid}-${server}-${n}`;
}

export function wantsCgroup(limits: LimitsSpec): boolean {
  return limits.memoryBytes !== undefined || limits.cpuPercent !== undefined;
}

export function wantsAny(limits: LimitsSpec): boolean {
  return wantsCgroup(limits) || limits.files !== undefined || limits.processes !== undefined;
}

/** Decides how each requested limit is applied here, or why it cannot be. */
export function planLimits(limits: LimitsSpec, host: HostLimits, leaf: string): LimitsPlan {
  const skipped: { limit: LimitName; reason: string }[] = [];
  const flags: string[] = [];
  const rlimit = (limit: 'files' | 'processes', flag: string, n: number | undefined): void => {
    if (n === undefined) return;
    if (!isAvailable(host.prlimit)) return void skipped.push({ limit, reason: host.prlimit.unavailable });
    if (limit === 'files' && n > host.nrOpen) return void skipped.push({ limit, reason: `${n} is above fs.nr_open (${host.nrOpen})` });
    const hard = host.hard[limit];
    if (n > hard && !host.canRaise) {
      return void skipped.push({ limit, reason: `${n} is above the gateway's own hard limit (${hard}), and raising it needs CAP_SYS_RESOURCE` });
    }
    flags.push(`--${flag}=${n}:${n}`); // soft = hard: the child cannot raise it back
  };
  rlimit('files', 'nofile', limits.files);
  rlimit('processes', 'nproc', limits.processes);

  const byDir = new Map<string, { version: 1 | 2; limits: CgroupController[]; writes: CgroupWrite[]; oomCounter?: string; failCounter?: string }>();
  const cgroupFor = (h: CgroupHierarchy) => {
    const dir = `${h.parent}/${leaf}`;
    let c = byDir.get(dir);
    if (c === undefined) byDir.set(dir, (c = { version: h.version, limits: [], writes: [] }));
    return c;
  };
  if (limits.memoryBytes !== undefined) {
    const h = host.memory;
    if (!isAvailable(h)) skipped.push({ limit: 'memory', reason: h.unavailable });
    else {
      const c = cgroupFor(h);
      c.limits.push('memory');
      c.writes.push(...memoryWrites(h, limits.memoryBytes));
      c.oomCounter = h.version === 2 ? 'memory.events' : 'memory.oom_control';
      if (h.version === 1 && h.files.has('memory.failcnt')) c.failCounter = 'memory.failcnt';
    }
  }
  if (limits.cpuPercent !== undefined) {
    const h = host.cpu;
    if (!isAvailable(h)) skipped.push({ limit: 'cpu', reason: h.unavailable });
    else {
      const c = cgroupFor(h);
      c.limits.push('cpu');
      const { quota, period } = cpuQuota(limits.cpuPercent);
      c.writes.push(
        ...(h.version === 2
          ? [{ file: 'cpu.max', value: `${quota} ${period}` }]
          : [{ file: 'cpu.cfs_period_us', value: String(period) }, { file: 'cpu.cfs_quota_us', value: String(quota) }]),
      );
    }
  }
  const cgroups = [...byDir].map(([dir, c]): CgroupPlan => ({ dir, ...c }));
  return { prlimit: flags.length > 0 && isAvailable(host.prlimit) ? { path: host.prlimit.path, flags } : undefined, cgroups, skipped };
}

function memoryWrites(h: CgroupHierarchy, bytes: number): CgroupWrite[] {
  const value = String(bytes);
  if (h.version === 1) {
    // Without memsw the child would swap past its limit instead of being stopped by it.
    return [{ file: 'memory.limit_in_bytes', value }, ...(h.files.has('memory.memsw.limit_in_bytes') ? [{ file: 'memory.memsw.limit_in_bytes', value }] : [])];
  }
  return [
    { file: 'memory.max', value },
    // v2 counts swap apart: none, so the limit bounds RAM and swap together as v1's memsw does.
    ...(h.files.has('memory.swap.max') ? [{ file: 'memory.swap.max', value: '0' }] : []),
    // An OOM ends the whole child, not one of its processes chosen by the kernel: no half-dead server.
    ...(h.files.has('memory.oom.group') ? [{ file: 'memory.oom.group', value: '1' }] : []),
  ];
}

const CPU_PERIOD_US = 100_000;
const CPU_MIN_QUOTA_US = 1_000; // the kernel refuses less
const CPU_MAX_PERIOD_US = 1_000_000;

/** CFS bandwidth for a share of one CPU (percent): quota per period, both in µs, as cpu.max and cfs_* take them. */
export function cpuQuota(percent: number): { quota: number; period: number } {
  const quota = Math.round((percent * CPU_PERIOD_US) / 100);
  if (quota >= CPU_MIN_QUOTA_US) return { quota, period: CPU_PERIOD_US };
  // Below 1% the quota would be under the kernel's minimum: stretch the period instead (up to 1 s).
  return { quota: CPU_MIN_QUOTA_US, period: Math.min(CPU_MAX_PERIOD_US, Math.round((CPU_MIN_QUOTA_US * 100) / percent)) };
}

/**
 * The command line that starts `command` under the plan, with the same pid from the first instruction on
 * (every step execs, none forks), so it stays its process group's leader and the supervisor's signals
 * reach it. A shell first writes its own pid into each cgroup's procs file: the child is inside before its
 * command runs, so nothing it forks escapes. `$0` and `$@` carry the rest as argv, never through the shell.
 */
export function wrapCommand(
  command: string,
  args: readonly string[],
  prlimit: LimitsPlan['prlimit'],
  joins: readonly string[],
): { command: string; args: readonly string[] } {
  const inner = prlimit === undefined ? [command, ...args] : [prlimit.path, ...prlimit.flags, '--', command, ...args];
  if (joins.length === 0) return { command: inner[0]!, args: inner.slice(1) };
  const script = [...joins.map((f) => `echo $$ > ${shellQuote(f)}`), 'exec "$0" "$@"'].join(' && ');
  return { command: '/bin/sh', args: ['-c', script, ...inner] };
}

export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The `oom_kill` count of memory.events (v2) or memory.oom_control (v1); undefined when there is no such line. */
export function oomKills(text: string): number | undefined {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m === null ? undefined : Number(m[1]);
}

/** Whether the kernel's OOM killer ended something in the cgroup, from its counters at the child's exit. */
export function wasOomKilled(counter: string | undefined, failcnt: string | undefined, signal: NodeJS.Signals | null): boolean {
  const kills = counter === undefined ? undefined : oomKills(counter);
  if (kills !== undefined) return kills > 0;
  return signal === 'SIGKILL' && Number(failcnt ?? 0) > 0;
}

/** What the status says of a child the OOM killer ended. */
export function oomMessage(limits: LimitsSpec): string {
  return limits.memoryBytes === undefined ? 'killed by the kernel: out of memory' : `killed by the kernel: over its memory limit of ${formatBytes(limits.memoryBytes)}`;
}

/** 67108864 → "64 MiB": the largest binary unit that keeps it whole, else to one decimal. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

// ---- Parsers of what the probe reads ------------------------------------------------------------------

/** Soft limits from /proc/<pid>/limits, or hard ones; Infinity for "unlimited". */
export function parseProcLimits(text: string, which: 'soft' | 'hard' = 'soft'): { files: number; processes: number } {
  const get = (label: string): number => {
    const m = new RegExp(`^${label}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
    const v = m?.[which === 'soft' ? 1 : 2];
    return v === undefined || v === 'unlimited' ? Infinity : Number(v);
  };
  return { files: get('Max open files'), processes: get('Max processes') };
}

/** Whether /proc/self/status's CapEff holds capability number `cap` (CAP_SYS_RESOURCE is 24). */
export function hasCapability(status: string, cap: number): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(status);
  return m !== null && ((BigInt(`0x${m[1]}`) >> BigInt(cap)) & 1n) === 1n;
}

export interface CgroupMount {
  readonly version: 1 | 2;
  /** Where it is mounted. */
  readonly mountPoint: string;
  /** Which cgroup of the hierarchy the mount shows at its mount point ("/" unless bind-mounted deeper). */
  readonly root: string;
  /** v1: the controllers bound to it. */
  readonly controllers: readonly string[];
}

/** The cgroup mounts in /proc/self/mountinfo. */
export function parseMountInfo(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0) continue;
    const fsType = fields[dash + 1];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({
      version: fsType === 'cgroup2' ? 2 : 1,
      mountPoint: unescape(fields[4] ?? ''),
      root: unescape(fields[3] ?? '/'),
      controllers: fsType === 'cgroup2' ? [] : (fields[dash + 3] ?? '').split(','),
    });
  }
  return out;
}

/** /proc/self/cgroup: the process's own cgroup path per v1 controller, and in v2 (`unified`). */
export function parseProcCgroup(text: string): { unified?: string; v1: ReadonlyMap<string, string> } {
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    if (m[1] === '0' && m[2] === '') unified = m[3]!;
    else for (const c of m[2]!.split(',')) v1.set(c, m[3]!);
  }
  return unified === undefined ? { v1 } : { unified, v1 };
}

/**
 * The directory of the process's own cgroup in a mount, or undefined when the mount does not show it (a
 * mount of another part of the hierarchy). Inside a cgroup namespace both paths start at the namespace's root.
 */
export function ownCgroupDir(mount: CgroupMount, ownPath: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (ownPath !== root && !ownPath.startsWith(`${root}/`)) return undefined;
  const rel = ownPath.slice(root.length).replace(/\/+$/, '');
  return `${mount.mountPoint.replace(/\/+$/, '')}${rel}`;
}
