import { describe, it, expect } from 'vitest';
import { parseDuration } from '../../src/config/duration.ts';

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
