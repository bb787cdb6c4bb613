// A counting limit with a line: at most `max` holders at once; the others wait in line, first come first
// served, and may leave it at any time (a client that went away). The router holds one per child
// (maxInFlight). How long a waiter may stand in line (queueTimeoutMs) is its owner's business: the owner
// times the wait and calls leave(); the limit only keeps the count and the order.

export class Slots<W> {
  /** The longest wait in line the owner allows (the manifest's queueTimeout); read by the owner. */
  queueTimeoutMs: number;
  #max: number;
  #held = 0;
  /** Waiters in arrival order (a Set keeps insertion order and leaves in O(1)). */
  readonly #line = new Set<W>();
  readonly #grant: (waiter: W) => void;
  /** A hand-over loop is running: a release from inside a grant only counts, the loop goes on. */
  #handingOver = false;

  /** `grant` is told when a waiter in line gets its slot; the waiter holds it from then on. */
  constructor(max: number, queueTimeoutMs: number, grant: (waiter: W) => void) {
    this.#max = max;
    this.queueTimeoutMs = queueTimeoutMs;
    this.#grant = grant;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * A new limit (a reload). Raised: waiters get the slots that opened, at once. Lowered: holders keep
   * theirs, and no slot is handed over again until fewer than the new maximum are held.
   */
  set max(max: number) {
    this.#max = max;
    this.#handOver();
  }

  /** Slots held now (may exceed `max` for a while after it was lowered). */
  get held(): number {
    return this.#held;
  }

  /** Waiters in line. */
  get waiting(): number {
    return this.#line.size;
  }

  /** The waiters in line, first in line first. */
  waiters(): IterableIterator<W> {
    return this.#line.values();
  }

  /** Takes a slot for `waiter` now (true), or puts it in line (false): `grant` runs when its turn comes. */
  take(waiter: W): boolean {
    if (this.#held < this.#max && this.#line.size === 0) {
      this.#held++;
      return true;
    }
    this.#line.add(waiter);
    return false;
  }

  /** Takes `waiter` out of the line; false when it was not in line (it holds a slot, or never asked). */
  leave(waiter: W): boolean {
    return this.#line.delete(waiter);
  }

  /** Gives a held slot back; the first in line gets it, if fewer than `max` are then held. */
  release(): void {
    this.#held--;
    this.#handOver();
  }

  #handOver(): void {
    // `grant` may release at once (a request that cannot be sent after all): that release only counts,
    // and this loop hands the slot on, so a long line never nests one call per waiter.
    if (this.#handingOver) return;
    this.#handingOver = true;
    try {
      while (this.#held < this.#max && this.#line.size > 0) {
        const next = this.#line.values().next().value as W;
        this.#line.delete(next);
        this.#held++;
        this.#grant(next);
      }
    } finally {
      this.#handingOver = false;
    }
  }
}
