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
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, errorResponse(null, ErrorCode.ParseError, `Parse error: ${(err as Error).message}`));
  }
}
