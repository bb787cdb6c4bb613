import { describe, expect, it } from 'vitest';
import type { RestartSpec } from '../../src/config/types.ts';
import { backoffDelay, checkStartLimit, shouldRestart } from '../../src/supervisor/backoff.ts';

const spec: RestartSpec = { policy: 'always', backoff: { initialMs: 100, maxMs: 1000, resetAfterMs: 5000 }, limit: { count: 3, windowMs: 10_000 } };

describe('backoffDelay', () => {
  it('doubles from initial up to max, with half of it jittered', () => {
    expect(backoffDelay(spec, 1, () => 0)).toBe(50);
    expect(backoffDelay(spec, 1, () => 1)).toBe(100);
    expect(backoffDelay(spec, 3, () => 1)).toBe(400);
    expect(backoffDelay(spec, 10, () => 1)).toBe(1000);
    expect(backoffDelay(spec, 10, () => 0)).toBe(500);
  });
});

describe('checkStartLimit', () => {
  it('counts only restarts inside the window', () => {
    expect(checkStartLimit(spec, [0, 1000, 2000], 5000).exceeded).toBe(true);
    const r = checkStartLimit(spec, [0, 1000, 2000], 10_500);
    expect(r).toEqual({ recent: [1000, 2000], exceeded: false });
  });
});

describe('shouldRestart', () => {
  it('follows the policy', () => {
    expect(shouldRestart('always', 0, null)).toBe(true);
    expect(shouldRestart('never', 1, null)).toBe(false);
    expect(shouldRestart('on-failure', 0, null)).toBe(false);
    expect(shouldRestart('on-failure', 1, null)).toBe(true);
    expect(shouldRestart('on-failure', null, 'SIGKILL')).toBe(true);
  });
});
