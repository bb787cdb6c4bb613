import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LimitsSpec } from '../../src/config/types.ts';
import {
  cpuQuota,
  formatBytes,
  hasCapability,
  oomMessage,
  ownCgroupDir,
  parseMountInfo,
  parseProcCgroup,
  parseProcLimits,
  planLimits,
  wasOomKilled,
  wrapCommand,
  type CgroupHierarchy,
  type HostLimits,
} from '../../src/supervisor/limits.ts';
import { alive, closeAll, manifest, running, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { CGROUP_ENABLE, cgroupDirOf, cgroupOffer, oomKillMissing, ourCgroups, prlimitMissing, removeParents } from '../helpers/cgroups.ts';
import { needTool } from '../helpers/tools.ts';

const V1_MEMORY: CgroupHierarchy = {
  version: 1,
  parent: '/sys/fs/cgroup/memory/mcp-gateway',
  files: new Set(['cgroup.procs', 'memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.oom_control', 'memory.failcnt']),
};
const V1_CPU: CgroupHierarchy = { version: 1, parent: '/sys/fs/cgroup/cpu/mcp-gateway', files: new Set(['cgroup.procs', 'cpu.cfs_quota_us']) };
const V2: CgroupHierarchy = {
  version: 2,
  parent: '/sys/fs/cgroup/system.slice/gw.service/mcp-gateway',
  files: new Set(['cgroup.procs', 'memory.max', 'memory.swap.max', 'memory.oom.group', 'memory.events', 'cpu.max']),
};

function host(over: Partial<HostLimits> = {}): HostLimits {
  return {
    prlimit: { path: '/usr/bin/prlimit' },
    hard: { files: 65536, processes: 4096 },
    canRaise: false,
    nrOpen: 1048576,
    memory: V1_MEMORY,
    cpu: V1_CPU,
    ...over,
  };
}

describe('planLimits', () => {
  it('sets both rlimits through prlimit, soft and hard alike', () => {
    const plan = planLimits({ files: 1024, processes: 64 }, host(), '7-a-1');
    expect(plan).toEqual({ prlimit: { path: '/usr/bin/prlimit', flags: ['--nofile=1024:1024', '--nproc=64:64'] }, cgroups: [], skipped: [] });
  });

  it('plans one v1 cgroup per hierarchy: memory with memsw (so swap does not dodge it) and its counters, cpu as CFS quota', () => {
    const plan = planLimits({ memoryBytes: 64 << 20, cpuPercent: 50 }, host(), '7-a-1');
    expect(plan.prlimit).toBeUndefined();
    expect(plan.cgroups).toEqual([
      {
        version: 1,
        dir: '/sys/fs/cgroup/memory/mcp-gateway/7-a-1',
        limits: ['memory'],
        writes: [
          { file: 'memory.limit_in_bytes', value: '67108864' },
          { file: 'memory.memsw.limit_in_bytes', value: '67108864' },
        ],
        oomCounter: 'memory.oom_control',
        failCounter: 'memory.failcnt',
      },
      {
        version: 1,
        dir: '/sys/fs/cgroup/cpu/mcp-gateway/7-a-1',
        limits: ['cpu'],
        writes: [
          { file: 'cpu.cfs_period_us', value: '100000' },
          { file: 'cpu.cfs_quota_us', value: '50000' },
        ],
      },
    ]);
  });

  it('leaves memsw out where the kernel has no swap accounting', () => {
    const plan = planLimits({ memoryBytes: 1 << 30 }, host({ memory: { ...V1_MEMORY, files: new Set(['memory.limit_in_bytes']) } }), 'x');
    expect(plan.cgroups[0]!.writes).toEqual([{ file: 'memory.limit_in_bytes', value: String(1 << 30) }]);
    expect(plan.cgroups[0]!.failCounter).toBeUndefined();
  });

  it('plans one v2 cgroup for memory and cpu, without swap and killed as a whole', () => {
    const plan = planLimits({ memoryBytes: 512 << 20, cpuPercent: 200 }, host({ memory: V2, cpu: V2 }), '7-b-3');
    expect(plan.cgroups).toEqual([
      {
        version: 2,
        dir: `${V2.parent}/7-b-3`,
        limits: ['memory', 'cpu'],
        writes: [
          { file: 'memory.max', value: String(512 << 20) },
          { file: 'memory.swap.max', value: '0' },
          { file: 'memory.oom.group', value: '1' },
          { file: 'cpu.max', value: '200000 100000' },
        ],
        oomCounter: 'memory.events',
      },
    ]);
  });

  it('says why a limit cannot be applied, and plans the rest', () => {
    const none = { unavailable: 'no writable cgroup (cgroup v1 memory: EACCES on /sys/fs/cgroup/memory/mcp-gateway)' };
    const plan = planLimits({ memoryBytes: 1 << 20, cpuPercent: 10, files: 100, processes: 10 }, host({ memory: none, prlimit: { unavailable: 'prlimit (util-linux) not found' } }), 'x');
    expect(plan.skipped).toEqual([
      { limit: 'files', reason: 'prlimit (util-linux) not found' },
      { limit: 'processes', reason: 'prlimit (util-linux) not found' },
      { limit: 'memory', reason: none.unavailable },
    ]);
    expect(plan.prlimit).toBeUndefined();
    expect(plan.cgroups.map((c) => c.limits)).toEqual([['cpu']]);
  });

  it('refuses rlimits above the gateway\'s hard limit unless it may raise them, and never above fs.nr_open', () => {
    const limits: LimitsSpec = { files: 100_000, processes: 5000 };
    expect(planLimits(limits, host(), 'x').skipped).toEqual([
      { limit: 'files', reason: "100000 is above the gateway's own hard limit (65536), and raising it needs CAP_SYS_RESOURCE" },
      { limit: 'processes', reason: "5000 is above the gateway's own hard limit (4096), and raising it needs CAP_SYS_RESOURCE" },
    ]);
    expect(planLimits(limits, host({ canRaise: true }), 'x')).toMatchObject({ skipped: [], prlimit: { flags: ['--nofile=100000:100000', '--nproc=5000:5000'] } });
    expect(planLimits({ files: 2000 }, host({ canRaise: true, nrOpen: 1024 }), 'x').skipped).toEqual([{ limit: 'files', reason: '2000 is above fs.nr_open (1024)' }]);
  });

  it('plans nothing for no limits', () => {
    expect(planLimits({}, host(), 'x')).toEqual({ prlimit: undefined, cgroups: [], skipped: [] });
  });
});

describe('cpuQuota', () => {
  it('gives a share of one CPU per 100 ms period, stretching the period below the kernel\'s 1 ms minimum quota', () => {
    expect(cpuQuota(50)).toEqual({ quota: 50_000, period: 100_000 });
    expect(cpuQuota(250)).toEqual({ quota: 250_000, period: 100_000 });
    expect(cpuQuota(0.5)).toEqual({ quota: 1000, period: 200_000 });
    expect(cpuQuota(0.01)).toEqual({ quota: 1000, period: 1_000_000 });
  });
});

describe('wrapCommand', () => {
  const prlimit = { path: '/usr/bin/prlimit', flags: ['--nofile=64:64'] };

  it('leaves a command without limits alone', () => {
    expect(wrapCommand('node', ['a.js'], undefined, [])).toEqual({ command: 'node', args: ['a.js'] });
  });

  it('execs through prlimit for rlimits', () => {
    expect(wrapCommand('node', ['a.js', '--x'], prlimit, [])).toEqual({ command: '/usr/bin/prlimit', args: ['--nofile=64:64', '--', 'node', 'a.js', '--x'] });
  });

  it('joins the cgroups from a shell that then execs, the command and its args passed as argv, never as script', () => {
    const w = wrapCommand('my server', ["it's", '$(rm -rf /)'], prlimit, ['/cg/memory/mcp-gateway/1-a-1/cgroup.procs', "/cg/cpu/o'dd/cgroup.procs"]);
    expect(w).toEqual({
      command: '/bin/sh',
      args: [
        '-c',
        `echo $$ > '/cg/memory/mcp-gateway/1-a-1/cgroup.procs' && echo $$ > '/cg/cpu/o'\\''dd/cgroup.procs' && exec "$0" "$@"`,
        '/usr/bin/prlimit',
        '--nofile=64:64',
        '--',
        'my server',
        "it's",
        '$(rm -rf /)',
      ],
    });
  });
});

describe('OOM counters', () => {
  it('reads oom_kill from memory.events or memory.oom_control, else a hit limit and SIGKILL', () => {
    expect(wasOomKilled('low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n', undefined, 'SIGKILL')).toBe(true);
    expect(wasOomKilled('oom_kill_disable 0\nunder_oom 0\noom_kill 0\n', '3', 'SIGKILL')).toBe(false);
    expect(wasOomKilled('oom_kill_disable 0\nunder_oom 0\n', '3', 'SIGKILL')).toBe(true);
    expect(wasOomKilled('oom_kill_disable 0\nunder_oom 0\n', '3', 'SIGTERM')).toBe(false);
    expect(wasOomKilled(undefined, undefined, 'SIGKILL')).toBe(false);
  });

  it('says the limit in binary units', () => {
    expect(oomMessage({ memoryBytes: 64 << 20 })).toBe('killed by the kernel: over its memory limit of 64 MiB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(formatBytes(1000)).toBe('1000 bytes');
  });
});

describe('probe parsers', () => {
  it('finds the gateway\'s own cgroup in a hybrid host (this kind of sandbox), a systemd v2 host and a container', () => {
    const hybrid = parseMountInfo(
      [
        '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
        '31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
        '33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
        '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
        '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      ].join('\n'),
    );
    expect(hybrid.map((m) => [m.version, m.mountPoint, m.controllers])).toEqual([
      [1, '/sys/fs/cgroup/cpu,cpuacct', ['rw', 'cpu', 'cpuacct']],
      [1, '/sys/fs/cgroup/cpuset', ['rw', 'cpuset']],
      [1, '/sys/fs/cgroup/memory', ['rw', 'memory']],
      [2, '/sys/fs/cgroup/unified', []],
    ]);
    const own = parseProcCgroup('4:memory:/process_api/01b8\n3:cpuset:/\n2:cpu,cpuacct:/\n0::/\n');
    expect(own.unified).toBe('/');
    expect(own.v1.get('cpu')).toBe('/');
    expect(ownCgroupDir(hybrid[2]!, own.v1.get('memory')!)).toBe('/sys/fs/cgroup/memory/process_api/01b8');
    expect(ownCgroupDir(hybrid[0]!, own.v1.get('cpu')!)).toBe('/sys/fs/cgroup/cpu,cpuacct');

    const [v2] = parseMountInfo('25 18 0:22 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate');
    expect(ownCgroupDir(v2!, parseProcCgroup('0::/system.slice/gw.service\n').unified!)).toBe('/sys/fs/cgroup/system.slice/gw.service');
    // A container without a cgroup namespace: the mount shows its own cgroup at the mount point.
    const [docker] = parseMountInfo('50 40 0:31 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory');
    expect(ownCgroupDir(docker!, '/docker/abc')).toBe('/sys/fs/cgroup/memory');
    expect(ownCgroupDir(docker!, '/other')).toBeUndefined();
  });

  it('reads rlimits and CAP_SYS_RESOURCE', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax processes             100                  unlimited            processes \nMax open files            256                  1024                 files     \n';
    expect(parseProcLimits(limits)).toEqual({ files: 256, processes: 100 });
    expect(parseProcLimits(limits, 'hard')).toEqual({ files: 1024, processes: Infinity });
    expect(hasCapability('CapEff:\t000001ffffffffff\n', 24)).toBe(true);
    // Root in this kind of sandbox: every capability but CAP_SYS_RESOURCE.
    expect(hasCapability('CapEff:\t000001fffeffffff\n', 24)).toBe(false);
  });
});

// ---- Real children through a real gateway ---------------------------------------------------------------

/** A minimal MCP server: tells its limits and cgroups on stderr, answers initialize; `hog` then eats memory. */
const CHILD = `
const fs = require('fs');
process.stderr.write(fs.readFileSync('/proc/self/limits', 'utf8'));
let buf = '';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  for (let i; (i = buf.indexOf('\\n')) >= 0; ) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.method === 'initialize') send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: {}, serverInfo: { name: 'limits', version: '1' } } });
    if (m.method === 'notifications/initialized' && process.argv[2] === 'hog') {
      const kept = [];
      setInterval(() => kept.push(Buffer.alloc(8 << 20, 1)), 5); // filled, so every page is touched
    }
  }
});
process.stdin.on('end', () => process.exit(0));
`;

function limitedServer(name: string, limits: string, extra = ''): string {
  return `  ${name}:\n    command: node\n    args: [child.cjs${extra}]\n    limits: ${limits}\n    restart: { policy: never }\n`;
}

async function startLimited(servers: string): Promise<Harness> {
  return startHarness(manifest(servers), {}, { 'child.cjs': CHILD });
}

afterEach(async () => {
  await closeAll();
  await waitFor(() => ourCgroups().length === 0, 'the children\'s cgroups removed');
});
afterAll(removeParents);

function pgidOf(pid: number): number {
  // The fields after the command's name (which may hold spaces) start at the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('limits on a real child', () => {
  it('sets RLIMIT_NOFILE and RLIMIT_NPROC before the command runs, the child still its own group leader', async (ctx) => {
    needTool(ctx, { name: 'prlimit (util-linux)', missing: prlimitMissing(), enable: 'apt-get install -y util-linux' });
    const h = await startLimited(limitedServer('rl', '{ files: 256, processes: 3000 }'));
    const { pid } = await running(h.url, 'rl');
    const sup = h.gateway.reconciler.servers.get('rl')!;
    const said = await waitFor(() => {
      const text = sup.stderr.lines().join('\n');
      return text.includes('Max open files') ? text : undefined;
    }, 'the child telling its limits');
    expect(parseProcLimits(said)).toEqual({ files: 256, processes: 3000 });
    expect(parseProcLimits(said, 'hard')).toEqual({ files: 256, processes: 3000 });
    // The wrapper exec'd: the pid the supervisor holds is node itself, leading its own process group.
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('node');
    expect(pgidOf(pid!)).toBe(pid);
    expect(h.logs.filter((l) => l.includes('not applied'))).toEqual([]);
  });

  it('applies an open-files limit above the gateway\'s own where it may, else starts without it and says so once', async (ctx) => {
    needTool(ctx, { name: 'prlimit (util-linux)', missing: prlimitMissing(), enable: 'apt-get install -y util-linux' });
    const hard = parseProcLimits(readFileSync('/proc/self/limits', 'utf8'), 'hard').files;
    const canRaise = hasCapability(readFileSync('/proc/self/status', 'utf8'), 24);
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    const n = Math.min(hard + 1, 1_048_576); // the schema's maximum
    const refused = n > nrOpen ? `${n} is above fs.nr_open (${nrOpen})` : n > hard && !canRaise ? `${n} is above the gateway's own hard limit (${hard}), and raising it needs CAP_SYS_RESOURCE` : undefined;
    const h = await startLimited(limitedServer('over', `{ files: ${n} }`));
    await running(h.url, 'over');
    await fetch(`${h.url}/mcp/over/restart`, { method: 'POST' });
    await running(h.url, 'over');
    const said = await waitFor(() => {
      const text = h.gateway.reconciler.servers.get('over')!.stderr.lines().join('\n');
      return text.includes('Max open files') ? text : undefined;
    }, 'the child telling its limits');
    const warnings = h.logs.map((l) => JSON.parse(l)).filter((l) => l.limit === 'files');
    if (refused === undefined) {
      expect(parseProcLimits(said).files).toBe(n);
      expect(warnings).toEqual([]);
    } else {
      expect(parseProcLimits(said).files).toBeLessThan(n); // started anyway, with what it inherits
      expect(warnings).toEqual([expect.objectContaining({ level: 40, server: 'over', msg: `${refused}: files limit of server over not applied` })]);
    }
  });

  it('ends a child over its memory limit through the kernel and says OOMKilled', async (ctx) => {
    needTool(ctx, { name: 'a kernel that OOM-kills over a cgroup memory limit', missing: oomKillMissing(), enable: CGROUP_ENABLE });
    const h = await startLimited(limitedServer('hog', '{ memory: 64M }', ', hog'));
    const s = await waitFor(async () => {
      const row = (await (await fetch(`${h.url}/mcp/servers`)).json() as { servers: { name: string; reason: string | null }[] }).servers.find((r) => r.name === 'hog');
      return row?.reason === 'OOMKilled' ? row : undefined;
    }, 'OOMKilled', 15_000);
    expect(s).toMatchObject({ state: 'exited', reason: 'OOMKilled', lastError: 'killed by the kernel: over its memory limit of 64 MiB', pid: null });
  });

  it('writes the CPU share as the cgroup\'s quota, and removes the cgroup after the child', async (ctx) => {
    const cpu = cgroupOffer().cpu;
    needTool(ctx, { name: 'a writable cpu cgroup', missing: 'unavailable' in cpu ? cpu.unavailable : undefined, enable: CGROUP_ENABLE });
    const h = await startLimited(limitedServer('cpu', '{ cpu: 25% }'));
    const { pid } = await running(h.url, 'cpu');
    const cg = cgroupDirOf(pid!, 'cpu')!;
    expect(cg.dir).toMatch(new RegExp(`/mcp-gateway/${process.pid}-cpu-\\d+$`));
    if (cg.version === 2) expect(readFileSync(`${cg.dir}/cpu.max`, 'utf8').trim()).toBe('25000 100000');
    else {
      expect(readFileSync(`${cg.dir}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('25000');
      expect(readFileSync(`${cg.dir}/cpu.cfs_period_us`, 'utf8').trim()).toBe('100000');
    }
    await fetch(`${h.url}/mcp/cpu/stop`, { method: 'POST' });
    expect(alive(pid!)).toBe(false);
    expect(existsSync(cg.dir)).toBe(false); // the stop waits for the cgroup to go
  });
});
