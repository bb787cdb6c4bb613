import { describe, expect, it } from 'vitest';
import { Slots } from '../../src/router/slots.ts';

/** A limit whose grants are recorded; `onGrant` may act inside a grant (release at once, …). */
function limit(max: number, onGrant: (w: string, s: Slots<string>) => void = () => {}) {
  const granted: string[] = [];
  const s: Slots<string> = new Slots<string>(max, 0, (w) => {
    granted.push(w);
    onGrant(w, s);
  });
  return { s, granted };
}

describe('Slots', () => {
  it('hands slots over first come first served; a waiter that leaves loses its place', () => {
    const { s, granted } = limit(1);
    expect(s.take('a')).toBe(true);
    expect([s.take('b'), s.take('c'), s.take('d')]).toEqual([false, false, false]);
    expect(s.leave('c')).toBe(true);
    expect(s.leave('c')).toBe(false);
    s.release();
    s.release();
    expect(granted).toEqual(['b', 'd']);
    expect([s.held, s.waiting]).toEqual([1, 0]);
  });

  it('max raised: the waiters get the opened slots at once', () => {
    const { s, granted } = limit(1);
    s.take('a');
    for (const w of ['b', 'c', 'd']) s.take(w);
    s.max = 3;
    expect(granted).toEqual(['b', 'c']);
    expect([s.held, s.waiting]).toEqual([3, 1]);
  });

  it('max lowered: a freed slot is handed over only once fewer than max are held', () => {
    const { s, granted } = limit(3);
    for (const w of ['a', 'b', 'c', 'd']) s.take(w);
    s.max = 1;
    s.release();
    s.release();
    expect(granted).toEqual([]);
    expect(s.take('e')).toBe(false); // no jumping the line either
    s.release();
    expect(granted).toEqual(['d']);
    expect([s.held, s.waiting]).toEqual([1, 1]);
  });

  it('a long line whose waiters give their slot back at once is handed over in a loop, not a call per waiter', () => {
    const { s, granted } = limit(1, (_w, slots) => slots.release());
    s.take('first');
    for (let i = 0; i < 100_000; i++) s.take(`w${i}`);
    s.release(); // would overflow the stack if each release nested the next hand-over
    expect(granted).toHaveLength(100_000);
    expect([s.held, s.waiting]).toEqual([0, 0]);
  });
});
