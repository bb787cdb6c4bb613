// Bearer tokens as the gate sees them: a token and the resource being called in, a principal (in the terms
// a key grants: servers, admin, a rate) or the reason to refuse out. The verifier (signature, issuer,
// audience, time) and its fetched keys outlive reloads that leave the issuers as they were.
import type { KeySpec, OAuthSpec } from '../../config/types.ts';
import { stableJson } from '../../plan/plan.ts';
import { grantsFor, scopesSupported } from './grants.ts';
import { TokenVerifier, type Failure, type Verified } from './token-verifier.ts';

export type TokenAdmission =
  | { readonly ok: true; readonly principal: KeySpec }
  /** The token is not valid for this resource: 401 invalid_token. */
  | { readonly ok: false; readonly reason: Failure; readonly detail: string }
  /** Valid, but no grant rule matches its claims: 403 insufficient_scope. */
  | { readonly ok: false; readonly reason: 'no-grant'; readonly detail: string };

/** A compact JWS: three base64url parts, the header starting `eyJ` (`{"`). Keys never look like this. */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function looksLikeJwt(credential: string): boolean {
  return JWT_SHAPE.test(credential);
}

/**
 * After fetching an issuer's keys, the least time before it fetches them again for a token with an unknown
 * kid: a rotated key is picked up within it, and a flood of made-up kids costs one fetch per period.
 */
export const KEYS_COOLDOWN_MS = 5_000;

/** Subjects remembered by name (see #latest). */
const MAX_SUBJECTS = 10_000;

export class TokenAuth {
  readonly spec: OAuthSpec;
  readonly #verifier: TokenVerifier;
  readonly #issuersJson: string;
  readonly #skew: ReadonlyMap<string, number>;
  /** One principal per verified token (the verifier caches those): a session's requests share it. */
  readonly #principals = new WeakMap<object, KeySpec>();
  /**
   * The last principal seen of each subject, by name: what holds only a name (a 2026 call, a per-principal
   * child) is judged again at a reload by what the grants now give those claims. Bounded; oldest out.
   */
  readonly #latest: Map<string, KeySpec>;

  /** Keeps `previous`'s verifier (and the keys it fetched) when the issuers are the same. */
  constructor(spec: OAuthSpec, previous?: TokenAuth) {
    this.spec = spec;
    this.#issuersJson = stableJson(spec.issuers);
    this.#latest = new Map(previous === undefined ? [] : previous.#latest);
    this.#skew = new Map(spec.issuers.map((i) => [i.issuer, i.clockSkewMs]));
    this.#verifier = previous !== undefined && previous.#issuersJson === this.#issuersJson
      ? previous.#verifier
      : new TokenVerifier(
          spec.issuers,
          { cooldownMs: KEYS_COOLDOWN_MS },
        );
  }

  /** True when `next` keeps this one's verifier: the caller must then not close this one. */
  sharesVerifierWith(next: TokenAuth): boolean {
    return next.#verifier === this.#verifier;
  }

  async admit(token: string, resource: string): Promise<TokenAdmission> {
    const v = await this.#verifier.verify(token, resource);
    if (!v.ok) return v;
    let principal = this.#principals.get(v);
    if (principal === undefined) {
      const grant = grantsFor(v.claims, this.spec.grants);
      if (grant === undefined) return { ok: false, reason: 'no-grant', detail: 'no grant rule matches the token' };
      principal = this.#principal(v, grant.servers, grant.admin);
      this.#principals.set(v, principal);
    }
    this.#latest.delete(principal.name);
    this.#latest.set(principal.name, principal);
    if (this.#latest.size > MAX_SUBJECTS) this.#latest.delete(this.#latest.keys().next().value!);
    return { ok: true, principal };
  }

  /** A token principal as the grants of the manifest now make it (a reload changed them), or undefined: none left. */
  current(principal: KeySpec): KeySpec | undefined {
    const token = principal.token;
    if (token === undefined) return undefined;
    const grant = grantsFor(token.claims, this.spec.grants);
    if (grant === undefined) return undefined;
    return Object.freeze({ ...principal, servers: grant.servers, admin: grant.admin, rateLimit: this.spec.rateLimit });
  }

  /** The principal of this name (`oauth:<issuer>#<subject>`) as the grants now make it, if it was seen. */
  byName(name: string): KeySpec | undefined {
    const p = this.#latest.get(name);
    return p === undefined ? undefined : this.current(p);
  }

  /** The scopes that would give access to `server` (all of them for the gateway itself), for a challenge. */
  scopesFor(server: string | undefined): string {
    return scopesSupported(this.spec.grants, server).join(' ');
  }

  close(): void {
    this.#verifier.close();
  }

  #principal(v: Extract<Verified, { ok: true }>, servers: KeySpec['servers'], admin: boolean): KeySpec {
    return Object.freeze({
      name: `oauth:${v.issuer}#${v.subject}`,
      sha256: '',
      servers,
      admin,
      rateLimit: this.spec.rateLimit,
      token: Object.freeze({ issuer: v.issuer, subject: v.subject, claims: v.claims, expiresAt: v.expiresAt + (this.#skew.get(v.issuer) ?? 0) }),
    });
  }
}
