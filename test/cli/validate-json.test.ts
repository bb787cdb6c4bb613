import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, cli, tempDir } from './cli.ts';

afterEach(cleanup);

describe('mcp-gateway validate --json', () => {
  it('prints one JSON document with every problem at file, line and col; exit 1 when any file is invalid', async () => {
    const dir = tempDir();
    const good = path.join(dir, 'good.yaml');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(good, 'version: 1\nservers:\n  a: { command: node }\n  b: { command: node, enabled: false }\n');
    writeFileSync(bad, 'version: 1\nservers:\n  a:\n    comand: node\n');
    const r = await cli(['validate', '--json', good, bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as unknown;
    expect(doc).toEqual({
      ok: false,
      files: [
        { file: good, ok: true, errors: [], servers: 2, enabled: 1, listen: { host: '127.0.0.1', port: 3001 } },
        {
          file: bad,
          ok: false,
          errors: [
            { file: bad, line: 3, col: 3, message: expect.stringContaining('missing required key "command"') },
            { file: bad, line: 4, col: 5, message: expect.stringContaining('unknown key "comand"') },
          ],
        },
      ],
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);

    const ok = await cli(['validate', good, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, files: [{ file: good, ok: true }] });
  });

  it('exits 2 on an unknown option', async () => {
    const r = await cli(['validate', '--jsn', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("mcp-gateway validate: Unknown option '--jsn'");
  });
});
