// HTTP/1.1 by hand over a TCP socket, for what `fetch` cannot send: absolute-form and other request
// targets, fragments, raw bytes. One request per connection; a streamed answer (SSE) is read up to its
// headers and the connection closed.
import { connect } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Sends `head` (request line and headers, CRLF-separated, without the blank line) and `body`. `headEncoding`:
 * how the head's characters become bytes (latin1 sends U+0080–U+00FF as single obs-text bytes).
 */
export function rawRequest(url: string, head: string, body: Buffer | string = '', timeoutMs = 10_000, headEncoding: BufferEncoding = 'utf8'): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    let buf = Buffer.alloc(0);
    let parsed: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer to ${JSON.stringify(head.split('\r\n')[0])} within ${timeoutMs}ms`));
    }, timeoutMs);
    const done = (answer: RawAnswer): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const check = (ended: boolean): void => {
      if (parsed === undefined) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) {
          if (ended) {
            clearTimeout(timer);
            reject(new Error(`connection closed before an answer (${buf.length} bytes)`));
          }
          return;
        }
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        parsed = { status, headers, bodyStart: end + 4 };
      }
      const { status, headers, bodyStart } = parsed;
      const length = headers['content-length'];
      if (length !== undefined) {
        if (buf.length - bodyStart >= Number(length) || ended) done({ status, headers, body: buf.subarray(bodyStart, bodyStart + Number(length)).toString('utf8') });
      } else if (headers['content-type']?.startsWith('text/event-stream') || ended || headers['transfer-encoding'] === undefined) {
        done({ status, headers, body: buf.subarray(bodyStart).toString('utf8') });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      check(false);
    });
    socket.on('end', () => check(true));
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (parsed === undefined) reject(err);
    });
    socket.write(`${head}\r\n${payload.length > 0 || /^(POST|PUT|PATCH) /.test(head) ? `Content-Length: ${payload.length}\r\n` : ''}\r\n`, headEncoding);
    if (payload.length > 0) socket.write(payload);
  });
}
