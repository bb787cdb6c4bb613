#!/usr/bin/env node
// `npm test`: the type check, then every vitest test; ends with one plain line
// "N passed, N failed, N skipped" (the type check counts as one test) and exits non-zero when anything
// failed. A skipped test is never counted as passed, and under CI=true a skip is a failure.
// `npm run test:container` (`--container`): the container tests instead (vitest.container.config.ts),
// with no type check of their own, counted and summed up the same way.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const container = process.argv[2] === '--container';
const extra = container ? ['--config', 'vitest.container.config.ts', ...process.argv.slice(3)] : process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

// The type check of everything, then the build of src/ into dist/ (what bin/mcp-gateway.js runs, and so
// what the CLI tests run): one counted step. The container tests build the image from the sources instead.
if (!container) {
  const tsc = spawnSync('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  const build = tsc.status === 0 ? spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' }) : tsc;
  if (build.status === 0) passed++;
  else {
    failed++;
    console.error('typecheck or build failed');
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gateway-test-'));
const report = path.join(dir, 'vitest.json');
// Tests that skip for want of a tool say why here (test/helpers/tools.ts).
const skipLog = path.join(dir, 'skipped.txt');
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra],
  { stdio: 'inherit', env: { ...process.env, MCP_GATEWAY_SKIP_LOG: skipLog } },
);
let skipReasons = [];
// The names of the tests that failed, printed again just above the summary line: a CI log shows only its
// tail, and the failure's own report is far above it.
let failures = [];
try {
  skipReasons = readFileSync(skipLog, 'utf8').split('\n').filter((l) => l !== '');
} catch {
  // nothing skipped for a missing tool
}
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  failures = failedTests(r);
  // A file that fails to load has no tests to count: count it as one failure, never as a pass.
  if (vitest.status !== 0 && r.numFailedTests === 0) failed++;
} catch {
  failed++;
  console.error(`vitest wrote no report (exit ${vitest.status})`);
}
rmSync(dir, { recursive: true, force: true });
if (skipped > 0 && process.env.CI === 'true') {
  console.error(`${skipped} tests skipped under CI=true: CI must install what they need`);
  failed += skipped;
  skipped = 0;
}
for (const line of skipReasons) console.log(`skipped: ${line}`);
for (const line of failures) console.log(`failed: ${line}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);

/** "file > test name: first line of the error" for each failed test, or each file that failed to load. */
function failedTests(report) {
  const lines = [];
  for (const file of report.testResults ?? []) {
    const name = path.relative(process.cwd(), file.name);
    const failedHere = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failedHere) {
      const why = String(t.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      lines.push(`${name} > ${t.fullName}: ${why}`);
    }
    if (failedHere.length === 0 && file.status === 'failed') {
      lines.push(`${name}: ${String(file.message ?? 'failed to run').split('\n')[0].slice(0, 300)}`);
    }
  }
  return lines;
}
