// Liveness on its own, with the clock in the test's hands: when it pings, what counts as alive, and the
// bound on finding a hung child (failures × interval + timeout after it went quiet).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Liveness } from '../../src/supervisor/liveness.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const SPEC = { intervalMs: 1000, timeoutMs: 300, failures: 3 };

/** A child: `answers` says whether it answers a ping (after 10 ms); `heard` is when it last wrote. */
function fakeChild(answers: () => boolean) {
  const state = { heard: performance.now(), pings: [] as number[] };
  return {
    state,
    probe: {
      lastHeardAt: () => state.heard,
      ping: (timeoutMs: number) =>
        new Promise<void>((resolve) => {
          state.pings.push(performance.now());
          if (answers()) setTimeout(() => { state.heard = performance.now(); resolve(); }, 10);
          else setTimeout(resolve, timeoutMs);
        }),
    },
  };
}

describe('Liveness', () => {
  it('a hung child is declared dead within failures × interval + timeout of its last message', async () => {
    const c = fakeChild(() => false);
    const dead = vi.fn();
    const l = new Liveness(SPEC, c.probe, dead);
    await vi.advanceTimersByTimeAsync(3 * 1000 + 300 - 1);
    expect(dead).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(dead).toHaveBeenCalledTimes(1);
    expect(dead.mock.calls[0]![0]).toMatch(/3 pings in a row/);
    expect(c.state.pings).toEqual([1000, 2000, 3000]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(dead).toHaveBeenCalledTimes(1);
    l.stop();
  });

  it('never pings a child that keeps writing, and forgives a miss once it answers again', async () => {
    let answering = true;
    const c = fakeChild(() => answering);
    const dead = vi.fn();
    const l = new Liveness(SPEC, c.probe, dead);
    // Busy: a message every 400 ms for 5 s.
    for (let t = 0; t < 5000; t += 400) {
      c.state.heard = performance.now();
      await vi.advanceTimersByTimeAsync(400);
    }
    expect(c.state.pings).toEqual([]);
    // Quiet but answering: one ping per interval, never dead.
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.state.pings.length).toBeGreaterThanOrEqual(4);
    // Two misses, then an answer: the count starts over.
    answering = false;
    await vi.advanceTimersByTimeAsync(2 * 1000);
    answering = true;
    await vi.advanceTimersByTimeAsync(3 * 1000);
    answering = false;
    await vi.advanceTimersByTimeAsync(2 * 1000);
    expect(dead).not.toHaveBeenCalled();
    l.stop();
  });

  it('stop() ends it: no ping after, and no verdict for a ping under way', async () => {
    const c = fakeChild(() => false);
    const dead = vi.fn();
    const l = new Liveness({ ...SPEC, failures: 1 }, c.probe, dead);
    await vi.advanceTimersByTimeAsync(1100);
    l.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(c.state.pings).toHaveLength(1);
    expect(dead).not.toHaveBeenCalled();
  });
});
