// Which MCP face a request is for, decided from the method, the path and one header: pure, and cheap
// enough to run on every request before Koa sees it. The MCP message path skips Koa (see README).

export type McpRoute =
  | { readonly face: 'streamable'; readonly server: string }
  | { readonly face: 'legacy-stream'; readonly server: string }
  | { readonly face: 'legacy-message'; readonly server: string; readonly sessionId: string | undefined };

export function matchMcpRoute(method: string, url: string, hasSessionHeader: boolean): McpRoute | undefined {
  if (!url.startsWith('/mcp/')) return undefined;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const parts = path.slice('/mcp/'.length).split('/');
  if (parts.length < 2 || parts[0] === '') return undefined;
  let server: string;
  try {
    server = decodeURIComponent(parts[0]!);
  } catch {
    return undefined;
  }
  const rest = parts.slice(1).join('/');
  if (rest === 'mcp') return { face: 'streamable', server };
  // The classic SSE URL also speaks Streamable HTTP, so a modern client given that URL works; a plain
  // GET there (no session header) stays the classic stream.
  if (rest === 'sse' && (method !== 'GET' || hasSessionHeader)) return { face: 'streamable', server };
  if (rest === 'legacy/sse' && method === 'GET') return { face: 'legacy-stream', server };
  if (rest === 'legacy/message' && method === 'POST') {
    const sessionId = q === -1 ? undefined : (new URLSearchParams(url.slice(q + 1)).get('sessionId') ?? undefined);
    return { face: 'legacy-message', server, sessionId };
  }
  return undefined;
}
