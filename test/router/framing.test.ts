import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/router/framing.ts';

function split(chunks: (string | Buffer)[]): string[] {
  const s = new LineSplitter();
  const out: string[] = [];
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c, (l) => out.push(l));
  return out;
}

describe('LineSplitter.push', () => {
  it('joins a line split across chunks', () => {
    expect(split(['{"a":', '1}\n{"b"', ':2}\n'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('keeps a multi-byte character split between chunks intact', () => {
    const bytes = Buffer.from('"héllo ✓"\n');
    expect(split([bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)])).toEqual(['"héllo ✓"']);
  });

  it('handles a line far larger than any chunk, with no length cap', () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const chunks: string[] = [];
    for (let i = 0; i < big.length; i += 65536) chunks.push(big.slice(i, i + 65536));
    chunks.push('\nnext\n');
    const lines = split(chunks);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.length).toBe(big.length);
    expect(lines[1]).toBe('next');
  });

  it('trims CR, skips empty lines, and holds an unfinished line back', () => {
    const s = new LineSplitter();
    const out: string[] = [];
    s.push(Buffer.from('a\r\n\n\nb'), (l) => out.push(l));
    expect(out).toEqual(['a']);
    expect(s.buffered).toBe(1);
  });
});

describe('LineSplitter with a maximum line size', () => {
  it('drops the rest of a line past the limit, reports its head and size, and goes on with the next', () => {
    const s = new LineSplitter(10);
    const lines: string[] = [];
    const over: { head: string; bytes: number }[] = [];
    const onOver = (o: { head: Buffer; bytes: number }) => void over.push({ head: o.head.toString(), bytes: o.bytes });
    s.push(Buffer.from('short\n0123456'), (l) => lines.push(l), onOver);
    s.push(Buffer.from('789abcdef'), (l) => lines.push(l), onOver);
    expect(s.buffered).toBe(0); // nothing held while the long line streams past
    s.push(Buffer.from('ghij\nok\n'), (l) => lines.push(l), onOver);
    expect(lines).toEqual(['short', 'ok']);
    expect(over).toEqual([{ head: '0123456789abcdef', bytes: 20 }]);
  });

  it('flushes an unfinished last line', () => {
    const s = new LineSplitter();
    const lines: string[] = [];
    s.push(Buffer.from('a\nlast words'), (l) => lines.push(l));
    s.flush((l) => lines.push(l));
    expect(lines).toEqual(['a', 'last words']);
  });
});
