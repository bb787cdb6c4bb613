// The last N stderr lines of one server, for the API. A ring: memory stays bounded however chatty the child.

export class StderrBuffer {
  #lines: string[] = [];
  #next = 0;
  #capacity: number;

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  push(line: string): void {
    if (this.#capacity === 0) return;
    if (this.#lines.length < this.#capacity) this.#lines.push(line);
    else this.#lines[this.#next] = line;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** Oldest first. */
  lines(): string[] {
    if (this.#lines.length < this.#capacity) return [...this.#lines];
    return [...this.#lines.slice(this.#next), ...this.#lines.slice(0, this.#next)];
  }

  resize(capacity: number): void {
    const kept = this.lines().slice(-capacity);
    this.#capacity = Math.max(0, capacity);
    this.#lines = kept;
    this.#next = this.#capacity === 0 ? 0 : kept.length % this.#capacity;
  }
}
