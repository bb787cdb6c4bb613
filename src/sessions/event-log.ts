// The events a session sent that a client may still ask for again, for clients that reconnect with
// Last-Event-ID. Replay is best effort: a client away for longer than the log covers gets what is left.
//
// Bounded three ways, so that no client can grow the gateway's heap:
// - per session, by count (`capacity`) and by bytes (SESSION_REPLAY_BYTES): a session over either drops
//   its own oldest events; one event larger than the session budget is not kept at all;
// - per gateway, by bytes (GATEWAY_REPLAY_BYTES), through one ReplayBudget every session's log draws
//   from: when a new event does not fit, the largest log gives up its oldest event, again and again,
//   until it fits. The heaviest client pays for the pressure it makes; light sessions keep their
//   backlog as long as any heavier one has something left to give.
// Bytes are what the strings cost in V8's heap at most: two per UTF-16 code unit (a string is stored
// one byte per character only when all of them are Latin-1, which cannot be known cheaply), plus a fixed
// overhead per event for the record around it.

/** At most this many bytes of replay events per session (3 MB of ASCII JSON costs 6 MB here). */
export const SESSION_REPLAY_BYTES = 16 * 1024 * 1024;
/** At most this many bytes of replay events across all sessions of the gateway. */
export const GATEWAY_REPLAY_BYTES = 64 * 1024 * 1024;
/** At most this many events per session (replay scans the log). */
export const SESSION_REPLAY_EVENTS = 256;
/** What one kept event costs besides its data: the record, its stream name, the array slot. */
const EVENT_OVERHEAD_BYTES = 96;

export interface LoggedEvent {
  readonly seq: number;
  /** Which stream the event was sent on: replay never moves an event to another stream. */
  readonly stream: string;
  readonly data: string;
  /** What keeping it costs, in bytes (see the top of this file). */
  readonly bytes: number;
}

/** What keeping `data` on `stream` costs, in heap bytes at most. */
export function eventBytes(stream: string, data: string): number {
  return EVENT_OVERHEAD_BYTES + 2 * (stream.length + data.length);
}

/**
 * The byte budget every session's log of one gateway draws from. It owns no events: it knows the logs
 * that hold some and takes the oldest events of the largest of them back when a new one does not fit.
 */
export class ReplayBudget {
  readonly limit: number;
  #used = 0;
  /** Logs holding at least one event (the only ones that can give something back). */
  readonly #holders = new Set<EventLog>();

  constructor(limit = GATEWAY_REPLAY_BYTES) {
    this.limit = limit;
  }

  /** Bytes held by all logs together; never above `limit`. */
  get used(): number {
    return this.#used;
  }

  /**
   * Makes room for `bytes` more and counts them as held by `log`. The caller has checked that `bytes`
   * fits the limit on its own (a session budget is never above the gateway's), so this ends: in the worst
   * case every log, `log` included, is emptied. The scan for the largest log runs only under pressure.
   */
  claim(log: EventLog, bytes: number): void {
    while (this.#used + bytes > this.limit) {
      let largest: EventLog | undefined;
      for (const l of this.#holders) if (largest === undefined || l.bytes > largest.bytes) largest = l;
      if (largest === undefined) break;
      largest.evictOldest();
    }
    this.#used += bytes;
    this.#holders.add(log);
  }

  /** `bytes` held by `log` are gone; `empty` when it holds nothing any more. */
  release(log: EventLog, bytes: number, empty: boolean): void {
    this.#used -= bytes;
    if (empty) this.#holders.delete(log);
  }
}

export class EventLog {
  #events: LoggedEvent[] = [];
  #seq = 0;
  #bytes = 0;
  #closed = false;
  readonly #budget: ReplayBudget;
  readonly #maxBytes: number;
  readonly #capacity: number;

  /** `maxBytes` above the budget's limit is cut to it (one log may use all of it, never more). */
  constructor(budget: ReplayBudget, maxBytes = SESSION_REPLAY_BYTES, capacity = SESSION_REPLAY_EVENTS) {
    this.#budget = budget;
    this.#maxBytes = Math.min(maxBytes, budget.limit);
    this.#capacity = capacity;
  }

  /** Bytes this log holds now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#events.length;
  }

  /** A new event id, for an event that goes out without being kept (or is kept later, with `append`). */
  mint(): number {
    return ++this.#seq;
  }

  /**
   * Keeps an event for replay under `seq` (a new id unless one was minted for it) and returns the id.
   * An event larger than the session budget is not kept; older events make room for a new one.
   */
  /** Whether an event of this size can be kept at all (it is not larger than the session's budget). */
  canKeep(stream: string, data: string): boolean {
    return eventBytes(stream, data) <= this.#maxBytes;
  }

  append(stream: string, data: string, seq = this.mint()): number {
    const bytes = eventBytes(stream, data);
    if (this.#closed || bytes > this.#maxBytes) return seq;
    while (this.#events.length > 0 && (this.#events.length >= this.#capacity || this.#bytes + bytes > this.#maxBytes)) this.evictOldest();
    this.#budget.claim(this, bytes);
    this.#events.push({ seq, stream, data, bytes });
    this.#bytes += bytes;
    return seq;
  }

  /** Drops the oldest event (the budget calls this under pressure). */
  evictOldest(): void {
    const e = this.#events.shift();
    if (e === undefined) return;
    this.#bytes -= e.bytes;
    this.#budget.release(this, e.bytes, this.#events.length === 0);
  }

  /** Drops every event of `stream` (its answer was delivered: nobody will resume it). */
  drop(stream: string): void {
    let freed = 0;
    this.#events = this.#events.filter((e) => {
      if (e.stream !== stream) return true;
      freed += e.bytes;
      return false;
    });
    if (freed === 0) return;
    this.#bytes -= freed;
    this.#budget.release(this, freed, this.#events.length === 0);
  }

  /** Drops everything and keeps nothing more (the session ended); the budget gets it all back. */
  close(): void {
    this.#closed = true;
    if (this.#events.length === 0) return;
    const freed = this.#bytes;
    this.#events = [];
    this.#bytes = 0;
    this.#budget.release(this, freed, true);
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
