#!/usr/bin/env node
// npm run bench: the gateway, a bare HTTP→stdio forwarder (the ceiling) and supergateway, each in front
// of the same bundled demo server, measured one after the other in this one run, on this machine, by the
// same client. Prints requests/s, p50, p99 and RSS per target, then the ratios against the targets.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOOL, openSessions, run, statelessClients } from './load.mjs';

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

async function main() {
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
