// The last events a session sent, for clients that reconnect with Last-Event-ID. Bounded by count:
// a client away for longer than the buffer covers gets what is left and no more.

export interface LoggedEvent {
  readonly seq: number;
  /** Which stream the event was sent on: replay never moves an event to another stream. */
  readonly stream: string;
  readonly data: string;
}

export class EventLog {
  #events: LoggedEvent[] = [];
  #seq = 0;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  append(stream: string, data: string): LoggedEvent {
    const e = { seq: ++this.#seq, stream, data };
    this.#events.push(e);
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity);
    return e;
  }

  /** The stream an event id belongs to, if it is still held. */
  streamOf(seq: number): string | undefined {
    return this.#events.find((e) => e.seq === seq)?.stream;
  }

  /** Events after `seq` on the same stream, oldest first. */
  after(seq: number, stream: string): LoggedEvent[] {
    return this.#events.filter((e) => e.seq > seq && e.stream === stream);
  }
}
