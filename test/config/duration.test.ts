import { describe, it, expect } from 'vitest';
import { isTimerDuration, isTooLong, MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from '../../src/config/duration.ts';

describe('parseDuration', () => {
  it('takes whole non-negative numbers as milliseconds', () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(1500)).toBe(1500);
  });

  it('reads units and compounds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
    expect(parseDuration('0s')).toBe(0);
  });

  it('rejects everything else', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, '', '5', ' 5s', '5s ', '5 s', '-5s', '5x', '5S', 's', '.5s', '5.s', '30s1m', '1s1s', '1d', '1e3ms']) {
      expect(parseDuration(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('the timer limit', () => {
  it('is 2^31-1 ms, and the text shown for it is the longest whole-second value under it', () => {
    expect(MAX_DURATION_MS).toBe(2_147_483_647);
    expect(parseDuration(MAX_DURATION_TEXT)).toBeLessThanOrEqual(MAX_DURATION_MS);
    expect(parseDuration(MAX_DURATION_TEXT)! + 1000).toBeGreaterThan(MAX_DURATION_MS);
  });

  it('isTimerDuration: valid and at most the limit', () => {
    for (const ok of ['596h', MAX_DURATION_TEXT, MAX_DURATION_MS, 0, '5s']) expect(isTimerDuration(ok), String(ok)).toBe(true);
    for (const no of ['600h', '596h31m24s', MAX_DURATION_MS + 1, '5x', -1]) expect(isTimerDuration(no), String(no)).toBe(false);
  });

  it('isTooLong: well formed and past the limit, however far', () => {
    for (const long of ['600h', '596h31m24s', MAX_DURATION_MS + 1, '100000000000000000000h', 1e20]) expect(isTooLong(long), String(long)).toBe(true);
    for (const other of ['596h', MAX_DURATION_MS, '5x', '30s1m', -1, 1.5, null, true]) expect(isTooLong(other), String(other)).toBe(false);
  });
});
