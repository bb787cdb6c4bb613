// A token bucket per key name: `rps` tokens a second, at most `burst` saved up. Pure arithmetic on a
// clock passed in, so it is tested without waiting.
import type { RateLimitSpec } from '../config/types.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Buckets kept at most: one per key, and one per token subject seen (subjects are not listed anywhere,
 * so a flood of them must not grow the map without end); the oldest goes first.
 */
const MAX_BUCKETS = 10_000;

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  /** Takes one token for `name`; returns 0 when allowed, else the seconds until one is available. */
  take(name: string, limit: RateLimitSpec, now = Date.now()): number {
    let b = this.#buckets.get(name);
    if (b === undefined) {
      b = { tokens: limit.burst, at: now };
      this.#buckets.set(name, b);
      if (this.#buckets.size > MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.rps);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / limit.rps));
  }

  /** Forgets the buckets of callers that are gone (a key removed, a subject no grant covers any more). */
  retain(keep: (name: string) => boolean): void {
    for (const name of this.#buckets.keys()) if (!keep(name)) this.#buckets.delete(name);
  }
}
