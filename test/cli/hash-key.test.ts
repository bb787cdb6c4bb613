import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cli } from './cli.ts';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

describe('mcp-gateway hash-key', () => {
  it('prints the sha256 of the key on stdin (first line, trimmed)', async () => {
    const key = 'a-key-of-some-length-0123';
    const r = await cli(['hash-key'], {}, `${key}\n`);
    expect(r).toEqual({ code: 0, stdout: `${sha256(key)}\n`, stderr: '' });
  });

  it('refuses an empty, short or spaced key with exit 1, and a key on the command line with 2', async () => {
    for (const input of ['', 'short\n', 'has a space in it, quite long\n']) expect((await cli(['hash-key'], {}, input)).code).toBe(1);
    expect((await cli(['hash-key', 'a-key-of-some-length-0123'])).code).toBe(2);
  });

  it('--generate makes a new key and prints it with its hash', async () => {
    const r = await cli(['hash-key', '--generate']);
    expect(r.code).toBe(0);
    const m = /^key: ([A-Za-z0-9_-]{43})\nsha256: ([0-9a-f]{64})\n$/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(sha256(m![1]!));
  });
});
