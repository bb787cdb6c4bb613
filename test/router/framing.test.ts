import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
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

describe('LineSplitter onSkipped', () => {
  it('shows every byte of each line over the limit exactly once, in order, before its onOversize (generated)', () => {
    const limit = 40;
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom(...'ab{}"\\ xyz'), minLength: 1, maxLength: 3 * limit, size: 'max' }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat({ max: 1000 }), { maxLength: 12 }),
        (lines, cuts) => {
          const bytes = Buffer.from(lines.join('\n') + '\n');
          let skipped: Buffer[] = [];
          const dropped: string[] = [];
          const kept: string[] = [];
          const s = new LineSplitter(limit, (b) => void skipped.push(Buffer.from(b)));
          const onOversize = (o: { bytes: number }) => {
            const all = Buffer.concat(skipped).toString();
            expect(all.length).toBe(o.bytes);
            dropped.push(all);
            skipped = [];
          };
          let from = 0;
          for (const cut of [...new Set(cuts)].sort((a, b) => a - b).filter((c) => c > 0 && c < bytes.length)) {
            s.push(bytes.subarray(from, cut), (l) => kept.push(l), onOversize);
            from = cut;
          }
          s.push(bytes.subarray(from), (l) => kept.push(l), onOversize);
          expect(dropped).toEqual(lines.filter((l) => l.length > limit));
          expect(kept).toEqual(lines.filter((l) => l.length <= limit));
          expect(skipped).toEqual([]);
        },
      ),
      { seed: 3939, numRuns: 500 },
    );
  });
});
