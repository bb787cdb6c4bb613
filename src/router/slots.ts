// A counting limit with a bounded wait: at most `max` holders; more wait in line up to `queueTimeoutMs`,
// then are refused. The router holds one per child (maxInFlight / queueTimeout).

export class Slots {
  max: number;
  queueTimeoutMs: number;
  #held = 0;
  readonly #line: (() => void)[] = [];

  constructor(max: number, queueTimeoutMs: number) {
    this.max = max;
    this.queueTimeoutMs = queueTimeoutMs;
  }

  /** Takes a slot, at once or after waiting; false when none came free in time. */
  take(): Promise<boolean> | boolean {
    if (this.#held < this.max) {
      this.#held++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const go = (): void => {
        clearTimeout(timer);
        this.#held++;
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.#line.indexOf(go);
        if (i !== -1) this.#line.splice(i, 1);
        resolve(false);
      }, this.queueTimeoutMs);
      this.#line.push(go);
    });
  }

  release(): void {
    this.#held--;
    this.#line.shift()?.();
  }
}
