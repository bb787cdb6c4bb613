// URLs the manifest gives for the web: the gateway's public base URL (`listen.publicUrl`) and an OAuth
// issuer's URLs. Pure. Problems name what is wrong, never the value (it may come from the environment).
import { isLoopbackHost } from './loopback.ts';

/**
 * What is wrong with `text` as an https URL (http allowed for a loopback host only) without query, fragment
 * or user info; undefined when nothing is. `what` names the field, e.g. "listen.publicUrl".
 */
export function webUrlProblem(text: string, what: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `${what}: not a URL; write it in full, starting with https://`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `${what}: must be an https URL`;
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    return `${what}: http is allowed for a loopback host only (localhost, 127.0.0.1, [::1]); use https`;
  }
  if (u.username !== '' || u.password !== '') return `${what}: must not hold a user name or password`;
  // `text.includes`: new URL drops an empty query or fragment ("…?" or "…#"), which is still one.
  if (u.search !== '' || text.includes('?')) return `${what}: must not have a query (?…)`;
  if (u.hash !== '' || text.includes('#')) return `${what}: must not have a fragment (#…)`;
  return undefined;
}

/**
 * The URL in canonical form (RFC 8707 §2, RFC 3986 §6): scheme and host in lower case, the scheme's default
 * port dropped, no trailing slash, no query or fragment. Expects a URL webUrlProblem accepts.
 */
export function normalizeWebUrl(text: string): string {
  const u = new URL(text);
  // WHATWG URL has already lower-cased scheme and host, dropped a default port and percent-encoded the path.
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${u.host}${path}`;
}
