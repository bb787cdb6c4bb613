// subscriptions/listen on the aggregate endpoint (2026): one stream over every member the caller sees.
// A tap per member is a connected caller of that member's router (as a per-server listen stream is);
// resource subscriptions go to the member that owns the URI. The acknowledgement lists what was
// accepted; list_changed comes from any member, and from the aggregate itself when a reload changes
// its members (or their names). Every notification is tagged with the subscription id.
import { ResourceMethod, type JsonRpcId, type JsonRpcNotification } from '../protocol/jsonrpc.ts';
import { Meta, ModernMethod, passesFilter, type ListenFilter } from '../protocol/modern.ts';
import type { Caller, Router } from '../router/router.ts';
import type { SseStream } from '../http/sse.ts';
import type { KeySpec } from '../config/types.ts';

export interface ListenMember {
  readonly server: string;
  readonly router: Router;
}

const LIST_CHANGED: readonly (readonly [keyof ListenFilter, string])[] = [
  ['toolsListChanged', 'notifications/tools/list_changed'],
  ['promptsListChanged', 'notifications/prompts/list_changed'],
  ['resourcesListChanged', 'notifications/resources/list_changed'],
];

export class AggregateListen {
  /** The key as the gateway knows it now (a reload may give it other servers: the registry updates it). */
  key: KeySpec | undefined;
  readonly bundle: string | undefined;
  readonly #subscriptionId: JsonRpcId;
  #filter: ListenFilter;
  readonly #stream: SseStream;
  /** Per member: its tap (a connected caller of the member's router) and the disconnect. */
  readonly #taps = new Map<string, { router: Router; caller: Caller; disconnect: () => void }>();
  #acknowledged = false;
  #closed = false;

  constructor(key: KeySpec | undefined, bundle: string | undefined, subscriptionId: JsonRpcId, asked: ListenFilter, stream: SseStream) {
    this.key = key;
    this.bundle = bundle;
    this.#subscriptionId = subscriptionId;
    // The aggregate can always say its lists changed (its members change with reloads).
    const { resourceSubscriptions, ...lists } = asked;
    this.#filter = { ...lists, ...(resourceSubscriptions === undefined ? {} : { resourceSubscriptions }) };
    this.#stream = stream;
  }

  /**
   * Taps every member, subscribes each asked URI at the member that owns it (`owner`), then acknowledges
   * with the URIs accepted.
   */
  async open(members: readonly ListenMember[], owner: (uri: string) => Promise<string | undefined>, onClose: () => void): Promise<void> {
    this.#stream.onClose(() => {
      this.#release();
      onClose();
    });
    this.members(members);
    const uris = this.#filter.resourceSubscriptions ?? [];
    let n = 0;
    const accepted = await Promise.all(
      uris.map(async (uri) => {
        const server = await owner(uri);
        const tap = server === undefined ? undefined : this.#taps.get(server);
        if (tap === undefined) return undefined;
        const { response } = await tap.router.request({ jsonrpc: '2.0', id: `aggregate-listen:sub:${++n}`, method: ResourceMethod.Subscribe, params: { uri } }, { caller: tap.caller });
        return 'result' in response ? uri : undefined;
      }),
    );
    if (this.#closed) return;
    const { resourceSubscriptions: _asked, ...rest } = this.#filter;
    const ok = accepted.filter((u): u is string => u !== undefined);
    this.#filter = ok.length > 0 ? { ...rest, resourceSubscriptions: ok } : rest;
    this.#send(ModernMethod.Acknowledged, { notifications: this.#filter });
    this.#acknowledged = true;
  }

  /** Taps the members given, lets go of the others (a reload changed what the caller sees). */
  members(members: readonly ListenMember[]): void {
    if (this.#closed) return;
    const now = new Set(members.map((m) => m.server));
    for (const [server, tap] of this.#taps) {
      if (!now.has(server)) {
        tap.disconnect();
        this.#taps.delete(server);
      }
    }
    for (const m of members) {
      const tap = this.#taps.get(m.server);
      if (tap !== undefined && tap.router === m.router) continue;
      tap?.disconnect();
      const caller = this.#callerOf(m.server);
      this.#taps.set(m.server, { router: m.router, caller, disconnect: m.router.connect(caller) });
    }
  }

  /** What the caller sees changed (members, names): every list it listens to changed. */
  listsChanged(): void {
    if (!this.#acknowledged) return;
    for (const [flag, method] of LIST_CHANGED) if (this.#filter[flag] === true) this.#send(method, {});
  }

  /** Ends the subscription from this side (shutdown, a revoked key): a completion result first. */
  end(): void {
    if (this.#closed) return;
    this.#stream.send(JSON.stringify({ jsonrpc: '2.0', id: this.#subscriptionId, result: { resultType: 'complete', _meta: { [Meta.SubscriptionId]: this.#subscriptionId } } }));
    this.#stream.close();
  }

  #callerOf(server: string): Caller {
    return {
      id: `aggregate-listen:${String(this.#subscriptionId)}:${server}`,
      onNotification: (message: JsonRpcNotification, relatedId?: JsonRpcId) => {
        if (relatedId !== undefined || !this.#acknowledged || !passesFilter(this.#filter, message.method, message.params)) return;
        this.#send(message.method, message.params ?? {});
      },
    };
  }

  #send(method: string, params: Record<string, unknown>): void {
    const meta = typeof params._meta === 'object' && params._meta !== null ? params._meta : {};
    this.#stream.send(JSON.stringify({ jsonrpc: '2.0', method, params: { ...params, _meta: { ...meta, [Meta.SubscriptionId]: this.#subscriptionId } } }));
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tap of this.#taps.values()) tap.disconnect();
    this.#taps.clear();
  }
}
