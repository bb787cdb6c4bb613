// Pure restart arithmetic: how long to wait before the next start, and whether the start limit is hit.
import type { RestartSpec } from '../config/types.ts';

/** Exponential backoff with "equal jitter": half fixed, half random, so restarts of many children spread out. */
export function backoffDelay(spec: RestartSpec, consecutiveFailures: number, random: () => number = Math.random): number {
  const exp = Math.min(spec.backoff.maxMs, spec.backoff.initialMs * 2 ** Math.max(0, consecutiveFailures - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * systemd's StartLimitBurst/IntervalSec: `starts` holds the times of automatic restarts; returns the
 * ones still inside the window and whether one more would exceed the limit.
 */
export function checkStartLimit(spec: RestartSpec, starts: readonly number[], now: number): { recent: number[]; exceeded: boolean } {
  const recent = starts.filter((t) => now - t < spec.limit.windowMs);
  return { recent, exceeded: recent.length >= spec.limit.count };
}

/** Whether a child that exited this way should be started again under this policy. */
export function shouldRestart(policy: RestartSpec['policy'], code: number | null, signal: string | null): boolean {
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  return !(code === 0 && signal === null);
}
