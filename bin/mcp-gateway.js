#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=256
// The V8 flags keep the heap small (see README, "Performance"); `npm start` passes the same ones.
// Runs the compiled gateway (dist/, built by `npm run build`, which `npm install` and `npm start` run).
// Without dist/, or when src/ changed since it was built (a `git pull` without `npm ci`), it runs the
// TypeScript sources through tsx instead: slower to start and about 30 MB heavier (tsx's loader runs in
// a thread of its own), but never stale.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
// Written by `npm run build` after tsc succeeds (tsc leaves its own files alone when nothing changed).
const built = new URL('dist/.built', root);

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function distIsCurrent() {
  if (process.env.MCP_GATEWAY_FROM_SOURCE === '1' || !existsSync(built)) return false;
  const src = fileURLToPath(new URL('src', root));
  const schemas = fileURLToPath(new URL('schemas', root));
  return Math.max(newestSource(src), newestSource(schemas)) <= statSync(built).mtimeMs;
}

let main;
if (distIsCurrent()) {
  ({ main } = await import(new URL('dist/cli/main.js', root).href));
} else {
  if (existsSync(built) && process.env.MCP_GATEWAY_FROM_SOURCE !== '1') {
    process.stderr.write('mcp-gateway: dist/ is older than src/; running the sources (run `npm run build` to fix)\n');
  }
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
