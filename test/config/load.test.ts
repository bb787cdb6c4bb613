import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadManifest } from '../../src/config/load.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gateway-load-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const VALID = 'version: 1\nservers:\n  demo:\n    command: node\n    cwd: work\n';

describe('loadManifest', () => {
  it('reads a file, hashes its bytes and resolves cwd against its folder', async () => {
    const file = path.join(dir, 'ok.yaml');
    await writeFile(file, VALID);
    const r = await loadManifest(file, {});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.desired.file).toBe(file);
    expect(r.desired.hash).toBe(createHash('sha256').update(VALID).digest('hex'));
    expect(r.desired.servers.get('demo')?.cwd).toBe(path.join(dir, 'work'));
  });

  it('reads through a symlink, keeping the link as the manifest path', async () => {
    await mkdir(path.join(dir, 'real'), { recursive: true });
    const target = path.join(dir, 'real', 'target.yaml');
    const link = path.join(dir, 'link.yaml');
    await writeFile(target, VALID);
    await symlink(target, link);
    const r = await loadManifest(link, {});
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.desired.file).toBe(link);
  });

  it('names a missing file as given, at 1:1', async () => {
    const given = path.relative(process.cwd(), path.join(dir, 'nope.yaml'));
    const r = await loadManifest(given, {});
    expect(r).toEqual({
      ok: false,
      hash: undefined,
      errors: [{ file: given, line: 1, col: 1, message: 'file not found; check the path, or create the manifest there' }],
    });
  });

  it('reports a directory as a problem, not a crash', async () => {
    const r = await loadManifest(dir, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`)).toEqual(['1:1: this is a directory; give the path of the manifest file']);
  });

  it('returns the hash with the errors when the file was read', async () => {
    const file = path.join(dir, 'bad.yaml');
    const text = 'version: 1\nservers:\n  demo: {}\n';
    await writeFile(file, text);
    const r = await loadManifest(file, {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.hash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(r.errors).toEqual([{ file, line: 3, col: 3, message: 'missing required key "command" in server "demo"; add e.g. "command: node"' }]);
  });

  it('accepts a byte-order mark and CRLF line ends', async () => {
    const file = path.join(dir, 'bom.yaml');
    await writeFile(file, '\uFEFFversion: 1\r\nservers:\r\n  demo:\r\n    command: node\r\n    bad: 1\r\n');
    const r = await loadManifest(file, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => `${e.line}:${e.col}`)).toEqual(['5:5']);
  });
});
