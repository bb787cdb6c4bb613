// Who is asking: the key a request presents, checked against the manifest's keys by hash, in constant
// time, and what that key may use. Keys never leave here: only their names do.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthSpec, KeySpec } from '../config/types.ts';
import { TokenAuth } from './oauth/token-auth.ts';

export type Identity =
  /** No keys in the manifest: everyone is let in (the gateway then binds loopback only). */
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'key'; readonly key: KeySpec }
  | { readonly kind: 'missing' }
  | { readonly kind: 'wrong' };

/** The key in `Authorization: Bearer <key>`, else in `X-API-Key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m !== null) return m[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

export class KeyRing {
  readonly #keys: readonly { readonly spec: KeySpec; readonly digest: Buffer }[];
  /** Bearer tokens of auth.oauth's issuers, beside the keys; undefined without auth.oauth. */
  readonly tokens: TokenAuth | undefined;

  /** `previous`: the ring this one replaces (a reload): its token verifier is kept when the issuers are the same. */
  constructor(auth: AuthSpec, previous?: KeyRing) {
    this.#keys = auth.keys.map((spec) => ({ spec, digest: Buffer.from(spec.sha256, 'hex') }));
    this.tokens = auth.oauth === undefined ? undefined : new TokenAuth(auth.oauth, previous?.tokens);
    if (previous?.tokens !== undefined && (this.tokens === undefined || !previous.tokens.sharesVerifierWith(this.tokens))) previous.tokens.close();
  }

  /** Whether callers must say who they are: keys or token issuers in the manifest. */
  get enabled(): boolean {
    return this.#keys.length > 0 || this.tokens !== undefined;
  }

  identify(headers: IncomingHttpHeaders): Identity {
    if (!this.enabled) return { kind: 'anonymous' };
    const presented = presentedKey(headers);
    if (presented === undefined) return { kind: 'missing' };
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    // Compare with every key, match or not: the time taken says nothing about which key is near.
    let found: KeySpec | undefined;
    for (const k of this.#keys) if (timingSafeEqual(digest, k.digest) && found === undefined) found = k.spec;
    return found === undefined ? { kind: 'wrong' } : { kind: 'key', key: found };
  }

  /** The key of this name in the manifest now (its secret may have been rotated since); for a token's principal, see TokenAuth.byName. */
  byName(name: string): KeySpec | undefined {
    if (name.startsWith('oauth:')) return this.tokens?.byName(name);
    return this.#keys.find((k) => k.spec.name === name)?.spec;
  }

  /**
   * The key with this name and hash, if the manifest still has it (a reload may have removed it); for a
   * token's principal, what the grants of the manifest now give its claims (none: undefined).
   */
  current(key: KeySpec): KeySpec | undefined {
    if (key.token !== undefined) return this.tokens?.current(key);
    return this.#keys.find((k) => k.spec.name === key.name && k.spec.sha256 === key.sha256)?.spec;
  }
}

export function mayUse(key: KeySpec | undefined, server: string): boolean {
  return key === undefined || key.servers === '*' || key.servers.includes(server);
}

/** True when two principals are granted the same: servers, admin, tool filter. */
export function sameGrants(a: KeySpec | undefined, b: KeySpec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.admin === b.admin && JSON.stringify(a.servers) === JSON.stringify(b.servers) && JSON.stringify(a.tools) === JSON.stringify(b.tools);
}
