// Reads a JSON request body with a byte limit: a body announced too large is refused before it is read,
// one that grows too large is cut off at the limit. Parse errors become JSON-RPC parse errors.
import type { IncomingMessage } from 'node:http';
import { ErrorCode, errorResponse } from '../protocol/jsonrpc.ts';
import { HttpError } from './errors.ts';

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

function tooLarge(limit: number): HttpError {
  return new HttpError(413, errorResponse(null, ErrorCode.InvalidRequest, `request body larger than ${limit} bytes`));
}

export async function readJson(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const text = await readText(req, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, errorResponse(null, ErrorCode.ParseError, `Parse error: ${(err as Error).message}`));
  }
}

/** The body as UTF-8 text, refused (413) past `limit` bytes. */
export function readText(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  // Events, not `for await`: the async iterator costs more than the rest of a small request.
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume(); // drain the rest unread, so the 413 can still be sent on this connection
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
