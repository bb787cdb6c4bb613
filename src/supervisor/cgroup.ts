// The cgroup effects of resource limits: find a hierarchy the gateway may write for each controller (once
// per process), make a child's cgroups and write its limits, read the OOM counters at its exit, and remove
// the cgroups once empty. Decisions (what to write, how to read it) are limits.ts's; this file only acts.
// Calls are synchronous where they touch sysfs: those are small in-kernel files, and spawnChild is sync.
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import {
  isAvailable,
  ownCgroupDir,
  parseMountInfo,
  parseProcCgroup,
  wasOomKilled,
  type Available,
  type CgroupController,
  type CgroupHierarchy,
  type CgroupMount,
  type CgroupPlan,
} from './limits.ts';

const PARENT = 'mcp-gateway';
/** v2's no-internal-processes rule: where the gateway moves itself so its own cgroup may delegate controllers. */
const SELF_LEAF = 'mcp-gateway-self';

export type CgroupOffer = Readonly<Record<CgroupController, Available<CgroupHierarchy>>>;

let probed: CgroupOffer | undefined;

/**
 * For memory and cpu, a hierarchy whose `mcp-gateway` directory (under the gateway's own cgroup) takes
 * per-child cgroups with that controller, or the reason there is none. Prefers cgroup v2 where the controller
 * is available there, else the v1 hierarchy it is bound to. May move the gateway into a leaf of its own v2
 * cgroup (as a systemd Delegate=yes service should). Probed once per process (a second probe would find
 * the gateway in that leaf); never throws.
 */
export function probeCgroups(): CgroupOffer {
  probed ??= probe();
  return probed;
}

function probe(): CgroupOffer {
  let mounts: CgroupMount[];
  let own: ReturnType<typeof parseProcCgroup>;
  try {
    mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch (err) {
    const none = { unavailable: `no cgroups here (${errText(err)})` };
    return { memory: none, cpu: none };
  }
  const v2 = probeV2(mounts, own.unified);
  const offer = (c: CgroupController): Available<CgroupHierarchy> => {
    const fromV2 = v2.get(c);
    if (fromV2 !== undefined && isAvailable(fromV2)) return fromV2;
    const fromV1 = probeV1(mounts, own.v1, c);
    if (isAvailable(fromV1)) return fromV1;
    const why = [fromV2?.unavailable, fromV1.unavailable].filter((s) => s !== undefined).join('; ');
    return { unavailable: `no writable cgroup (${why})` };
  };
  return { memory: offer('memory'), cpu: offer('cpu') };
}

function probeV2(mounts: readonly CgroupMount[], ownPath: string | undefined): Map<CgroupController, Available<CgroupHierarchy>> {
  const out = new Map<CgroupController, Available<CgroupHierarchy>>();
  const mount = mounts.find((m) => m.version === 2 && ownPath !== undefined && ownCgroupDir(m, ownPath) !== undefined);
  if (mount === undefined || ownPath === undefined) return out;
  const base = ownCgroupDir(mount, ownPath)!;
  let available: string[];
  try {
    available = readFileSync(`${base}/cgroup.controllers`, 'utf8').trim().split(/\s+/);
  } catch (err) {
    return out.set('memory', { unavailable: `cgroup v2 ${base}: ${errText(err)}` }).set('cpu', { unavailable: `cgroup v2 ${base}: ${errText(err)}` });
  }
  const wanted = (['memory', 'cpu'] as const).filter((c) => available.includes(c));
  for (const c of ['memory', 'cpu'] as const) if (!wanted.includes(c)) out.set(c, { unavailable: `cgroup v2 ${base}: no ${c} controller delegated` });
  if (wanted.length === 0) return out;
  try {
    delegate(base, wanted, true);
    const parent = `${base}/${PARENT}`;
    mkdirOk(parent);
    delegate(parent, wanted, false);
    const hierarchy: CgroupHierarchy = { version: 2, parent, files: filesOfFreshCgroup(parent) };
    for (const c of wanted) out.set(c, hierarchy);
  } catch (err) {
    for (const c of wanted) out.set(c, { unavailable: `cgroup v2 ${base}: ${errText(err)}` });
  }
  return out;
}

/**
 * Enables the controllers for the cgroups below `dir`. v2 allows that only in a cgroup without processes
 * (the root excepted): when the kernel says EBUSY, the processes in it move to a leaf first, as systemd asks
 * of a service with Delegate=yes. Only when they are the gateway and what started it (tini, npm, a shell):
 * a cgroup shared with others (a login session's scope) is not the gateway's to rearrange.
 */
function delegate(dir: string, controllers: readonly string[], mayMoveProcesses: boolean): void {
  const line = controllers.map((c) => `+${c}`).join(' ');
  try {
    writeFileSync(`${dir}/cgroup.subtree_control`, line);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || !mayMoveProcesses) throw err;
    const pids = readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
    const ours = ancestry();
    const others = pids.filter((p) => !ours.has(p));
    if (others.length > 0) {
      throw new Error(`it holds ${others.length} other process(es), so it cannot delegate controllers; give the gateway a cgroup of its own (systemd: Delegate=yes)`);
    }
    const leaf = `${dir}/${SELF_LEAF}`;
    mkdirOk(leaf);
    for (const pid of pids) {
      try {
        writeFileSync(`${leaf}/cgroup.procs`, String(pid));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // gone meanwhile
      }
    }
    writeFileSync(`${dir}/cgroup.subtree_control`, line);
  }
}

/** This process and its ancestors, from /proc's parent links. */
function ancestry(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 0 && !out.has(pid); ) {
    out.add(pid);
    const stat = tryRead(`/proc/${pid}/stat`);
    if (stat === undefined) break;
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // after the name: state, ppid
  }
  return out;
}

function probeV1(mounts: readonly CgroupMount[], own: ReadonlyMap<string, string>, c: CgroupController): Available<CgroupHierarchy> {
  const ownPath = own.get(c);
  const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(c) && ownPath !== undefined && ownCgroupDir(m, ownPath) !== undefined);
  if (mount === undefined || ownPath === undefined) return { unavailable: `no cgroup v1 ${c} hierarchy mounted` };
  // Under the gateway's own cgroup, as in v2: the children stay inside whatever holds the gateway (a
  // container's or a service's limits), and v1 has no rule against a cgroup with both processes and children.
  const parent = `${ownCgroupDir(mount, ownPath)}/${PARENT}`;
  try {
    mkdirOk(parent);
    return { version: 1, parent, files: filesOfFreshCgroup(parent) };
  } catch (err) {
    return { unavailable: `cgroup v1 ${c}: ${errText(err)}` };
  }
}

/** What files a cgroup made under `parent` has (the optional ones differ by kernel and settings). */
function filesOfFreshCgroup(parent: string): ReadonlySet<string> {
  sweepStale(parent);
  const probe = `${parent}/${process.pid}-probe`;
  mkdirOk(probe);
  try {
    return new Set(readdirSync(probe));
  } finally {
    rmdirSync(probe);
  }
}

/** Removes empty cgroups left by gateways that are gone (killed at once, with no time to clean up). */
function sweepStale(parent: string): void {
  for (const name of safeReaddir(parent)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    try {
      rmdirSync(`${parent}/${name}`);
    } catch {
      // still holds a process, or not ours to judge: leave it
    }
  }
}

/** A child's cgroups, made and written; the wrapper joins them by their procs files. */
export class ChildCgroups {
  readonly #plans: readonly CgroupPlan[];
  #released: Promise<void> | undefined;
  #graceUntil = 0;

  private constructor(plans: readonly CgroupPlan[]) {
    this.#plans = plans;
  }

  /**
   * Makes each planned cgroup and writes its limits. One that cannot be made is left out (and removed if
   * half made): `failed` names its limits and why, and the child starts without them.
   */
  static create(plans: readonly CgroupPlan[]): { cgroups: ChildCgroups | undefined; failed: { limits: readonly CgroupController[]; reason: string }[] } {
    const made: CgroupPlan[] = [];
    const failed: { limits: readonly CgroupController[]; reason: string }[] = [];
    for (const plan of plans) {
      try {
        mkdirSync(plan.dir, { recursive: true }); // recursive: the parent may have been removed by hand since the probe
      } catch (err) {
        failed.push({ limits: plan.limits, reason: `cannot make ${plan.dir}: ${errText(err)}` });
        continue;
      }
      const bad = plan.writes.find((w) => !tryWrite(`${plan.dir}/${w.file}`, w.value));
      if (bad === undefined) made.push(plan);
      else {
        failed.push({ limits: plan.limits, reason: `the kernel refused ${bad.file} = ${bad.value} in ${plan.dir}` });
        tryRmdir(plan.dir);
      }
    }
    return { cgroups: made.length === 0 ? undefined : new ChildCgroups(made), failed };
  }

  /** The procs files the child's wrapper writes its pid to. */
  get joins(): string[] {
    return this.#plans.map((p) => `${p.dir}/cgroup.procs`);
  }

  get dirs(): string[] {
    return this.#plans.map((p) => p.dir);
  }

  /** Whether the OOM killer ended something inside; read at the leader's exit, before the cgroups go. */
  oomKilled(signal: NodeJS.Signals | null): boolean | undefined {
    const plan = this.#plans.find((p) => p.oomCounter !== undefined);
    if (plan === undefined) return undefined;
    const read = (f: string | undefined): string | undefined => (f === undefined ? undefined : tryRead(`${plan.dir}/${f}`));
    return wasOomKilled(read(plan.oomCounter), read(plan.failCounter), signal);
  }

  /**
   * Removes the cgroups once nothing is left in them; resolves when they are gone. The supervisor ends the
   * child's process group; what outlives that (a grandchild that left the group with setsid) is killed
   * after `graceMs`, or at once after hurry(). Idempotent.
   */
  release(graceMs = 30_000): Promise<void> {
    this.#graceUntil ||= Date.now() + graceMs;
    this.#released ??= this.#remove();
    return this.#released;
  }

  /** The child's process group is gone: whatever is still in its cgroups escaped it, and ends now. */
  hurry(): void {
    this.#graceUntil = Date.now();
  }

  async #remove(): Promise<void> {
    let left = this.#plans.map((p) => p.dir);
    let killedAt = 0;
    while (left.length > 0) {
      left = left.filter((dir) => !tryRmdir(dir));
      if (left.length === 0) return;
      const now = Date.now();
      if (now >= this.#graceUntil && killedAt === 0) {
        killedAt = now;
        for (const dir of left) killAllIn(dir);
      }
      if (killedAt !== 0 && now - killedAt > 5000) {
        throw new Error(`cgroup ${left.join(', ')} still holds processes; left behind`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function killAllIn(dir: string): void {
  for (const pid of (tryRead(`${dir}/cgroup.procs`) ?? '').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

function mkdirOk(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** True once the directory is gone (removed now or already). */
function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function tryRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code !== undefined && e.path !== undefined ? `${e.code} on ${e.path}` : (e.message ?? String(err));
}
