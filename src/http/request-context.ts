// What the dispatcher knows of one request once its route matched and the gate admitted it: the route's
// parameters, the query, and who is calling. Faces read the caller from here (never from the gate), and
// name the JSON-RPC method here for the access log.
import type { KeySpec } from '../config/types.ts';

export interface RequestContext {
  /** The matched route's pattern (`/mcp/:server/mcp`), for logs. */
  readonly pattern: string;
  /** Decoded route parameters (`server`). */
  readonly params: Readonly<Record<string, string>>;
  /** The query string without its `?`. */
  readonly query: string;
  /** The key the gate admitted the request with; undefined when the gateway has no keys. */
  readonly principal: KeySpec | undefined;
  /** The JSON-RPC method, once a face has read the body (for the access log). */
  rpcMethod: string | undefined;
  /** An aggregate endpoint's name (`@` for /mcp, `@<bundle>`), set by its face (for the access log). */
  endpoint?: string;
  /** On an aggregate endpoint: the server the request went to, once it is known (for the access log). */
  routedTo?: string;
}

/**
 * What serves a matched route: a Koa handler (the API, the status page; errors become `{ error }` bodies)
 * or a raw one on node:http (the MCP message path, which skips Koa: see README, "Performance").
 */
export type Serve =
  | { readonly koa: (ctx: import('koa').Context, rc: RequestContext) => unknown }
  | { readonly raw: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, rc: RequestContext) => unknown };
