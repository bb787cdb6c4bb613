// The requestState of an input-required result (MRTR): opaque to the client, integrity-protected here.
// `<replica>.<payload>.<mac>`: the replica id in clear (a router in front of several replicas can send the
// retry to the owner without the secret), the payload base64url JSON, the mac HMAC-SHA256 over both with
// a secret the process mints at start (a parked call does not outlive its process anyway). Nothing in it
// is secret: it names a handle, a server, a key's name, a digest and an expiry.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface StatePayload {
  /** The parked call's handle in its replica's table. */
  readonly handle: string;
  readonly server: string;
  /** The principal that started the call (a key's name; '' when the gateway has no keys). */
  readonly principal: string;
  /** Digest of the call (method, name or uri, arguments): a state is good for that call only. */
  readonly digest: string;
  /** Which round of the call this state answers: an older state is spent. */
  readonly round: number;
  /** Epoch ms after which the state is refused. */
  readonly expires: number;
}

export type StateCheck = { readonly payload: StatePayload; readonly replica: string } | { readonly invalid: string };

export class RequestStateSigner {
  readonly #secret: Buffer;
  readonly #replica: string;

  constructor(replica: string, secret: Buffer = randomBytes(32)) {
    this.#replica = replica;
    this.#secret = secret;
  }

  sign(payload: StatePayload): string {
    const body = `${this.#replica}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${body}.${this.#mac(body)}`;
  }

  /** Checks the mac first: nothing of a state that fails it is read. */
  verify(state: unknown, now = Date.now()): StateCheck {
    if (typeof state !== 'string' || state.length > 4096) return { invalid: 'requestState must be a string this gateway issued' };
    const cut = state.lastIndexOf('.');
    const body = state.slice(0, cut);
    const mac = Buffer.from(state.slice(cut + 1));
    const want = Buffer.from(this.#mac(body));
    if (cut <= 0 || mac.length !== want.length || !timingSafeEqual(mac, want)) return { invalid: 'requestState failed its integrity check' };
    const [replica, encoded] = body.split('.');
    let payload: StatePayload;
    try {
      payload = JSON.parse(Buffer.from(encoded ?? '', 'base64url').toString('utf8')) as StatePayload;
    } catch {
      return { invalid: 'requestState failed its integrity check' };
    }
    if (payload.expires < now) return { invalid: 'requestState expired: send the request again without it' };
    return { payload, replica: replica ?? '' };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}

/** What a retry must repeat of the call it continues: its method and its own params, not _meta nor MRTR fields. */
export function callDigest(method: string, params: Record<string, unknown> | undefined): string {
  const { _meta: _m, inputResponses: _i, requestState: _s, ...own } = params ?? {};
  return createHash('sha256').update(method).update('\0').update(canonicalJson(own)).digest('base64url').slice(0, 22);
}

/** JSON with object keys sorted, so that two spellings of the same params give one digest. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
