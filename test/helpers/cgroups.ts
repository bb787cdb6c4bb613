// What the resource-limit tests need from the host, each found out for real: prlimit, a cgroup the
// gateway may write for memory and for cpu, and a kernel that OOM-kills a process over its cgroup's memory
// limit (a sandbox may accept memory.limit_in_bytes and never enforce it). The OOM check runs a process
// under a limit by hand, apart from the gateway's code, so a bug there fails the test instead of skipping it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { probeCgroups, type CgroupOffer } from '../../src/supervisor/cgroup.ts';
import { isAvailable, ownCgroupDir, parseMountInfo, parseProcCgroup } from '../../src/supervisor/limits.ts';

export const CGROUP_ENABLE = 'run the tests as root where /sys/fs/cgroup/memory and /sys/fs/cgroup/cpu (cgroup v1) or a delegated cgroup v2 (systemd Delegate=yes) are writable';

let offer: CgroupOffer | undefined;

/** The gateway's own probe (once per process): it also makes the `mcp-gateway` parents that removeParents() takes away. */
export function cgroupOffer(): CgroupOffer {
  offer = probeCgroups();
  return offer;
}

export function prlimitMissing(): string | undefined {
  return ['/usr/bin/prlimit', '/bin/prlimit', '/usr/sbin/prlimit', '/sbin/prlimit'].some((p) => existsSync(p)) ? undefined : 'prlimit is not installed';
}

let oomVerdict: string | null | undefined;

/** Why a child over its memory limit is not OOM-killed here, or undefined when it is. Tried once. */
export function oomKillMissing(): string | undefined {
  if (oomVerdict === undefined) oomVerdict = tryOomKill() ?? null;
  return oomVerdict ?? undefined;
}

function tryOomKill(): string | undefined {
  const memory = cgroupOffer().memory;
  if (!isAvailable(memory)) return `no memory cgroup: ${memory.unavailable}`;
  const dir = `${memory.parent}/${process.pid}-oom-probe`;
  mkdirSync(dir);
  try {
    const limit = String(64 * 1024 * 1024);
    if (memory.version === 1) {
      writeFileSync(`${dir}/memory.limit_in_bytes`, limit);
      if (memory.files.has('memory.memsw.limit_in_bytes')) writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, limit);
    } else {
      writeFileSync(`${dir}/memory.max`, limit);
      if (memory.files.has('memory.swap.max')) writeFileSync(`${dir}/memory.swap.max`, '0');
    }
    // 512 MiB touched page by page (Buffer.alloc fills), in a cgroup of 64 MiB.
    const hog = 'const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(8 << 20, 1)); console.log("survived")';
    const r = spawnSync('/bin/sh', ['-c', `echo $$ > '${dir}/cgroup.procs' && exec "$0" -e '${hog}'`, process.execPath], { encoding: 'utf8', timeout: 30_000 });
    if (r.signal === 'SIGKILL') return undefined;
    const how = r.error !== undefined ? r.error.message : r.stdout.includes('survived') ? 'it allocated 512 MiB and exited normally' : `it ended with code ${r.status}, signal ${r.signal}: ${r.stderr.trim()}`;
    return `the kernel does not enforce cgroup v${memory.version} memory limits with an OOM kill here (a process limited to 64 MiB: ${how})`;
  } finally {
    rmdirSync(dir);
  }
}

/** The directory of `pid`'s cgroup that holds `controller`, from its /proc entry. */
export function cgroupDirOf(pid: number, controller: 'memory' | 'cpu'): { dir: string; version: 1 | 2 } | undefined {
  const own = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  const hierarchy = cgroupOffer()[controller];
  if (!isAvailable(hierarchy)) return undefined;
  const ownPath = hierarchy.version === 2 ? own.unified : own.v1.get(controller);
  const mount = mounts.find((m) => m.version === hierarchy.version && (m.version === 2 || m.controllers.includes(controller)));
  const dir = mount === undefined || ownPath === undefined ? undefined : ownCgroupDir(mount, ownPath);
  return dir === undefined ? undefined : { dir, version: hierarchy.version };
}

/** The cgroups this process's gateways made that still exist (named `<pid>-<server>-<n>`). */
export function ourCgroups(): string[] {
  if (offer === undefined) return [];
  return [offer.memory, offer.cpu].flatMap((h) =>
    isAvailable(h) ? readdirSync(h.parent).filter((n) => n.startsWith(`${process.pid}-`)).map((n) => `${h.parent}/${n}`) : [],
  );
}

/** Takes away the (empty) `mcp-gateway` parents the probe made, so the tests leave nothing behind. */
export function removeParents(): void {
  if (offer === undefined) return;
  for (const h of [offer.memory, offer.cpu]) {
    if (!isAvailable(h) || h.version !== 1) continue; // v2's parent carries the delegation: kept, as the gateway keeps it
    try {
      rmdirSync(h.parent);
    } catch {
      // another gateway's children are in it
    }
  }
}
