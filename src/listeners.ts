// A set of callbacks for one kind of event, with the unsubscribe handed back at subscription: the one
// small shape every owner here uses to tell others that something happened.

export class Listeners<T> {
  readonly #fns = new Set<(value: T) => void>();

  /** Adds `fn`; returns the function that removes it again. */
  add(fn: (value: T) => void): () => void {
    this.#fns.add(fn);
    return () => this.#fns.delete(fn);
  }

  emit(value: T): void {
    for (const fn of this.#fns) fn(value);
  }
}
