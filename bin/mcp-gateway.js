#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=256
// The V8 flags keep the heap small (see README, "Performance"); `npm start` passes the same ones.
// Runs the compiled gateway (dist/, built by `npm run build`, which `npm install` and `npm start` run).
// Without dist/ (a checkout nobody built) it falls back to the TypeScript sources through tsx: slower to
// start and about 30 MB heavier (tsx's loader runs in a thread of its own), but it works.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled) && process.env.MCP_GATEWAY_FROM_SOURCE !== '1') {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
