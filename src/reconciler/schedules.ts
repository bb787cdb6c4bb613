// Cron-scheduled restarts. Rebuilt from the specs on every reload: unchanged schedules keep their task,
// changed or removed ones are destroyed, so no task outlives its line in the manifest.
import cron, { type ScheduledTask } from 'node-cron';
import type { ScheduleSpec, ServerSpec } from '../config/types.ts';

export class Schedules {
  readonly #tasks = new Map<string, { key: string; task: ScheduledTask }>();
  readonly #onFire: (server: string) => void;
  #closed = false;

  constructor(onFire: (server: string) => void) {
    this.#onFire = onFire;
  }

  /** Makes the running tasks match the specs' schedules. */
  sync(specs: ReadonlyMap<string, ServerSpec>): void {
    if (this.#closed) return; // a pass finishing after close() must not start timers nobody will stop
    for (const [name, entry] of this.#tasks) {
      const want = specs.get(name)?.schedule;
      if (want === undefined || keyOf(want) !== entry.key) {
        void entry.task.destroy();
        this.#tasks.delete(name);
      }
    }
    for (const [name, spec] of specs) {
      const s = spec.schedule;
      if (s === undefined || this.#tasks.has(name)) continue;
      const options = s.timezone === undefined ? { name } : { name, timezone: s.timezone };
      const task = cron.schedule(s.restart, () => this.#onFire(name), options);
      this.#tasks.set(name, { key: keyOf(s), task });
    }
  }

  get size(): number {
    return this.#tasks.size;
  }

  close(): void {
    this.#closed = true;
    for (const { task } of this.#tasks.values()) void task.destroy();
    this.#tasks.clear();
  }
}

function keyOf(s: ScheduleSpec): string {
  return `${s.restart}\u0000${s.timezone ?? ''}`;
}
