import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript beside the bin, no types
import { buildState } from '../../bin/build-state.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A tree like the package's: src/, schemas/, and dist/.built when `built` is given (seconds). */
function tree(sourceTime: number, built?: number): string {
  const root = mkdtempSync(path.join(tmpdir(), 'mcp-gw-build-'));
  dirs.push(root);
  for (const [dir, file] of [['src/cli', 'main.ts'], ['schemas', 'manifest.schema.json']] as const) {
    mkdirSync(path.join(root, dir), { recursive: true });
    writeFileSync(path.join(root, dir, file), 'x');
    utimesSync(path.join(root, dir, file), sourceTime, sourceTime);
  }
  if (built !== undefined) {
    mkdirSync(path.join(root, 'dist'));
    writeFileSync(path.join(root, 'dist', '.built'), '');
    utimesSync(path.join(root, 'dist', '.built'), built, built);
  }
  return root;
}

describe('buildState (which code bin/mcp-gateway.js runs)', () => {
  it('is current when dist/ was built after the sources changed', () => {
    expect(buildState(tree(1000, 2000))).toBe('current');
  });
  it('is stale after a pull nobody rebuilt (sources newer than the build)', () => {
    expect(buildState(tree(3000, 2000))).toBe('stale');
  });
  it('is current without src/ (the container image ships dist/ and schemas/ alone)', () => {
    const root = tree(1000, 2000);
    rmSync(path.join(root, 'src'), { recursive: true });
    expect(buildState(root)).toBe('current');
    utimesSync(path.join(root, 'schemas', 'manifest.schema.json'), 3000, 3000);
    expect(buildState(root)).toBe('stale');
  });
  it('is missing when nothing was built', () => {
    expect(buildState(tree(1000))).toBe('missing');
  });
});
