// Small writers for the raw (non-Koa) MCP faces: every error is a JSON-RPC error object with the status
// the MCP spec gives, and every answer says not to cache it.
import type { ServerResponse } from 'node:http';
import { errorResponse, type JsonRpcId } from '../protocol/jsonrpc.ts';

export const BASE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const data = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendError(res: ServerResponse, status: number, code: number, message: string, id: JsonRpcId | null = null, headers: Record<string, string> = {}): void {
  sendJson(res, status, errorResponse(id, code, message), headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, ...headers });
  res.end();
}

/** For RequestOptions.onGone: gives the request up when the client closes the connection before the answer. */
export function whenClientGoes(res: ServerResponse): (giveUp: () => void) => () => void {
  return (giveUp) => {
    const onClose = (): void => {
      if (!res.writableFinished) giveUp();
    };
    res.once('close', onClose);
    return () => res.off('close', onClose);
  };
}
