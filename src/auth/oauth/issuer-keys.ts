// The signing keys of one trusted issuer. Where its JWKS lives comes from the manifest, or is discovered
// once from the issuer's metadata (RFC 8414, then OpenID Discovery). The keys are fetched once and cached
// by jose's remote JWKS, which refetches on an unknown `kid` at most once per cooldown. A copy of the last
// good key set keeps verifying while the JWKS endpoint is down, and after a failed fetch nothing is fetched
// again for a cooldown: an outage never turns into a fetch per request.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type CryptoKey,
  type FetchImplementation,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type RemoteJWKSet,
} from 'jose';

/** No key can be had: metadata or JWKS could not be fetched, and no cached key fits. */
export class KeysUnavailable extends Error {
  override readonly name = 'KeysUnavailable';
}

export interface KeySettings {
  readonly fetchTimeoutMs: number;
  /** Least time between two fetches of the JWKS on unknown kids, and after any failed fetch. */
  readonly cooldownMs: number;
  /** Age after which cached keys are refetched before use (the old ones serve if that fails). */
  readonly cacheMaxAgeMs: number;
  /** Aborts every fetch in flight (the verifier closing). */
  readonly signal: AbortSignal;
  readonly now: () => number;
}

type GetKey = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/**
 * Where the metadata of `issuer` may be, in the order the MCP authorization spec tries them: RFC 8414 with
 * the issuer's path inserted after `/.well-known/oauth-authorization-server`, OpenID Discovery with the
 * path inserted, then OpenID Discovery appended to the issuer (the form most OpenID providers serve).
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const urls = [`${url.origin}/.well-known/oauth-authorization-server${path}`];
  if (path !== '') urls.push(`${url.origin}/.well-known/openid-configuration${path}`);
  urls.push(`${url.origin}${path}/.well-known/openid-configuration`);
  return urls;
}

/** Errors of choosing a key from a set that was fetched fine: the token's fault, not the endpoint's. */
function isKeySelection(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWKInvalid
  );
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

export class IssuerKeys {
  readonly #issuer: string;
  readonly #configuredUri: URL | undefined;
  readonly #settings: KeySettings;
  #remote: Promise<RemoteJWKSet> | undefined;
  /** The last key set fetched with 200 and valid JSON; serves while refetches fail. */
  #lastGood: GetKey | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;

  constructor(issuer: string, jwksUri: string | undefined, settings: KeySettings) {
    this.#issuer = issuer;
    this.#configuredUri = jwksUri === undefined ? undefined : new URL(jwksUri);
    this.#settings = settings;
  }

  /** For jose's jwtVerify. Throws KeysUnavailable, or jose's key-selection errors (no key with that kid…). */
  readonly getKey: GetKey = async (header, token) => {
    if (this.#settings.now() - this.#failedAt < this.#settings.cooldownMs) {
      return this.#fromLastGood(header, token, 'the last fetch of keys failed less than a cooldown ago');
    }
    let remote: RemoteJWKSet;
    try {
      remote = await this.#remoteSet();
    } catch (err) {
      this.#failedAt = this.#settings.now();
      this.#remote = undefined;
      throw err instanceof KeysUnavailable ? err : new KeysUnavailable(describe(err));
    }
    try {
      return await remote(header, token);
    } catch (err) {
      if (isKeySelection(err)) throw err;
      this.#failedAt = this.#settings.now();
      return this.#fromLastGood(header, token, `JWKS fetch failed (${describe(err)})`);
    }
  };

  async #fromLastGood(header: JWSHeaderParameters, token: FlattenedJWSInput, why: string): Promise<CryptoKey> {
    if (this.#lastGood === undefined) throw new KeysUnavailable(`${why}; no keys cached`);
    try {
      return await this.#lastGood(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) throw new KeysUnavailable(`${why}; no cached key matches`);
      throw err;
    }
  }

  #remoteSet(): Promise<RemoteJWKSet> {
    this.#remote ??= (async () => {
      const uri = this.#configuredUri ?? (await this.#discover());
      return createRemoteJWKSet(uri, {
        timeoutDuration: this.#settings.fetchTimeoutMs,
        cooldownDuration: this.#settings.cooldownMs,
        cacheMaxAge: this.#settings.cacheMaxAgeMs,
        [customFetch]: this.#fetchKeys,
      });
    })();
    return this.#remote;
  }

  /** jose's fetch, keeping a copy of every good answer and aborting on close. */
  readonly #fetchKeys: FetchImplementation = async (url, init) => {
    const res = await fetch(url, { ...init, signal: AbortSignal.any([init.signal, this.#settings.signal]) });
    if (res.status === 200) {
      try {
        const json = (await res.clone().json()) as JSONWebKeySet;
        this.#lastGood = createLocalJWKSet(json);
        this.#failedAt = Number.NEGATIVE_INFINITY;
      } catch {
        // jose reads the same body and reports it.
      }
    }
    return res;
  };

  async #discover(): Promise<URL> {
    const failures: string[] = [];
    for (const url of metadataUrls(this.#issuer)) {
      try {
        const res = await fetch(url, {
          redirect: 'manual',
          headers: { accept: 'application/json' },
          signal: AbortSignal.any([AbortSignal.timeout(this.#settings.fetchTimeoutMs), this.#settings.signal]),
        });
        if (res.status !== 200) {
          await res.body?.cancel();
          failures.push(`${url}: HTTP ${res.status}`);
          continue;
        }
        const meta = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
        // RFC 8414 §3.3 / OpenID Discovery §4.3: the metadata must name the very issuer asked about.
        if (meta.issuer !== this.#issuer) {
          failures.push(`${url}: names another issuer`);
          continue;
        }
        if (typeof meta.jwks_uri !== 'string') {
          failures.push(`${url}: no jwks_uri`);
          continue;
        }
        return new URL(meta.jwks_uri);
      } catch (err) {
        failures.push(`${url}: ${describe(err)}`);
      }
    }
    throw new KeysUnavailable(`no usable metadata for issuer ${this.#issuer} (${failures.join('; ')})`);
  }
}
