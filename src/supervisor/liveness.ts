// Liveness of one child, as a Kubernetes liveness probe: a child that has sent nothing for `interval` is
// pinged; any message from it within `timeout` (the pong or anything else) counts as alive. `failures`
// missed pings in a row mean the child is hung (a deadlock, a blocked event loop), and `onDead` is
// called once. A busy child is never pinged to death: what it sends while it works resets the count.
import type { LivenessSpec } from '../config/types.ts';

export interface LivenessProbe {
  /** When the child last sent anything (performance.now() time). */
  lastHeardAt(): number;
  /** Sends a ping; resolves when it is answered or given up (the answer itself does not matter). */
  ping(timeoutMs: number): Promise<void>;
}

export class Liveness {
  readonly #spec: LivenessSpec;
  readonly #probe: LivenessProbe;
  readonly #onDead: (why: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #misses = 0;
  #stopped = false;

  constructor(spec: LivenessSpec, probe: LivenessProbe, onDead: (why: string) => void) {
    this.#spec = spec;
    this.#probe = probe;
    this.#onDead = onDead;
    this.#schedule(spec.intervalMs);
  }

  /** Idempotent: no ping is sent and onDead is not called after it. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), Math.max(0, ms));
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const { intervalMs, timeoutMs, failures } = this.#spec;
    const quiet = performance.now() - this.#probe.lastHeardAt();
    if (quiet < intervalMs) {
      // It spoke recently: alive. Look again when it will have been quiet for a whole interval.
      this.#misses = 0;
      return this.#schedule(intervalMs - quiet);
    }
    const sentAt = performance.now();
    await this.#probe.ping(timeoutMs);
    if (this.#stopped) return;
    if (this.#probe.lastHeardAt() >= sentAt) {
      this.#misses = 0;
    } else if (++this.#misses >= failures) {
      this.#stopped = true;
      return this.#onDead(`no message of any kind in answer to ${failures} pings in a row (${timeoutMs}ms each, every ${intervalMs}ms)`);
    }
    // The next ping an interval after this one was sent: a hung child is found within failures × interval + timeout.
    this.#schedule(sentAt + intervalMs - performance.now());
  }
}
