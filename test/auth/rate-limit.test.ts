// The rate limiter's buckets: one per caller, tokens refilled by the clock, bounded in number, and kept
// across a reload for the callers that are still there.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/auth/rate-limit.ts';

const LIMIT = { rps: 1, burst: 2 };

describe('RateLimiter', () => {
  it('lets a burst through, then one a second', () => {
    const r = new RateLimiter();
    expect([r.take('a', LIMIT, 0), r.take('a', LIMIT, 0), r.take('a', LIMIT, 0)]).toEqual([0, 0, 1]);
    expect(r.take('a', LIMIT, 1000)).toBe(0);
  });

  it('keeps the buckets retain() keeps: a spent bucket stays spent across a reload', () => {
    const r = new RateLimiter();
    r.take('oauth:i#alice', LIMIT, 0);
    r.take('oauth:i#alice', LIMIT, 0);
    r.take('gone', LIMIT, 0);
    r.retain((name) => name.startsWith('oauth:'));
    expect(r.take('oauth:i#alice', LIMIT, 0)).toBe(1);
    r.take('gone', LIMIT, 0);
    expect(r.take('gone', LIMIT, 0)).toBe(0); // a fresh bucket: the old one was forgotten
  });

  it('holds at most 10,000 buckets: a flood of new names pushes out the oldest, not the heap', () => {
    const r = new RateLimiter();
    r.take('first', LIMIT, 0);
    r.take('first', LIMIT, 0);
    for (let i = 0; i < 10_000; i++) r.take(`subject-${i}`, LIMIT, 0);
    expect(r.take('first', LIMIT, 0)).toBe(0); // forgotten, so full again
  });
});
