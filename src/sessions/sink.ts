// Where a session's messages leave the gateway: a POST's answer (JSON, or SSE once something related
// comes before the result), the session's GET stream, or the legacy transport's one stream.
import type { ServerResponse } from 'node:http';
import { SseStream, type SseOptions } from '../http/sse.ts';

export interface Sink {
  readonly open: boolean;
  /** True when messages go out as SSE events (and so carry event ids for resumption). */
  readonly streaming: boolean;
  /** A message before the end (progress, a server request, a notification). */
  send(data: string, eventId?: string): void;
  /**
   * Opens the SSE form now, before an event id is minted for what comes next: its priming event must
   * carry the lower id (a client resuming from it gets everything after it).
   */
  begin?(): void;
  /**
   * The last message of a request: its response. A POST answer ends here; `status` is the HTTP status
   * when the answer is plain JSON (503 for a busy server), 200 otherwise. True when it was written in
   * full on an open connection (handed to the socket: the client would resume for nothing); false when
   * the connection was gone or dropped it (a stalled reader past the SSE backlog bound).
   */
  finish(data: string, eventId?: string, status?: number): boolean;
  /** Ends the connection without an answer (the session is over). */
  close(): void;
}

/** An SSE stream as a sink: the GET stream, the legacy stream, or a resumed request stream. */
export class StreamSink implements Sink {
  readonly streaming = true;
  readonly stream: SseStream;
  readonly #event: string | undefined;
  readonly #endOnFinish: boolean;

  constructor(stream: SseStream, options: { event?: string; endOnFinish?: boolean } = {}) {
    this.stream = stream;
    this.#event = options.event;
    this.#endOnFinish = options.endOnFinish ?? false;
  }

  get open(): boolean {
    return !this.stream.closed;
  }

  send(data: string, eventId?: string): void {
    this.stream.send(data, this.#event, eventId);
  }

  finish(data: string, eventId?: string): boolean {
    if (this.stream.closed) return false;
    this.send(data, eventId);
    const written = !this.stream.closed; // a send past the backlog bound closes the stream instead
    if (this.#endOnFinish) this.stream.close();
    return written;
  }

  close(): void {
    this.stream.close();
  }
}

/** The answer to one POST: plain JSON unless something must be sent before the response. */
export class PostAnswer implements Sink {
  readonly #res: ServerResponse;
  readonly #sse: SseOptions;
  readonly #headers: Record<string, string>;
  readonly #preferStream: boolean;
  readonly #prime: (() => string) | undefined;
  #stream: SseStream | undefined;
  #done = false;

  /** `preferStream`: the client ranked text/event-stream first in Accept, so even a lone answer is SSE. */
  /** `prime`: mints the id of the priming event that starts the SSE form (2025 sessions); none, no priming. */
  constructor(res: ServerResponse, sse: SseOptions, headers: Record<string, string>, preferStream = false, prime?: () => string) {
    this.#res = res;
    this.#sse = sse;
    this.#headers = headers;
    this.#preferStream = preferStream;
    this.#prime = prime;
  }

  begin(): void {
    if (this.open) this.#openStream();
  }

  #openStream(): SseStream {
    if (this.#stream !== undefined) return this.#stream;
    this.#stream = new SseStream(this.#res, this.#sse, this.#headers);
    if (this.#prime !== undefined) this.#stream.prime(this.#prime());
    return this.#stream;
  }

  get open(): boolean {
    return !this.#done && !this.#res.destroyed && (this.#stream === undefined || !this.#stream.closed);
  }

  get streaming(): boolean {
    return this.#stream !== undefined || this.#preferStream;
  }

  /** True once SSE events (with ids) went out: the client may resume this answer with Last-Event-ID. */
  get resumable(): boolean {
    return this.#stream !== undefined;
  }

  send(data: string, eventId?: string): void {
    if (!this.open) return;
    this.#openStream().send(data, undefined, eventId);
  }

  finish(data: string, eventId?: string, status = 200): boolean {
    if (!this.open) return false;
    if (this.#preferStream && status === 200) this.#openStream();
    this.#done = true;
    if (this.#stream !== undefined) {
      this.#stream.send(data, undefined, eventId);
      const written = !this.#stream.closed; // a send past the backlog bound closes the stream instead
      this.#stream.close();
      return written;
    }
    this.#res.writeHead(status, { ...this.#headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    this.#res.end(data);
    return true;
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#stream !== undefined) this.#stream.close();
    else this.#res.destroy();
  }
}
