import { spawnSync } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/gateway.ts';

const BIN = path.join(ROOT, 'bin', 'mcp-gateway.js');
const STAMP = path.join(ROOT, 'dist', '.built');
const validate = () => spawnSync(process.execPath, [BIN, 'validate', path.join(ROOT, 'mcp-gateway.yaml')], { encoding: 'utf8', env: { ...process.env, PORT: '' } });

describe('bin/mcp-gateway.js', () => {
  it('runs dist/ when it is current, and the sources (saying so) when src/ is newer', () => {
    const fresh = validate();
    expect(fresh.status).toBe(0);
    expect(fresh.stderr).toBe('');
    const { atime, mtime } = statSync(STAMP);
    try {
      utimesSync(STAMP, new Date(0), new Date(0)); // as after a `git pull` nobody rebuilt
      const stale = validate();
      expect(stale.status).toBe(0);
      expect(stale.stdout).toContain('mcp-gateway.yaml: ok');
      expect(stale.stderr).toContain('dist/ is older than src/; running the sources');
    } finally {
      utimesSync(STAMP, atime, mtime);
    }
  });
});
