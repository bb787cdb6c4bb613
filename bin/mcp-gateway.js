#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=256
// The V8 flags keep the heap small (see README, "Performance"); `npm start` passes the same ones.
// Runs the compiled gateway (dist/, built by `npm run build`, which `npm install` and `npm start` run).
// Without dist/, or when src/ changed since it was built (a `git pull` without `npm ci`), it runs the
// TypeScript sources through tsx instead: slower to start and about 30 MB heavier (tsx's loader runs in
// a thread of its own), but never stale.
import { fileURLToPath } from 'node:url';
import { buildState } from './build-state.js';

const root = new URL('..', import.meta.url);
const state = process.env.MCP_GATEWAY_FROM_SOURCE === '1' ? 'forced' : buildState(fileURLToPath(root));

let main;
if (state === 'current') {
  ({ main } = await import(new URL('dist/cli/main.js', root).href));
} else {
  if (state === 'stale') process.stderr.write('mcp-gateway: dist/ is older than src/; running the sources (run `npm run build` to fix)\n');
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
