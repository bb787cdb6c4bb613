import { describe, expect, it } from 'vitest';
import type { ServerSpec } from '../../src/config/types.ts';
import { Schedules } from '../../src/reconciler/schedules.ts';

const spec = (name: string, restart?: string) => ({ name, ...(restart ? { schedule: { restart } } : {}) }) as unknown as ServerSpec;

describe('Schedules.sync', () => {
  it('keeps unchanged tasks, drops removed ones, and starts none after close()', () => {
    const s = new Schedules(() => {});
    s.sync(new Map([['a', spec('a', '0 4 * * *')], ['b', spec('b', '0 5 * * *')]]));
    expect(s.size).toBe(2);
    s.sync(new Map([['a', spec('a', '0 4 * * *')], ['b', spec('b')]]));
    expect(s.size).toBe(1);
    s.close();
    s.sync(new Map([['a', spec('a', '0 4 * * *')]])); // a pass that ends after shutdown began
    expect(s.size).toBe(0);
  });
});
