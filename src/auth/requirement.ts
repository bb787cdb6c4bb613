// What each route asks of the caller, decided from the method and path alone (pure): nothing, any valid
// key, a key for one server, or an admin key (for one server, or for the gateway).

export type Requirement =
  | { readonly kind: 'public' }
  | { readonly kind: 'any-key' }
  | { readonly kind: 'server'; readonly server: string; readonly admin: boolean }
  | { readonly kind: 'admin' };

const PUBLIC = new Set(['/', '/healthz', '/readyz', '/favicon.ico', '/status/page.js', '/status/page.css']);
const ADMIN_ACTIONS = new Set(['start', 'stop', 'restart', 'stderr']);

/**
 * The routers match exactly (koa-router.ts); this errs on the strict side anyway: keywords are compared
 * without regard to case or trailing slashes, so no spelling of an admin route needs less than admin.
 * Server names keep their case: they are case-sensitive, and the scope check must name the server served.
 */
export function requirement(method: string, url: string, hasSessionHeader: boolean): Requirement {
  const q = url.indexOf('?');
  const raw = (q === -1 ? url : url.slice(0, q)).replace(/\/+$/, '') || '/';
  const lower = raw.toLowerCase();
  if (PUBLIC.has(raw) && (method === 'GET' || method === 'HEAD')) return { kind: 'public' };
  if (lower === '/metrics' || lower === '/admin' || lower.startsWith('/admin/')) return { kind: 'admin' };
  if (lower === '/mcp/servers') return { kind: 'any-key' };
  const m = /^\/mcp\/([^/]+)\/(.+)$/i.exec(raw);
  if (m === null) return { kind: 'any-key' };
  let server: string;
  try {
    server = decodeURIComponent(m[1]!);
  } catch {
    return { kind: 'any-key' };
  }
  const rest = m[2]!.toLowerCase();
  // The classic SSE stream shows everything a server says, to anyone reading: admin only.
  const classicStream = rest === 'sse' && method === 'GET' && !hasSessionHeader;
  return { kind: 'server', server, admin: ADMIN_ACTIONS.has(rest) || classicStream };
}
