#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader: no build step between a `git pull` and a restart,
// and stack traces point at the files in src/.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
