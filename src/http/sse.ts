// Server-Sent Events written straight on the response: no library (koa-sse-stream leaks a global timer
// and has no backpressure). Each stream sends keep-alive comments, and a client that stops reading is
// dropped once its unsent backlog passes a bound, so memory never grows with a stalled reader.
import type { ServerResponse } from 'node:http';

export interface SseOptions {
  /** Comment sent when nothing else went out for this long. */
  readonly keepAliveMs: number;
  /** Unsent bytes allowed to pile up for one client before it is dropped. */
  readonly maxBufferedBytes: number;
}

/** What the priming event tells a client to wait before it reconnects a broken stream. */
export const SSE_RETRY_MS = 1000;

export const DEFAULT_SSE_OPTIONS: SseOptions = { keepAliveMs: 15_000, maxBufferedBytes: 1024 * 1024 };

export class SseStream {
  readonly #res: ServerResponse;
  readonly #options: SseOptions;
  readonly #timer: NodeJS.Timeout;
  readonly #closers = new Set<() => void>();
  #closed = false;

  constructor(res: ServerResponse, options: SseOptions, headers: Record<string, string> = {}) {
    this.#res = res;
    this.#options = options;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // nginx: pass events through at once
      ...headers,
    });
    res.flushHeaders();
    this.#timer = setInterval(() => this.#write(': keep-alive\n\n'), options.keepAliveMs);
    res.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one event; `data` is written as given (one line: JSON never holds a raw newline). */
  send(data: string, event?: string, id?: string): void {
    let frame = '';
    if (event !== undefined) frame += `event: ${event}\n`;
    if (id !== undefined) frame += `id: ${id}\n`;
    this.#write(`${frame}data: ${data}\n\n`);
  }

  /**
   * The priming event (2025-11-25): an event id and empty data before anything else, so that a client
   * whose connection breaks before the first real event can still resume, and `retry`, the wait before
   * it reconnects.
   */
  prime(id: string, retryMs = SSE_RETRY_MS): void {
    this.#write(`id: ${id}\nretry: ${retryMs}\ndata: \n\n`);
  }

  /** Runs `fn` when the stream closes, for whatever reason. */
  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#closers.add(fn);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (!this.#res.writableEnded) this.#res.end();
    for (const fn of this.#closers) fn();
    this.#closers.clear();
  }

  #write(chunk: string): void {
    if (this.#closed) return;
    if (this.#res.writableLength > this.#options.maxBufferedBytes) {
      // A stalled reader: cut it off rather than buffer without bound.
      this.close();
      this.#res.destroy();
      return;
    }
    this.#res.write(chunk);
  }
}
