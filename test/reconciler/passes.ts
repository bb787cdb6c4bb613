// Waiting on the reconciler's own signal instead of a sleep: read passesStarted, then act (write the
// manifest, remove it), then wait for a pass that started after that. Such a pass has read what the act
// left, so "nothing changed" can be asserted once it is done, without guessing how long it takes.
import type { PassReport, Reconciler } from '../../src/reconciler/reconciler.ts';

/** The first pass numbered above `after` that `accept`s; hangs (and the test times out) if none comes. */
export function passAfter(reconciler: Reconciler, after: number, accept: (p: PassReport) => boolean = () => true): Promise<PassReport> {
  return new Promise((resolve) => {
    const off = reconciler.onPass((p) => {
      if (p.seq <= after || !accept(p)) return;
      off();
      resolve(p);
    });
  });
}
