// The host side of a server's `limits`: probe once per process what this machine offers (prlimit, the
// gateway's own rlimits, writable cgroups), plan with limits.ts, make the child's cgroups, and say once per
// server and limit what cannot be applied. The child then starts without that limit rather than not at all.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LimitsSpec } from '../config/types.ts';
import { ChildCgroups, probeCgroups } from './cgroup.ts';
import { cgroupLeaf, hasCapability, parseProcLimits, planLimits, wantsAny, wantsCgroup, wrapCommand, type Available, type HostLimits, type LimitName } from './limits.ts';

/** Where limits report what they could not do: the supervisor's logger. */
export interface LimitsLog {
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface AppliedLimits {
  readonly command: string;
  readonly args: readonly string[];
  /** The child's cgroups, or undefined when it has none. */
  readonly cgroups: ChildCgroups | undefined;
}

type RlimitHost = Omit<HostLimits, 'memory' | 'cpu'>;

/** Probed at the first child that needs it, then kept for the process's life (cgroups: see probeCgroups). */
let rlimitHost: RlimitHost | undefined;
let counter = 0;
/** `server\0limit` pairs already warned about: a crash loop must not repeat the same warning every second. */
const warned = new Set<string>();

const NOT_PROBED = { unavailable: 'not probed' } as const;

/**
 * The command line that starts `command` with `limits` applied, and the cgroups made for it (the caller
 * releases them after the child's exit). Logs neither the command line nor the environment.
 */
export function applyLimits(server: string, limits: LimitsSpec, command: string, args: readonly string[], log: LimitsLog | undefined): AppliedLimits {
  if (!wantsAny(limits)) return { command, args, cgroups: undefined };
  if (limits.files !== undefined || limits.processes !== undefined) rlimitHost ??= probeRlimits();
  const host: HostLimits = {
    ...(rlimitHost ?? { prlimit: NOT_PROBED, hard: { files: Infinity, processes: Infinity }, canRaise: false, nrOpen: 0 }),
    ...(wantsCgroup(limits) ? probeCgroups() : { memory: NOT_PROBED, cpu: NOT_PROBED }),
  };
  const plan = planLimits(limits, host, cgroupLeaf(process.pid, server, ++counter));
  const notApplied = (limit: LimitName, reason: string): void => {
    const key = `${server}\0${limit}`;
    if (warned.has(key)) return;
    warned.add(key);
    log?.warn({ server, limit, reason }, `${reason}: ${limit} limit of server ${server} not applied`);
  };
  for (const s of plan.skipped) notApplied(s.limit, s.reason);
  const { cgroups, failed } = ChildCgroups.create(plan.cgroups);
  for (const f of failed) for (const limit of f.limits) notApplied(limit, f.reason);
  const wrapped = wrapCommand(command, args, plan.prlimit, cgroups?.joins ?? []);
  return { command: wrapped.command, args: wrapped.args, cgroups };
}

function probeRlimits(): RlimitHost {
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  const limits = read('/proc/self/limits');
  const status = read('/proc/self/status');
  return {
    prlimit: findPrlimit(),
    hard: limits === undefined ? { files: Infinity, processes: Infinity } : parseProcLimits(limits, 'hard'),
    canRaise: status !== undefined && hasCapability(status, 24), // CAP_SYS_RESOURCE
    nrOpen: Number(read('/proc/sys/fs/nr_open')?.trim()) || 1_048_576,
  };
}

/**
 * util-linux's prlimit by absolute path (a manifest's PATH for the child must not pick it), checked to work
 * here once. Chosen over `sh -c 'ulimit …'`: the shells disagree on the flag for processes (dash -p, bash -u).
 */
function findPrlimit(): Available<{ path: string }> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => path.isAbsolute(d)), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  const found = dirs.map((d) => path.join(d, 'prlimit')).find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (found === undefined) return { unavailable: 'prlimit (util-linux) not found' };
  // Without a pid, prlimit reports its own limits: proves the binary and the prlimit(2) call work here.
  const r = spawnSync(found, ['--nofile', '--noheadings'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return { unavailable: `${found} does not work here: ${(r.error?.message ?? r.stderr ?? '').trim()}` };
  return { path: found };
}
