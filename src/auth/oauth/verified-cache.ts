// Verified tokens remembered by digest, so the requests of one session after the first cost a Map lookup
// instead of a signature check. Pure apart from hashing: the clock is passed in.
import { createHash } from 'node:crypto';

/** The cache key of `token` presented for `resource`: a digest, so the cache never holds a token. */
export function cacheKey(token: string, resource: string): string {
  return createHash('sha256').update(resource).update('\n').update(token).digest('base64url');
}

/**
 * A bounded map with a deadline per entry. When full, the oldest entry (by insertion) goes; an entry past
 * its deadline is never returned and is dropped when met.
 */
export class VerifiedCache<V> {
  readonly #entries = new Map<string, { readonly value: V; readonly until: number }>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, until: number): void {
    if (this.#max <= 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, until });
  }

  clear(): void {
    this.#entries.clear();
  }
}
