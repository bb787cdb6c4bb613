#!/usr/bin/env node
// npm run bench: the gateway, a bare HTTP→stdio forwarder (the ceiling) and supergateway, each in front
// of the same bundled demo server, measured one after the other in this one run, on this machine, by the
// same client. Prints requests/s, p50, p99 and RSS per target, then the ratios against the targets.
// Then supervision: requests during overlap rollouts, the cold start of an on-demand server, and the
// memory of 100 servers on demand vs always running. `npm run bench -- --only supervision` (or
// BENCH_ONLY=supervision; `comparison` for the first part) runs one section.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import { TOOL, openSessions, percentile, run, runFor, send, statelessClients } from './load.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = path.join(ROOT, 'examples', 'servers', 'demo.js');
const SUPERGATEWAY = '4.0.0';
const CACHE = path.join(ROOT, '.cache', 'bench');
const SESSIONS = 4;
const WARMUP = 500;
const C1_REQUESTS = Number(process.env.BENCH_C1 ?? 2000);
const C16_REQUESTS = Number(process.env.BENCH_C16 ?? 30000);

function ensureSupergateway() {
  const bin = path.join(CACHE, 'node_modules', 'supergateway', 'dist', 'index.js');
  const pkg = path.join(CACHE, 'node_modules', 'supergateway', 'package.json');
  if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).version === SUPERGATEWAY) return bin;
  console.log(`installing supergateway@${SUPERGATEWAY} into .cache/bench (first run only)…`);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(path.join(CACHE, 'package.json'), '{"private":true}\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', CACHE, `supergateway@${SUPERGATEWAY}`], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm install supergateway failed');
  return bin;
}

/** The node flags of package.json's start script. */
function startFlags() {
  const start = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  return start.split(' ').filter((w) => w.startsWith('--'));
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** Starts a target and resolves its MCP URL once it answers. */
async function start(target) {
  const proc = spawn(target.command, target.args, { env: { ...process.env, ...target.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (out += c));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const url = target.url(out);
    if (url) {
      try {
        await openSessions(url, 1);
        return { proc, url };
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`${target.name} did not start:\n${out.slice(-2000)}`);
}

function fromListeningLine(out, suffix) {
  const m = /"msg":"listening".*?"url":"([^"]+)"/.exec(out) ?? /"url":"([^"]+)".*?"msg":"listening"/.exec(out);
  return m ? m[1] + suffix : undefined;
}

async function measure(target) {
  const { proc, url } = await start(target);
  try {
    const sessions = await openSessions(url, SESSIONS);
    await run(url, sessions, 4, WARMUP);
    const c1 = await run(url, sessions, 1, C1_REQUESTS);
    const c16 = await run(url, sessions, 16, C16_REQUESTS);
    const rss = rssMb(proc.pid);
    const result = { name: target.name, c1, c16, rss, requests: WARMUP + C1_REQUESTS + C16_REQUESTS };
    if (!target.stateless) return [result];
    // The same gateway, the same echo call, as a 2026 client sends it: no session, _meta on each request.
    const clients = statelessClients(SESSIONS);
    await run(url, clients, 4, WARMUP);
    const s1 = await run(url, clients, 1, C1_REQUESTS);
    const s16 = await run(url, clients, 16, C16_REQUESTS);
    const modern = { name: `${target.name} 2026`, c1: s1, c16: s16, rss: rssMb(proc.pid), requests: 2 * (WARMUP + C1_REQUESTS + C16_REQUESTS) };
    // The same gateway again, through the aggregate endpoint /mcp (the tool is demo__echo there).
    const aggregateUrl = url.replace(/\/mcp\/demo\/mcp$/, '/mcp');
    const aggregate = (await openSessions(aggregateUrl, SESSIONS)).map((h) => ({ ...h, [TOOL]: 'demo__echo' }));
    await run(aggregateUrl, aggregate, 4, WARMUP);
    const a1 = await run(aggregateUrl, aggregate, 1, C1_REQUESTS);
    const a16 = await run(aggregateUrl, aggregate, 16, C16_REQUESTS);
    const agg = { name: `${target.name} /mcp`, c1: a1, c16: a16, rss: rssMb(proc.pid), requests: 3 * (WARMUP + C1_REQUESTS + C16_REQUESTS) };
    return [result, modern, agg];
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

const fmt = (n, d = 0) => n.toFixed(d).padStart(8);

async function comparison() {
  const sgBin = ensureSupergateway();
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-bench-'));
  const manifest = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(manifest, `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n`);
  const port = 30000 + Math.floor(Math.random() * 20000);
  const targets = [
    { name: 'bare forwarder', command: process.execPath, args: [path.join(ROOT, 'bench', 'bare-forwarder.mjs'), 'node', DEMO], url: (o) => fromListeningLine(o, '') },
    {
      name: 'mcp-gateway',
      command: process.execPath,
      // Exactly what `npm start` runs, V8 flags included.
      args: [...startFlags(), path.join(ROOT, 'bin', 'mcp-gateway.js'), 'run', '--config', manifest],
      env: { PORT: '0' },
      url: (o) => fromListeningLine(o, '/mcp/demo/mcp'),
      stateless: true,
    },
    {
      name: 'supergateway',
      command: process.execPath,
      args: [sgBin, '--stdio', `node ${DEMO}`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none'],
      url: () => `http://127.0.0.1:${port}/mcp`,
    },
  ];
  const results = [];
  try {
    for (const t of targets) {
      process.stdout.write(`measuring ${t.name}… `);
      const r = await measure(t);
      console.log('done');
      results.push(...r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`\n${SESSIONS} sessions (2025) or ${SESSIONS} stateless clients (2026), echo tool call; c1: ${C1_REQUESTS} requests, c16: ${C16_REQUESTS} requests (after ${WARMUP} warm-up)\n`);
  console.log('target            c1 req/s  c1 p50ms  c1 p99ms  c16 req/s c16 p50ms c16 p99ms   RSS MB  failures');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(16)}${fmt(r.c1.rps)}  ${fmt(r.c1.p50, 3)}  ${fmt(r.c1.p99, 3)}  ${fmt(r.c16.rps)}  ${fmt(r.c16.p50, 3)}  ${fmt(r.c16.p99, 3)}  ${fmt(r.rss, 1)}  ${r.c1.failures + r.c16.failures}`,
    );
  }
  const [bare, gw, modern, agg, sg] = results;
  const rpsRatio = gw.c16.rps / sg.c16.rps;
  const p50Ratio = gw.c1.p50 / bare.c1.p50;
  const eraRatio = modern.c16.rps / gw.c16.rps;
  const checks = [
    [`2026 stateless vs 2025 session requests/s at c16: ${eraRatio.toFixed(2)}x (target >= 0.90x)`, eraRatio >= 0.9],
    [`requests/s at c16 vs supergateway: ${rpsRatio.toFixed(2)}x (target >= 4x)`, rpsRatio >= 4],
    [`p50 at c1 vs bare forwarder: ${p50Ratio.toFixed(2)}x (target <= 1.25x)`, p50Ratio <= 1.25],
    [`gateway RSS after ${agg.requests} requests (both eras, per-server URL and /mcp): ${agg.rss.toFixed(1)} MB (target <= 90 MB)`, agg.rss <= 90],
  ];
  console.log('');
  for (const [line, ok] of checks) console.log(`${ok ? 'MET    ' : 'NOT MET'}  ${line}`);
  console.log(`(also: gateway c16 vs bare forwarder ${(gw.c16.rps / bare.c16.rps).toFixed(2)}x requests/s)`);
  console.log(
    `(also: the aggregate endpoint /mcp vs the per-server URL: ${(agg.c16.rps / gw.c16.rps).toFixed(2)}x requests/s at c16, ${(agg.c1.p50 / gw.c1.p50).toFixed(2)}x p50 at c1)`,
  );
  if (results.some((r) => r.c1.failures + r.c16.failures > 0)) process.exitCode = 1;
}

// ---- Supervision: the gateway itself (from dist/, with `npm start`'s flags), manifests in a temp dir. ----

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 5);
const ROLLOUT_EVERY_MS = 2000;
const ROLLOUT_CONCURRENCY = 16;
const COLD_SAMPLES = 7;
const WARM_CALLS = 20;
const FLEET = 100;
const FLEET_USED = 5;
const FLEET_SETTLE_MS = 3000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);

/** A manifest is written as JSON (which is YAML), all at once: a reload never reads half a file. */
function writeManifest(file, manifest) {
  writeFileSync(`${file}.tmp`, JSON.stringify(manifest, null, 1));
  renameSync(`${file}.tmp`, file);
}

function manifestOf(servers, defaults = {}) {
  return { version: 1, listen: { host: '127.0.0.1', port: 0 }, defaults: { liveness: false, ...defaults }, servers };
}

const demo = (extra = {}) => ({ command: 'node', args: [DEMO], ...extra });

/** Starts `node bin/mcp-gateway.js run` on a manifest; resolves once /readyz says the manifest is applied. */
async function launchGateway(manifest, readyMs = 20_000) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-bench-'));
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeManifest(file, manifest);
  const args = [...startFlags(), path.join(ROOT, 'bin', 'mcp-gateway.js'), 'run', '--config', file];
  const proc = spawn(process.execPath, args, { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (out += c));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const gw = {
    proc,
    file,
    base: undefined,
    log: () => out,
    async stop() {
      proc.kill('SIGTERM');
      if (alive()) await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline && alive()) {
    gw.base ??= fromListeningLine(out, '');
    if (gw.base && (await fetch(`${gw.base}/readyz`).then((r) => r.status, () => 0)) === 200) return gw;
    await sleep(100);
  }
  await gw.stop();
  throw new Error(`the gateway did not start:\n${out.slice(-2000)}`);
}

async function serverStatus(base) {
  return (await (await fetch(`${base}/mcp/servers`)).json()).servers;
}

/** One classic tools/call on `agent`; resolves its latency (ms), or throws with what the gateway said. */
async function classicCall(agent, base, server, text) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
  const t0 = performance.now();
  const r = await send(agent, `${base}/mcp/${server}/command`, body);
  const ms = performance.now() - t0;
  if (r.status !== 200 || !r.data.includes(text)) throw new Error(`${server}: HTTP ${r.status} ${r.data.slice(0, 300)}`);
  return ms;
}

/** The pids under `root`, recursively (from the ppid in /proc/<pid>/stat). */
function descendants(root) {
  const kids = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!kids.has(ppid)) kids.set(ppid, []);
    kids.get(ppid).push(Number(e));
  }
  const out = [];
  for (let todo = [...(kids.get(root) ?? [])]; todo.length > 0; ) {
    const pid = todo.pop();
    out.push(pid);
    todo.push(...(kids.get(pid) ?? []));
  }
  return out;
}

/** RSS and PSS (shared pages split among their users) in MB of `pid`, 0 for a process gone meanwhile. */
function memoryMb(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)[1]) / 1024;
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** The gateway and all its descendants: summed RSS and PSS, the gateway's own RSS, the descendants' count. */
function treeMemory(root) {
  const pids = descendants(root);
  const all = [root, ...pids].map(memoryMb);
  return { rss: all.reduce((a, m) => a + m.rss, 0), pss: all.reduce((a, m) => a + m.pss, 0), gateway: all[0].rss, children: pids.length };
}

/**
 * 1 and 2: steady echo load on one server (2025 sessions, 2026 stateless clients and classic /command in
 * turn) while its env is edited every ROLLOUT_EVERY_MS; each edit is an overlap rollout. A rollout's window
 * runs from the edit until the status shows it done (no rollout, nothing draining); a request counts for the
 * window if it was in flight at any time in it, and for steady state otherwise.
 */
async function rolloutsUnderLoad() {
  const spec = (rev) => manifestOf({ demo: demo({ env: { BENCH_REV: String(rev) } }) });
  const gw = await launchGateway(spec(0));
  try {
    const mcp = `${gw.base}/mcp/demo/mcp`;
    const classic = `${gw.base}/mcp/demo/command`;
    const clients = [
      ...(await openSessions(mcp, 4)).map((headers) => ({ face: '2025 session', url: mcp, headers })),
      ...statelessClients(4).map((headers) => ({ face: '2026 stateless', url: mcp, headers })),
      ...Array.from({ length: 4 }, () => ({ face: 'classic /command', url: classic, headers: {} })),
    ];
    await runFor(clients, 4, 1000); // warm-up
    const before = (await serverStatus(gw.base)).find((s) => s.name === 'demo');
    const duration = (ROLLOUTS + 0.5) * ROLLOUT_EVERY_MS;
    const t0 = performance.now();
    const edits = [];
    const samples = [];
    let loading = true;
    const editing = (async () => {
      for (let k = 1; k <= ROLLOUTS; k++) {
        await sleep(t0 + (k - 0.5) * ROLLOUT_EVERY_MS - performance.now());
        edits.push(performance.now());
        writeManifest(gw.file, spec(k));
      }
    })();
    const sampling = (async () => {
      while (loading) {
        const s = (await serverStatus(gw.base)).find((x) => x.name === 'demo');
        samples.push({ t: performance.now(), pid: s.pid, succeeded: s.rollouts.succeeded - before.rollouts.succeeded, failed: s.rollouts.failed - before.rollouts.failed, busy: s.rollout !== null || s.draining.length > 0 });
        await sleep(50);
      }
    })();
    const load = await runFor(clients, ROLLOUT_CONCURRENCY, duration);
    loading = false;
    await Promise.all([editing, sampling]);
    // Let the last rollout finish before reading its end.
    for (let i = 0; i < 100; i++) {
      const s = (await serverStatus(gw.base)).find((x) => x.name === 'demo');
      samples.push({ t: performance.now(), pid: s.pid, succeeded: s.rollouts.succeeded - before.rollouts.succeeded, failed: s.rollouts.failed - before.rollouts.failed, busy: s.rollout !== null || s.draining.length > 0 });
      if (s.rollouts.succeeded + s.rollouts.failed - before.rollouts.succeeded - before.rollouts.failed >= ROLLOUTS && !samples.at(-1).busy) break;
      await sleep(100);
    }
    const windows = edits.map((at, k) => {
      const done = samples.find((s) => s.t > at && s.succeeded + s.failed >= k + 1 && !s.busy);
      return { from: at, to: done?.t ?? Infinity };
    });
    const inWindow = (r) => windows.some((w) => r.start < w.to && r.end > w.from);
    const lat = (rs) => rs.map((r) => r.end - r.start).sort((a, b) => a - b);
    const during = lat(load.requests.filter(inWindow));
    const steady = lat(load.requests.filter((r) => !inWindow(r)));
    let pidChanges = 0;
    for (let i = 1; i < samples.length; i++) if (samples[i].pid !== samples[i - 1].pid) pidChanges++;
    const last = samples.at(-1);
    const left = descendants(gw.proc.pid).length;
    return {
      requests: load.requests.length,
      seconds: duration / 1000,
      failures: load.failures,
      edits: edits.length,
      pidChanges,
      succeeded: last.succeeded,
      failed: last.failed,
      children: left,
      windowMs: median(windows.map((w) => w.to - w.from)),
      during: { n: during.length, p50: percentile(during, 50), p99: percentile(during, 99) },
      steady: { n: steady.length, p50: percentile(steady, 50), p99: percentile(steady, 99) },
      warnings: gw.log().split('\n').filter((l) => /"level":(4|5|6)\d/.test(l)),
    };
  } finally {
    await gw.stop();
  }
}

/** The floor of a cold start: spawn the demo server here and wait for its answer to initialize (ms). */
function bareStart() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('node', [DEMO], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', reject);
    child.stdout.once('data', () => {
      const ms = performance.now() - t0;
      child.once('exit', () => resolve(ms));
      child.stdin.end();
    });
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } };
    child.stdin.write(JSON.stringify(init) + '\n');
  });
}

/**
 * 3: the first tools/call of fresh on-demand servers (each never started: spawn, initialize, the call), one
 * server after the other; the same call on the running server; and again after idleStop put it back to idle.
 * In turn with the cold starts, the demo server started bare (no gateway), for the floor.
 */
async function coldStart() {
  const names = Array.from({ length: COLD_SAMPLES }, (_, i) => `od${i}`);
  const gw = await launchGateway(manifestOf(Object.fromEntries(names.map((n) => [n, demo({ start: 'on-demand', idleStop: '2s' })]))));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const cold = [];
    const warm = [];
    const bare = [];
    for (const name of names) {
      await sleep(200);
      bare.push(await bareStart()); // in turn with the cold starts: the same conditions for both
      await sleep(200);
      const s = (await serverStatus(gw.base)).find((x) => x.name === name);
      if (s.state !== 'idle') throw new Error(`${name} is ${s.state}, not idle, before its first call`);
      cold.push(await classicCall(agent, gw.base, name, `first ${name}`));
      for (let i = 0; i < WARM_CALLS; i++) warm.push(await classicCall(agent, gw.base, name, `again ${name} ${i}`));
    }
    const deadline = Date.now() + 30_000;
    while ((await serverStatus(gw.base)).some((s) => s.state !== 'idle')) {
      if (Date.now() > deadline) throw new Error('on-demand servers not idle 30 s after their last call (idleStop 2s)');
      await sleep(200);
    }
    const idled = descendants(gw.proc.pid).length;
    const restart = [];
    for (const name of names) {
      await sleep(200);
      restart.push(await classicCall(agent, gw.base, name, `back ${name}`));
    }
    return { cold: median(cold), warm: median(warm), restart: median(restart), bare: median(bare), idled, samples: names.length };
  } finally {
    agent.destroy();
    await gw.stop();
  }
}

/** 4: FLEET servers, FLEET_USED of them called once each; the host memory of the gateway and its children. */
async function fleetMemory(start) {
  const servers = Object.fromEntries(Array.from({ length: FLEET }, (_, i) => [`s${String(i).padStart(3, '0')}`, demo({ start })]));
  // 100 node children on 2 cores take a while to start: no start counts as failed for being slow.
  const t0 = performance.now();
  const gw = await launchGateway(manifestOf(servers, { startTimeout: '5m' }), 60_000);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    let running = 0;
    if (start === 'always') {
      const deadline = Date.now() + 5 * 60_000;
      while ((running = (await serverStatus(gw.base)).filter((s) => s.state === 'running').length) < FLEET) {
        if (Date.now() > deadline) throw new Error(`${running} of ${FLEET} servers running after 5 minutes`);
        await sleep(500);
      }
    }
    const upSeconds = (performance.now() - t0) / 1000;
    for (const name of Object.keys(servers).slice(0, FLEET_USED)) await classicCall(agent, gw.base, name, `hello ${name}`);
    await sleep(FLEET_SETTLE_MS);
    running = (await serverStatus(gw.base)).filter((s) => s.state === 'running').length;
    return { start, running, upSeconds, ...treeMemory(gw.proc.pid) };
  } finally {
    agent.destroy();
    await gw.stop();
  }
}

async function supervision() {
  process.stdout.write('measuring supervision: rollouts under load… ');
  const ro = await rolloutsUnderLoad();
  process.stdout.write('cold starts… ');
  const cs = await coldStart();
  process.stdout.write(`${FLEET} servers on demand… `);
  const od = await fleetMemory('on-demand');
  process.stdout.write(`${FLEET} servers always… `);
  const al = await fleetMemory('always');
  console.log('done');

  console.log(`\nSupervision (the gateway from dist/, demo servers, liveness off)\n`);
  console.log(
    `rollouts under load: ${ro.requests} echo calls in ${ro.seconds} s at c${ROLLOUT_CONCURRENCY} (2025 sessions, 2026 stateless, classic /command in turn), ` +
      `env edited ${ro.edits} times`,
  );
  console.log(`  errors: ${ro.failures.length}`);
  const byWhat = new Map();
  for (const f of ro.failures) {
    const key = `${f.face}: HTTP ${f.status} ${f.data}`;
    byWhat.set(key, (byWhat.get(key) ?? 0) + 1);
  }
  for (const [what, n] of byWhat) console.log(`    ${n} × ${what}`);
  console.log(`  rollouts seen: ${ro.pidChanges} pid changes, status rollouts succeeded ${ro.succeeded}, failed ${ro.failed}; children left after: ${ro.children}`);
  if (ro.warnings.length > 0) {
    console.log(`  gateway warnings and errors (${ro.warnings.length}):`);
    for (const l of ro.warnings.slice(0, 20)) console.log(`    ${l.slice(0, 400)}`);
  }
  console.log(`  rollout window (edit → swapped and drained), median: ${ro.windowMs.toFixed(0)} ms`);
  console.log('                              requests   p50 ms   p99 ms');
  console.log(`  steady state               ${String(ro.steady.n).padStart(8)} ${fmt(ro.steady.p50, 3)} ${fmt(ro.steady.p99, 3)}`);
  console.log(`  in rollout windows         ${String(ro.during.n).padStart(8)} ${fmt(ro.during.p50, 3)} ${fmt(ro.during.p99, 3)}`);
  console.log(`  ratio (windows / steady)            ${fmt(ro.during.p50 / ro.steady.p50, 2)}x${fmt(ro.during.p99 / ro.steady.p99, 2)}x`);

  console.log(`\ncold start (classic tools/call echo, median of ${cs.samples} servers, ${WARM_CALLS} calls each when running):`);
  console.log(`  first call on a fresh on-demand server: ${cs.cold.toFixed(1)} ms`);
  console.log(`  the same call, server running:          ${cs.warm.toFixed(3)} ms (cold is ${(cs.cold / cs.warm).toFixed(0)}x)`);
  console.log(`  first call after idleStop (2s):         ${cs.restart.toFixed(1)} ms (children while idle: ${cs.idled})`);
  console.log(`  (the floor: node spawning the demo server until it answers initialize, no gateway: ${cs.bare.toFixed(1)} ms; cold is ${(cs.cold / cs.bare).toFixed(2)}x)`);

  console.log(`\nhost memory, ${FLEET} servers configured, ${FLEET_USED} called once each (gateway + children, from /proc):`);
  console.log('                   children  summed RSS MB  summed PSS MB  gateway RSS MB  ready after s');
  for (const m of [od, al]) {
    console.log(`  start: ${m.start.padEnd(10)} ${String(m.children).padStart(8)}  ${fmt(m.rss, 1)}       ${fmt(m.pss, 1)}       ${fmt(m.gateway, 1)}        ${fmt(m.upSeconds, 1)}`);
  }
  console.log(`  ratio (always / on-demand): ${(al.rss / od.rss).toFixed(1)}x summed RSS, ${(al.pss / od.pss).toFixed(1)}x PSS`);
  if (ro.failures.length > 0 || ro.failed > 0 || ro.succeeded < ro.edits || al.running < FLEET) process.exitCode = 1;
}

async function main() {
  const i = process.argv.indexOf('--only');
  const only = i === -1 ? process.env.BENCH_ONLY : process.argv[i + 1];
  const sections = { comparison, supervision };
  if (only !== undefined && !(only in sections)) throw new Error(`--only: one of ${Object.keys(sections).join(', ')}`);
  for (const [name, section] of Object.entries(sections)) if (only === undefined || only === name) await section();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
