// A minimal SSE reader over fetch, for tests: collects events and lets a test wait for one.
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** The events of a stream as they come (each turned into a T), and a way to wait for one. */
export interface SseStream<T> {
  readonly events: T[];
  readonly status: number;
  readonly contentType: string;
  next(match: (e: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export type SseReader = SseStream<SseEvent>;

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  return readSse(res, controller, (e) => e);
}

/**
 * Reads the SSE stream of `res` (a GET or a POST answer) as it comes: each dispatched event, as `as(event)`,
 * goes into `events`. `controller` is the one whose signal the request was sent with: close() aborts it.
 */
export function readSse<T>(res: Response, controller: AbortController, as: (e: SseEvent) => T): SseStream<T> {
  const events: T[] = [];
  const waiters = new Set<() => void>();
  const ended = (async () => {
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let sep: number;
        while ((sep = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, sep);
          buf = buf.slice(sep + 2);
          const e: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const i = line.indexOf(':');
            const field = i === -1 ? line : line.slice(0, i);
            const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (field === 'event') e.event = value;
            else if (field === 'data') data.push(value);
            else if (field === 'id') e.id = value;
          }
          // As EventSource does: an event with empty data is not dispatched (the priming event).
          if (data.length === 0 || (data.length === 1 && data[0] === '')) continue;
          e.data = data.join('\n');
          events.push(as(e));
          for (const w of waiters) w();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    events,
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    ended,
    close: () => controller.abort(),
    next(match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = (): void => {
          for (; seen < events.length; seen++) {
            const e = events[seen]!;
            if (match(e)) {
              clearTimeout(timer);
              waiters.delete(check);
              resolve(e);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching SSE event within ${timeoutMs}ms; got ${JSON.stringify(events.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
