#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=256
// The V8 flags keep the heap small (see README, "Performance"); `npm start` passes the same ones, and
// `run` started without them (`node bin/mcp-gateway.js run`) starts itself again with them (heap-flags.js;
// MCP_GATEWAY_NO_REEXEC=1 runs with the heap node was given instead).
// Runs the compiled gateway (dist/, built by `npm run build`, which `npm install` and `npm start` run).
// Without dist/, or when src/ changed since it was built (a `git pull` without `npm ci`), it runs the
// TypeScript sources through tsx instead: slower to start and about 30 MB heavier (tsx's loader runs in
// a thread of its own), but never stale.
import { fileURLToPath } from 'node:url';
import { buildState } from './build-state.js';
import { NO_RELAUNCH_ENV, missingHeapFlags, relaunch } from './heap-flags.js';

const args = process.argv.slice(2);
const serving = args[0] === 'run' && !args.includes('--help') && !args.includes('-h');
const missing = serving && process.env[NO_RELAUNCH_ENV] !== '1' ? missingHeapFlags(process.execArgv, process.env.NODE_OPTIONS) : [];
// A relaunching parent loads nothing more: it only passes signals on and waits.
if (missing.length > 0) relaunch(missing, fileURLToPath(import.meta.url), args);
else {
  const code = await (await loadMain())(args);
  // A gateway that has stopped ends here and now, not when its event loop has drained: while node closes
  // its handles, SIGTERM's default action is back, and the second SIGTERM of a service manager (systemd
  // signals every process of the unit; the relaunching parent passes its own on) would end it "killed by
  // SIGTERM" instead of exit 0. Other commands let stdout drain first.
  if (serving) process.exit(code);
  process.exitCode = code;
}

async function loadMain() {
  const root = new URL('..', import.meta.url);
  const state = process.env.MCP_GATEWAY_FROM_SOURCE === '1' ? 'forced' : buildState(fileURLToPath(root));
  if (state === 'current') return (await import(new URL('dist/cli/main.js', root).href)).main;
  if (state === 'stale') process.stderr.write('mcp-gateway: dist/ is older than src/; running the sources (run `npm run build` to fix)\n');
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
}
