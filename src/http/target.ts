// The request target, parsed once (RFC 9112 §3.2), before anything routes or authorizes on it. Pure.
//
// - origin-form (`/path?query`) is the usual form;
// - absolute-form (`http://host/path?query`), which proxies send and servers must accept, is reduced to its
//   path, and its authority stands in for Host (§3.2.2: the Host header is then ignored);
// - any other form (authority-form, `*`, a bare word) gets 400, and so does a target with a fragment (`#`
//   never belongs in a request target) or with bytes outside visible ASCII;
// - the path is split into segments and each is percent-decoded, once, here: routes and their needs see
//   only decoded segments, so `/%6detrics` is `/metrics` in both. A decoded `.` or `..` segment is refused
//   (400) rather than resolved: no route has one, and a refusal cannot route anywhere unexpected. Empty
//   segments (`//`, a trailing `/`) are kept and simply match no route.

export interface Target {
  /** The path as sent (origin-form), for logs and Koa; never used to route. */
  readonly path: string;
  /** Decoded path segments: `/mcp/a%2Db/mcp` → ['mcp', 'a-b', 'mcp']; `/` → []. */
  readonly segments: readonly string[];
  /** The query without its `?` ('' when there is none). */
  readonly query: string;
  /** The host (and port) of an absolute-form target; undefined for origin-form. */
  readonly authority: string | undefined;
}

export interface BadTarget {
  readonly error: string;
}

const ABSOLUTE = /^https?:\/\//i;

export function parseTarget(raw: string): Target | BadTarget {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return { error: 'the request target holds a byte that is not visible ASCII' };
    if (c === 0x23) return { error: 'a request target never holds a fragment (#)' };
  }
  let rest = raw;
  let authority: string | undefined;
  if (raw.charCodeAt(0) !== 0x2f) {
    const scheme = ABSOLUTE.exec(raw);
    if (scheme === null) return { error: 'the request target must be a path (/…) or an absolute http(s) URL' };
    const after = raw.slice(scheme[0].length);
    let end = after.length;
    for (let i = 0; i < after.length; i++) {
      const c = after.charCodeAt(i);
      if (c === 0x2f || c === 0x3f) {
        end = i;
        break;
      }
    }
    authority = after.slice(0, end);
    if (authority === '' || authority.includes('@')) return { error: 'the request target names no host, or a user' };
    rest = after.slice(end);
    if (rest === '' || rest.charCodeAt(0) === 0x3f) rest = `/${rest}`;
  } else if (raw.charCodeAt(1) === 0x2f) {
    // `//host/path` is a network-path reference, not a path: some parsers read a host out of it.
    return { error: 'the request target must not start with //' };
  }
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? '' : rest.slice(q + 1);
  if (path === '/') return { path, segments: [], query, authority };
  const segments = path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    let s = segments[i]!;
    if (s.includes('%')) {
      try {
        s = decodeURIComponent(s);
      } catch {
        return { error: 'the request target holds a malformed percent-encoding' };
      }
      segments[i] = s;
    }
    if (s === '.' || s === '..') return { error: 'the request target holds a dot segment (. or ..)' };
  }
  return { path, segments, query, authority };
}
