// `mcp-gateway validate` on durations a Node timer cannot hold (setTimeout turns anything past 2^31-1 ms
// into 1 ms, and every request would then time out at once): refused at their line and column.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, cli, tempDir } from './cli.ts';

afterEach(cleanup);

const TOO_LONG = 'too long; a duration is at most 596h31m23s (about 24.8 days): Node timers cannot hold longer';

function manifestFile(name: string, timeout: string): string {
  const file = path.join(tempDir(), name);
  writeFileSync(file, `version: 1\nservers:\n  demo:\n    command: node\n    requestTimeout: ${timeout}\n`);
  return file;
}

describe('mcp-gateway validate: durations past the timer limit', () => {
  it('refuses requestTimeout: 600h at its line and column, naming the limit', async () => {
    const file = manifestFile('hours.yaml', '600h');
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${file}:5:21: servers.demo.requestTimeout: ${TOO_LONG}\n`);
  });

  it('refuses a whole number of ms one past 2^31-1', async () => {
    const file = manifestFile('ms.yaml', '2147483648');
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${file}:5:21: servers.demo.requestTimeout: ${TOO_LONG}\n`);
  });

  it('accepts 596h and 2147483647 ms', async () => {
    const hours = manifestFile('596h.yaml', '596h');
    const ms = manifestFile('max.yaml', '2147483647');
    const r = await cli(['validate', hours, ms]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${hours}: ok, 1 server (1 enabled), listen 127.0.0.1:3001\n${ms}: ok, 1 server (1 enabled), listen 127.0.0.1:3001\n`);
  });
});
