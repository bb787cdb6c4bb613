// Claims → permissions: what a verified token may use, from the manifest's `auth.oauth.grants`, in the
// terms a static key grants (servers, admin), so that every face checks tokens and keys the same way.
// Pure: the claims are those of a token already verified (signature, issuer, audience, time).
import type { GrantRule } from '../../config/types.ts';

export interface Grant {
  readonly servers: '*' | readonly string[];
  readonly admin: boolean;
}

/**
 * Claims holding OAuth scopes: a space-separated string (RFC 9068 `scope`; Entra's `scp`) or a list
 * (Okta's `scp`). Their string form matches a rule by whole word; any other string claim matches whole.
 */
const SCOPE_CLAIMS = new Set(['scope', 'scp']);

/**
 * The claim at `path`: the claim of that exact name if there is one (Auth0's namespaced
 * `https://example.com/roles` holds dots), else the dotted path walked through nested objects
 * (`realm_access.roles`). Own properties only: `constructor` or `__proto__` never reach a prototype.
 */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let at: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function matches(rule: GrantRule, claim: unknown): boolean {
  if (typeof claim === 'string') return SCOPE_CLAIMS.has(rule.claim) ? claim.split(' ').includes(rule.value) : claim === rule.value;
  if (Array.isArray(claim)) return claim.includes(rule.value);
  // Numbers, booleans, objects: no rule value (always a string) equals them.
  return false;
}

/**
 * The union of what every rule matching `claims` grants: all servers if any rule grants `*`, else each
 * server named by a matching rule (in rule order, once); admin if any matching rule says so. undefined
 * when no rule matches: the token is valid but grants nothing (refuse it with 403, not 401).
 */
export function grantsFor(claims: Readonly<Record<string, unknown>>, rules: readonly GrantRule[]): Grant | undefined {
  let matched = false;
  let all = false;
  let admin = false;
  const servers = new Set<string>();
  for (const rule of rules) {
    if (!matches(rule, claimAt(claims, rule.claim))) continue;
    matched = true;
    admin ||= rule.admin;
    if (rule.servers === '*') all = true;
    else for (const s of rule.servers) servers.add(s);
  }
  if (!matched) return undefined;
  return Object.freeze({ servers: all ? '*' : Object.freeze([...servers]), admin });
}

/**
 * The scopes the rules know (values of rules on `scope` or `scp`, in rule order, once): Protected Resource
 * Metadata's `scopes_supported`, and the `scope` of a challenge, which a client asks the authorization
 * server for. With `server`, only the scopes of rules granting that server (by name or `*`): a client of
 * one server is not led to ask for every scope the gateway knows.
 */
export function scopesSupported(rules: readonly GrantRule[], server?: string): string[] {
  const grants = (r: GrantRule): boolean => server === undefined || r.servers === '*' || r.servers.includes(server);
  return [...new Set(rules.filter((r) => SCOPE_CLAIMS.has(r.claim) && grants(r)).map((r) => r.value))];
}
