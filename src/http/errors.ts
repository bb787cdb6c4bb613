// Errors a face throws: an HTTP status, a body that may be shown as it is, and nothing else. The one
// error middleware in app.ts turns them into answers; anything else becomes a 500 with a generic text.

export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown, message?: string) {
    super(message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The shape of every non-JSON-RPC error answer: `{ error: { kind, message } }`. */
export function apiError(status: number, kind: string, message: string): HttpError {
  return new HttpError(status, { error: { kind, message } }, message);
}
