// Bearer tokens as the MCP authorization spec has a resource server check them: JWT access tokens from a
// trusted issuer, verified locally against the issuer's JWKS (signature, iss, exp/nbf/iat with clock skew,
// and aud naming the resource being called, RFC 8707). The issuer is chosen by the token's unverified
// `iss`, so a token from anyone else costs no network call. Verified tokens are remembered by digest for
// up to five minutes (never past their expiry), so a session's repeated requests cost a Map lookup.
// Never logs; no token, nor any part of one, goes into a result's detail.
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { OAuthIssuerSpec } from '../../config/types.ts';
import { IssuerKeys, KeysUnavailable } from './issuer-keys.ts';
import { cacheKey, VerifiedCache } from './verified-cache.ts';

/**
 * An issuer as the verifier takes it: the manifest's (config/types.ts OAuthIssuerSpec), with algorithms as
 * plain names (`none` and HS* are refused whatever they say).
 */
export type IssuerSpec = Omit<OAuthIssuerSpec, 'algorithms'> & { readonly algorithms: readonly string[] };

export type Failure = 'malformed' | 'unknown-issuer' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'wrong-audience' | 'algorithm' | 'keys-unavailable';

export type Verified =
  | {
      readonly ok: true;
      readonly issuer: string;
      readonly subject: string;
      readonly scopes: readonly string[];
      readonly claims: Readonly<Record<string, unknown>>;
      /** ms since the epoch */
      readonly expiresAt: number;
    }
  | { readonly ok: false; readonly reason: Failure; readonly detail: string };

export interface VerifierOptions {
  /** Timeout of one metadata or JWKS fetch (default 5 s). */
  readonly fetchTimeoutMs?: number;
  /** Least time between JWKS refetches on unknown kids, and between retries after a failed fetch (default 30 s). */
  readonly cooldownMs?: number;
  /** Age after which cached keys are refetched before use (default 10 min); the old keys serve if that fails. */
  readonly cacheMaxAgeMs?: number;
  /** Verified tokens remembered (default 10,000; the oldest goes first). */
  readonly maxCached?: number;
  /** The clock (tests). */
  readonly now?: () => number;
}

interface ResolvedOptions {
  readonly fetchTimeoutMs: number;
  readonly cooldownMs: number;
  readonly cacheMaxAgeMs: number;
  readonly maxCached: number;
  readonly now: () => number;
}

/** How long a verified token is remembered at most: revoking a key at the issuer takes effect after this. */
export const VERIFIED_TTL_MS = 5 * 60_000;
/** Longer tokens are refused before any parsing or hashing. */
export const MAX_TOKEN_LENGTH = 16_384;

function resolve(options: VerifierOptions): ResolvedOptions {
  return Object.freeze({
    fetchTimeoutMs: options.fetchTimeoutMs ?? 5_000,
    cooldownMs: options.cooldownMs ?? 30_000,
    cacheMaxAgeMs: options.cacheMaxAgeMs ?? 10 * 60_000,
    maxCached: options.maxCached ?? 10_000,
    now: options.now ?? Date.now,
  });
}

/** Symmetric and unsigned algorithms are never accepted: a JWKS of public keys cannot check them. */
export function forbiddenAlgorithm(alg: string): boolean {
  return alg.toLowerCase() === 'none' || /^HS\d+$/i.test(alg);
}

function fail(reason: Failure, detail: string): Verified {
  return { ok: false, reason, detail };
}

/** Scopes from `scope` (RFC 9068, space-separated) or `scp` (string or array, as Entra and Okta send it). */
export function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter((s) => s !== '');
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
}

/** A jose error from jwtVerify as a failure. Details name claims and kinds of failure, never values of the token. */
export function failureOf(err: unknown): Verified {
  if (err instanceof KeysUnavailable) return fail('keys-unavailable', err.message);
  if (err instanceof errors.JWTExpired) return fail('expired', `"${err.claim}" is past`);
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
      case 'iat':
        return fail('not-yet-valid', `"${err.claim}" is in the future`);
      case 'aud':
        return fail('wrong-audience', 'aud does not name this resource');
      case 'iss':
        return fail('unknown-issuer', 'iss is not the issuer whose keys signed it');
      case 'typ':
        return fail('malformed', 'its typ header is not the tokenType this issuer requires');
      default:
        return fail('malformed', err.reason === 'missing' ? `"${err.claim}" claim missing` : `"${err.claim}" claim invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return fail('algorithm', err.message);
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail('bad-signature', 'signature does not verify');
  if (err instanceof errors.JWKSNoMatchingKey) return fail('bad-signature', 'no key of the issuer matches the token (kid/alg)');
  if (err instanceof errors.JWKSMultipleMatchingKeys) return fail('bad-signature', 'several keys of the issuer match the token; it names no kid');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return fail('malformed', err.message);
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return fail('keys-unavailable', err.message);
  return fail('keys-unavailable', err instanceof Error ? `${err.name}: ${err.message}` : 'unexpected failure');
}

interface Trusted {
  readonly spec: IssuerSpec;
  readonly keys: IssuerKeys;
  readonly algorithms: readonly string[];
}

/**
 * Verifies bearer tokens of the configured issuers. Owns the keys it fetched and the verified-token cache;
 * `close()` aborts fetches in flight and forgets both. Safe to call concurrently.
 */
export class TokenVerifier {
  readonly #issuers = new Map<string, Trusted>();
  readonly #cache: VerifiedCache<Extract<Verified, { ok: true }>>;
  readonly #options: ResolvedOptions;
  readonly #abort = new AbortController();
  #closed = false;

  constructor(issuers: readonly IssuerSpec[], options: VerifierOptions = {}) {
    this.#options = resolve(options);
    this.#cache = new VerifiedCache(this.#options.maxCached);
    const settings = { ...this.#options, signal: this.#abort.signal };
    for (const spec of issuers) {
      const forbidden = spec.algorithms.filter(forbiddenAlgorithm);
      if (forbidden.length > 0) throw new Error(`issuer ${spec.issuer}: algorithms ${forbidden.join(', ')} are never accepted`);
      if (spec.algorithms.length === 0) throw new Error(`issuer ${spec.issuer}: no algorithms allowed`);
      if (this.#issuers.has(spec.issuer)) throw new Error(`issuer ${spec.issuer} listed twice`);
      this.#issuers.set(spec.issuer, { spec, keys: new IssuerKeys(spec.issuer, spec.jwksUri, settings), algorithms: [...spec.algorithms] });
    }
  }

  /** `resource`: the canonical URL of what is being called (RFC 8707): aud must contain it, or one of the issuer's extra `audiences`. */
  async verify(token: string, resource: string): Promise<Verified> {
    if (this.#closed) return fail('keys-unavailable', 'verifier closed');
    if (token.length > MAX_TOKEN_LENGTH) return fail('malformed', `longer than ${MAX_TOKEN_LENGTH} characters`);
    const key = cacheKey(token, resource);
    const known = this.#cache.get(key, this.#options.now());
    if (known !== undefined) return known;

    let payload: JWTPayload;
    let alg: unknown;
    try {
      payload = decodeJwt(token);
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return fail('malformed', 'not a signed JWT');
    }
    if (typeof payload.iss !== 'string') return fail('malformed', 'no "iss" claim');
    const trusted = this.#issuers.get(payload.iss);
    if (trusted === undefined) return fail('unknown-issuer', 'iss is not a trusted issuer');
    if (typeof alg !== 'string' || forbiddenAlgorithm(alg) || !trusted.algorithms.includes(alg)) {
      return fail('algorithm', `alg ${typeof alg === 'string' ? JSON.stringify(alg.slice(0, 16)) : 'missing'} not allowed for issuer ${trusted.spec.issuer}`);
    }

    const verified = await this.#verifySigned(token, resource, trusted);
    if (verified.ok && !this.#closed) {
      const until = Math.min(verified.expiresAt + trusted.spec.clockSkewMs, this.#options.now() + VERIFIED_TTL_MS);
      this.#cache.set(key, verified, until);
    }
    return verified;
  }

  async #verifySigned(token: string, resource: string, trusted: Trusted): Promise<Verified> {
    const { spec } = trusted;
    const skewS = spec.clockSkewMs / 1000;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, trusted.keys.getKey, {
        issuer: spec.issuer,
        audience: [resource, ...spec.audiences],
        algorithms: [...trusted.algorithms],
        clockTolerance: skewS,
        currentDate: new Date(this.#options.now()),
        requiredClaims: ['exp', 'sub'],
        ...(spec.tokenType === undefined ? {} : { typ: spec.tokenType }),
      }));
    } catch (err) {
      return failureOf(err);
    }
    // jose checks iat only with maxTokenAge; a token issued in the future is not valid yet.
    if (typeof payload.iat === 'number' && payload.iat > this.#options.now() / 1000 + skewS) return fail('not-yet-valid', '"iat" is in the future');
    if (typeof payload.sub !== 'string' || payload.sub === '') return fail('malformed', '"sub" is not a non-empty string');
    return {
      ok: true,
      issuer: spec.issuer,
      subject: payload.sub,
      scopes: Object.freeze(scopesOf(payload)),
      claims: Object.freeze({ ...payload }),
      expiresAt: (payload.exp as number) * 1000,
    };
  }

  /** Aborts fetches in flight and forgets keys and verified tokens. Idempotent; verify() then fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#cache.clear();
    this.#issuers.clear();
  }
}
