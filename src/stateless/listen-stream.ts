// One subscriptions/listen request (2026): a long-lived answer stream that carries the child's change
// notifications the client asked for, each tagged with the subscription's id (the listen request's id).
// It is a connected caller of the child's router, as a 2025 session is; its resource subscriptions go
// through the router's ref-counted subscribe, so the child hears one subscribe per URI however many
// listeners hold it, and the unsubscribe when the last one lets go.
import { ResourceMethod, type JsonRpcId, type JsonRpcNotification } from '../protocol/jsonrpc.ts';
import { Meta, ModernMethod, passesFilter, type ListenFilter } from '../protocol/modern.ts';
import type { Caller, Router } from '../router/router.ts';
import type { SseStream } from '../http/sse.ts';
import type { KeySpec } from '../config/types.ts';

/** Notifications kept for a stream until its acknowledgement is out. */
const EARLY_MAX = 64;

export class ListenStream implements Caller {
  readonly id: string;
  readonly server: string;
  /** The key that opened the stream (undefined when the gateway has no keys). */
  readonly key: KeySpec | undefined;
  readonly router: Router;
  readonly #subscriptionId: JsonRpcId;
  #filter: ListenFilter;
  /** Notifications that came before the acknowledgement (which waits for the child's subscribe answers). */
  #early: JsonRpcNotification[] | undefined = [];
  readonly #stream: SseStream;
  #disconnect: (() => void) | undefined;
  #closed = false;

  constructor(server: string, key: KeySpec | undefined, subscriptionId: JsonRpcId, filter: ListenFilter, router: Router, stream: SseStream, seq: number) {
    this.id = `listen:${seq}`;
    this.server = server;
    this.key = key;
    this.router = router;
    this.#subscriptionId = subscriptionId;
    this.#filter = filter;
    this.#stream = stream;
  }

  /**
   * Connects to the child's notifications, subscribes the resources asked for, then acknowledges with
   * what the child accepted (always the first frame; what came meanwhile follows it).
   */
  open(onClose: () => void): void {
    this.#disconnect = this.router.connect(this);
    this.#stream.onClose(() => {
      this.#release();
      onClose();
    });
    const uris = this.#filter.resourceSubscriptions ?? [];
    let n = 0;
    const subscribed = uris.map((uri) =>
      this.router
        .request({ jsonrpc: '2.0', id: `${this.id}:sub:${++n}`, method: ResourceMethod.Subscribe, params: { uri } }, { caller: this })
        .then(({ response }) => ('result' in response ? uri : undefined)),
    );
    void Promise.all(subscribed).then((answers) => {
      if (this.#closed) return;
      const { resourceSubscriptions: _asked, ...rest } = this.#filter;
      const accepted = answers.filter((u): u is string => u !== undefined);
      this.#filter = accepted.length > 0 ? { ...rest, resourceSubscriptions: accepted } : rest;
      this.#send({ method: ModernMethod.Acknowledged, params: { notifications: this.#filter } });
      const early = this.#early ?? [];
      this.#early = undefined;
      for (const m of early) this.onNotification(m);
    });
  }

  onNotification(message: JsonRpcNotification, relatedId?: JsonRpcId): void {
    if (relatedId !== undefined) return;
    if (this.#early !== undefined) {
      // Bounded: list_changed says "look again", and a stream this young has little to miss.
      if (this.#early.length < EARLY_MAX) this.#early.push(message);
      return;
    }
    if (!passesFilter(this.#filter, message.method, message.params)) return;
    this.#send({ method: message.method, params: message.params ?? {} });
  }

  /** Ends the subscription from this side (shutdown, a removed server or key): a completion result first. */
  end(): void {
    if (this.#closed) return;
    this.#stream.send(JSON.stringify({ jsonrpc: '2.0', id: this.#subscriptionId, result: { resultType: 'complete', _meta: { [Meta.SubscriptionId]: this.#subscriptionId } } }));
    this.#stream.close();
  }

  #send(n: { method: string; params: Record<string, unknown> }): void {
    const meta = typeof n.params._meta === 'object' && n.params._meta !== null ? n.params._meta : {};
    const message = { jsonrpc: '2.0', method: n.method, params: { ...n.params, _meta: { ...meta, [Meta.SubscriptionId]: this.#subscriptionId } } };
    this.#stream.send(JSON.stringify(message));
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disconnect?.();
  }
}
