// One session of the aggregate endpoint (/mcp): a binding over every server the session's key may use.
// Lists are merged (tools and prompts named `<server>__<name>`, resources and templates as the servers
// give them, routed back by a URI map), pages span servers, calls go to the server their name or URI
// says, and the session is the caller on each member's router: progress, cancels, server-to-client
// requests and notifications work as on the per-server endpoints. Members come and go with reloads and
// with their children; the session hears list_changed then.
import { ErrorCode, Method, ResourceMethod, errorResponse, type JsonRpcId, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.ts';
import type { Caller, RequestOptions, RouteResult } from '../router/router.ts';
import type { Binding } from '../sessions/binding.ts';
import type { Exposure, ItemFilter } from '../config/types.ts';
import { DISCOVERY_TOOLS, ENABLE_TOOL, SEARCH_TOOL, describeMatches, searchCatalog } from './discovery.ts';
import { LISTS, decodeCursor, encodeCursor, qualify, resolveName, shows, templatePrefix, unitedCapabilities } from './names.ts';

/** What a caller of the aggregate sees now: its servers in name order with how each appears, and the bundle's filter. */
export interface AggregateView {
  readonly members: readonly { readonly server: string; readonly exposure: Exposure }[];
  readonly separator: string;
  /** Globs over shown tool names that all must pass: the bundle's, the key's. */
  readonly tools: readonly ItemFilter[];
  /** Discovery mode (a bundle's `discovery: true`): sessions enable the tools they need. */
  readonly discovery?: boolean;
}

/** Opens a member for this session: a binding to its child(ren), or why not. */
export type OpenMember = (server: string) => Promise<Binding | { readonly failure: string }>;

/** The session, as the members' routers see it, plus what the aggregate tells it. */
export interface AggregateCaller extends Caller {
  onNotification(message: JsonRpcNotification, relatedId?: JsonRpcId): void;
}

/** A walk of a merged list to learn names or URIs stops here (a member that pages without end). */
const MAX_LEARN_PAGES = 100;
const LIST_CHANGED = ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed'];
const keyOf = (id: JsonRpcId): string => (typeof id === 'number' ? `n${id}` : `s${id}`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class AggregateBinding implements Binding {
  initializeResult: Record<string, unknown> = {};
  readonly #visible: () => AggregateView;
  #view: AggregateView = { members: [], separator: '__', tools: [] };
  /** Shown names of servers without a prefix → their server (learnt from their lists), by list kind. */
  readonly #plain = new Map<string, Map<string, string>>();
  /** Told of a name two servers without a prefix both have (shown for the first only). */
  readonly #onClash: (what: string) => void;
  /** Told of each request routed to a member (metrics). */
  readonly #onRouted: (server: string, method: string) => void;
  readonly #open: OpenMember;
  readonly #caller: AggregateCaller;
  readonly #serverInfo: Record<string, unknown>;
  /** Members opened for this session (or being opened), by server name. */
  readonly #members = new Map<string, Promise<Binding | { readonly failure: string }>>();
  /** Which member each of the client's requests in flight went to (a cancel names it). */
  readonly #inFlight = new Map<string, Binding>();
  /** Resource URIs this session subscribed through the aggregate, with their member. */
  readonly #subscribed = new Map<string, string>();
  /** Walks of a whole list under way, by method: concurrent lookups share one. */
  readonly #walks = new Map<string, Promise<void>>();
  /** Discovery mode: the tools this session (a 2026 principal, on the stateless path) enabled. */
  readonly #enabled = new Set<string>();
  /** Requests whose member is still being chosen; true once the client cancelled one. */
  readonly #choosing = new Map<string, boolean>();
  /** Resource URIs and template prefixes seen in the members' lists → their server. */
  readonly #uris = new Map<string, string>();
  readonly #templates = new Map<string, string>();
  #names: readonly string[] = [];
  #released = false;

  /** Members are opened once per session and kept; false (the 2026 path) opens them for each use. */
  readonly #keepMembers: boolean;

  /** `visible`: what the caller's key may see now (servers in name order). */
  constructor(
    visible: () => AggregateView,
    open: OpenMember,
    caller: AggregateCaller,
    serverInfo: Record<string, unknown>,
    keepMembers = true,
    onClash: (what: string) => void = () => {},
    onRouted: (server: string, method: string) => void = () => {},
  ) {
    this.#onRouted = onRouted;
    this.#visible = visible;
    this.#open = open;
    this.#caller = caller;
    this.#serverInfo = serverInfo;
    this.#keepMembers = keepMembers;
    this.#onClash = onClash;
    if (!keepMembers) this.#look();
  }

  /** Takes the current view; true when it differs from the last one (members, prefixes, filters). */
  #look(): boolean {
    const view = this.#visible();
    const changed = JSON.stringify(view) !== JSON.stringify(this.#view);
    this.#view = view;
    this.#names = view.members.map((m) => m.server);
    if (changed) {
      // What was learnt of names and URIs was learnt under the old view.
      this.#plain.clear();
      this.#uris.clear();
      this.#templates.clear();
    }
    return changed;
  }

  #exposure(server: string): Exposure | undefined {
    return this.#view.members.find((m) => m.server === server)?.exposure;
  }

  /** Opens every visible member and answers the client's initialize with what they offer together. */
  async initialize(protocolVersion: string): Promise<Record<string, unknown>> {
    this.#look();
    const opened = await Promise.all(this.#names.map(async (name) => [name, await this.#member(name)] as const));
    const up = opened.filter((e): e is readonly [string, Binding] => !('failure' in e[1]));
    this.initializeResult = {
      protocolVersion,
      capabilities: unitedCapabilities(up.map(([, b]) => b.initializeResult)),
      serverInfo: this.#serverInfo,
      instructions: this.instructions(),
    };
    return this.initializeResult;
  }

  /** The members as last looked at (no new look: a sweep must not swallow a change refresh() reports). */
  get servers(): readonly string[] {
    return this.#names;
  }

  /** What the caller sees now (members, names, filters). */
  view(): AggregateView {
    this.#look();
    return this.#view;
  }

  /** What the aggregate tells a model about itself: which servers, and how names are made. */
  instructions(): string {
    if (!this.#keepMembers) this.#look();
    const named = this.#view.members.map((m) => (m.exposure.prefix === '' ? `${m.server} (names as they are)` : m.exposure.prefix === m.server ? m.server : `${m.server} (as ${m.exposure.prefix})`));
    return `This endpoint serves the tools, prompts and resources of several MCP servers: ${named.join(', ')}. Tool and prompt names are <server>${this.#view.separator}<name>.`;
  }

  get requestTimeoutMs(): number {
    return 60_000;
  }

  #member(name: string): Promise<Binding | { readonly failure: string }> {
    // An ended session opens nothing more (a walk still running must not start a child for it).
    if (this.#released) return Promise.resolve({ failure: 'the session ended' });
    if (!this.#keepMembers) return this.#open(name);
    let m = this.#members.get(name);
    if (m === undefined) {
      m = this.#open(name);
      this.#members.set(name, m);
      // A member that could not open is tried again next time.
      void m.then((b) => {
        if ('failure' in b && this.#members.get(name) === m) this.#members.delete(name);
      });
    }
    return m;
  }

  /** A member's child ended (a per-session child) or the visible servers changed: the lists changed. */
  async refresh(): Promise<void> {
    if (this.#released) return;
    const changed = this.#look();
    if (changed) await this.#dropHiddenSubscriptions();
    const gone = [...this.#members.keys()].filter((n) => !this.#names.includes(n));
    for (const name of gone) await this.forget(name);
    if (changed || gone.length > 0) for (const method of LIST_CHANGED) this.#caller.onNotification({ jsonrpc: '2.0', method });
  }

  /** A member's child ended (a per-session member): it is let go, and the session hears its lists changed. */
  async memberEnded(name: string): Promise<void> {
    await this.forget(name);
    this.listsChanged();
  }

  /** Tells the session its lists changed (a member went down or came back, a child ended). */
  listsChanged(): void {
    if (this.#released) return;
    for (const method of LIST_CHANGED) this.#caller.onNotification({ jsonrpc: '2.0', method });
  }

  /** Lets a member go (its child ended, or it is no longer visible); the next use opens it again. */
  async forget(name: string): Promise<void> {
    const m = this.#members.get(name);
    this.#members.delete(name);
    for (const [uri, server] of this.#uris) if (server === name) this.#uris.delete(uri);
    for (const [prefix, server] of this.#templates) if (server === name) this.#templates.delete(prefix);
    const b = await m;
    if (b !== undefined && !('failure' in b)) await b.release();
  }

  async request(message: JsonRpcRequest, options: RequestOptions): Promise<RouteResult> {
    if (!this.#keepMembers) this.#look();
    const m = message.method;
    if (m === Method.Ping) return ok(message.id, {});
    if (this.#view.discovery === true) {
      const answered = await this.#discovery(message);
      if (answered !== undefined) return answered;
    }
    const list = LISTS[m];
    if (list !== undefined) return this.#list(message, list.field, list.key, options);
    if (m === 'logging/setLevel') {
      await Promise.all(this.#names.map(async (n) => {
        const b = await this.#member(n);
        if (!('failure' in b)) await b.request({ ...message, id: `${keyOf(message.id)}:${n}` }, { caller: options.caller });
      }));
      return ok(message.id, {});
    }
    // Noted from the start: a cancel may come while the member is still being chosen (a URI to learn).
    const key = keyOf(message.id);
    this.#choosing.set(key, false);
    let target: Awaited<ReturnType<AggregateBinding['route']>>;
    let b: Binding | { readonly failure: string } | undefined;
    try {
      target = await this.#target(message);
      if (!('error' in target)) b = await this.#member(target.server);
    } finally {
      const cancelled = this.#choosing.get(key) === true;
      this.#choosing.delete(key);
      if (cancelled) return { response: errorResponse(message.id, ErrorCode.RequestCancelled, 'cancelled by the client'), failure: 'cancelled' };
    }
    if ('error' in target) return { response: errorResponse(message.id, target.code, target.error, target.data) };
    options.onRouted?.(target.server);
    this.#onRouted(target.server, message.method);
    if (b === undefined || 'failure' in b) return { response: errorResponse(message.id, ErrorCode.ServerUnavailable, `server "${target.server}": ${b?.failure ?? 'gone'}`) };
    this.#inFlight.set(key, b);
    try {
      const result = await b.request(target.message, options);
      const uri = target.message.params?.uri;
      if ('result' in result.response && typeof uri === 'string') {
        if (m === ResourceMethod.Subscribe) this.#subscribed.set(uri, target.server);
        else if (m === ResourceMethod.Unsubscribe) this.#subscribed.delete(uri);
      }
      return result;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /** Subscriptions to URIs the caller may no longer see (a reload) are let go at their member. */
  async #dropHiddenSubscriptions(): Promise<void> {
    for (const [uri, server] of [...this.#subscribed]) {
      const exposure = this.#exposure(server);
      if (exposure !== undefined && shows(exposure.resources, uri)) continue;
      this.#subscribed.delete(uri);
      const b = await this.#members.get(server);
      if (b !== undefined && !('failure' in b)) await b.request({ jsonrpc: '2.0', id: `drop:${uri}`, method: ResourceMethod.Unsubscribe, params: { uri } }, { caller: this.#caller });
    }
  }

  /** What the aggregate answers itself before routing (discovery mode's tools); undefined: route it. */
  async answerHere(message: JsonRpcRequest): Promise<RouteResult | undefined> {
    if (!this.#keepMembers) this.#look();
    return this.#view.discovery === true ? this.#discovery(message) : undefined;
  }

  /**
   * Discovery mode: tools/list is the two discovery tools and what this session enabled; search_tools and
   * enable_tools are answered here; a tool not enabled yet is refused. Undefined: route as usual.
   */
  async #discovery(message: JsonRpcRequest): Promise<RouteResult | undefined> {
    const params = message.params ?? {};
    if (message.method === 'tools/list') {
      const enabled = (await this.#catalog()).filter((t) => this.#enabled.has(String(t.name)));
      return ok(message.id, { tools: [...DISCOVERY_TOOLS, ...enabled] });
    }
    if (message.method !== 'tools/call') return undefined;
    const args = isObject(params.arguments) ? params.arguments : {};
    const text = (t: string): RouteResult => ok(message.id, { content: [{ type: 'text', text: t }] });
    if (params.name === SEARCH_TOOL) {
      const query = typeof args.query === 'string' ? args.query : '';
      return text(describeMatches(searchCatalog(await this.#catalog(), query), query));
    }
    if (params.name === ENABLE_TOOL) {
      const names = Array.isArray(args.names) ? args.names.filter((n): n is string => typeof n === 'string') : [];
      const known = new Set((await this.#catalog()).map((t) => String(t.name)));
      const added = names.filter((n) => known.has(n) && !this.#enabled.has(n));
      const unknown = names.filter((n) => !known.has(n));
      for (const n of added) this.#enabled.add(n);
      if (added.length > 0) this.#caller.onNotification({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
      const parts = [added.length > 0 ? `Enabled: ${added.join(', ')}.` : 'Nothing new enabled.'];
      if (unknown.length > 0) parts.push(`Not in the catalog: ${unknown.join(', ')} (use search_tools).`);
      return text(parts.join(' '));
    }
    if (typeof params.name === 'string' && !this.#enabled.has(params.name)) {
      return { response: errorResponse(message.id, ErrorCode.InvalidParams, `Invalid params: ${JSON.stringify(params.name)} is not enabled for this session; find it with search_tools and enable it with enable_tools`) };
    }
    return undefined;
  }

  /** Every tool the endpoint shows this caller (all pages of the merged list). */
  async #catalog(): Promise<Record<string, unknown>[]> {
    const tools: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await this.#list({ jsonrpc: '2.0', id: 'catalog', method: 'tools/list', params: cursor === undefined ? {} : { cursor } }, 'tools', 'name', {});
      const result = 'result' in r.response ? r.response.result : undefined;
      if (Array.isArray(result?.tools)) tools.push(...(result.tools as Record<string, unknown>[]));
      cursor = typeof result?.nextCursor === 'string' ? result.nextCursor : undefined;
    } while (cursor !== undefined && ++pages < MAX_LEARN_PAGES);
    return tools;
  }

  /** Which member a request is for (tools/call, prompts/get, resources/*, completion/complete), as that member must see it. */
  async route(message: JsonRpcRequest): Promise<{ server: string; message: JsonRpcRequest } | { error: string; code: number; data?: unknown }> {
    if (!this.#keepMembers) this.#look();
    const target = await this.#target(message);
    if ('server' in target) this.#onRouted(target.server, message.method);
    return target;
  }

  /** The capabilities of every visible member together (members that are down are left out). */
  async united(): Promise<Record<string, unknown>> {
    if (!this.#keepMembers) this.#look();
    const opened = await Promise.all(this.#names.map((name) => this.#member(name)));
    return unitedCapabilities(opened.filter((b): b is Binding => !('failure' in b)).map((b) => b.initializeResult));
  }

  async #target(message: JsonRpcRequest): Promise<{ server: string; message: JsonRpcRequest } | { error: string; code: number; data?: unknown }> {
    const params = message.params ?? {};
    switch (message.method) {
      case 'tools/call':
      case 'prompts/get': {
        const kind = message.method === 'tools/call' ? 'tools' : 'prompts';
        const r = await this.#byName(kind, params.name);
        if (r === undefined) return { error: `Invalid params: ${JSON.stringify(params.name)} names no ${kind === 'tools' ? 'tool' : 'prompt'} of this endpoint`, code: ErrorCode.InvalidParams };
        return { server: r.server, message: { ...message, params: { ...params, name: r.name } } };
      }
      case 'completion/complete': {
        const ref = isObject(params.ref) ? params.ref : {};
        if (ref.type === 'ref/prompt') {
          const r = await this.#byName('prompts', ref.name);
          if (r === undefined) return { error: `Invalid params: the prompt ${JSON.stringify(ref.name)} is not one of this endpoint`, code: ErrorCode.InvalidParams };
          return { server: r.server, message: { ...message, params: { ...params, ref: { ...ref, name: r.name } } } };
        }
        return this.#byUri(message, ref.uri);
      }
      case 'resources/read':
      case ResourceMethod.Subscribe:
      case ResourceMethod.Unsubscribe:
        return this.#byUri(message, params.uri);
      default:
        return { error: `Method not found: ${message.method} (the aggregate endpoint routes tools, prompts, resources and completions)`, code: ErrorCode.MethodNotFound };
    }
  }

  /** A shown tool or prompt name → its server and own name, if this caller may see it. */
  async #byName(kind: 'tools' | 'prompts', shown: unknown): Promise<{ server: string; name: string } | undefined> {
    if (typeof shown !== 'string') return undefined;
    const prefixes = this.#view.members.map((m) => [m.exposure.prefix, m.server] as const);
    const sep = this.#view.separator;
    let r = resolveName(shown, prefixes, sep, this.#plain.get(kind));
    if (r === undefined && this.#view.members.some((m) => m.exposure.prefix === '')) {
      await this.#learn(`${kind}/list`); // names of servers without a prefix are known from their lists
      r = resolveName(shown, prefixes, sep, this.#plain.get(kind));
    }
    if (r === undefined) return undefined;
    const exposure = this.#exposure(r.server);
    if (exposure === undefined || !shows(exposure[kind], r.name)) return undefined;
    if (kind === 'tools' && !this.#view.tools.every((f) => shows(f, shown))) return undefined;
    return r;
  }

  async #byUri(message: JsonRpcRequest, uri: unknown): Promise<{ server: string; message: JsonRpcRequest } | { error: string; code: number; data?: unknown }> {
    if (typeof uri !== 'string') return { error: 'Invalid params: uri must be a string', code: ErrorCode.InvalidParams };
    let server = this.#serverOf(uri);
    if (server === undefined) {
      // Not seen yet: the members' lists say whose it is.
      await this.#learnUris();
      server = this.#serverOf(uri);
    }
    const exposure = server === undefined ? undefined : this.#exposure(server);
    if (server === undefined || exposure === undefined || !shows(exposure.resources, uri)) return { error: 'Resource not found', code: ErrorCode.InvalidParams, data: { uri } };
    return { server, message };
  }

  #serverOf(uri: string): string | undefined {
    const exact = this.#uris.get(uri);
    if (exact !== undefined) return exact;
    let best: [string, string] | undefined;
    for (const [prefix, server] of this.#templates) if (uri.startsWith(prefix) && (best === undefined || prefix.length > best[0].length)) best = [prefix, server];
    return best?.[1];
  }

  async #learnUris(): Promise<void> {
    for (const method of ['resources/list', 'resources/templates/list']) await this.#learn(method);
  }

  /** Walks a whole merged list: what it teaches (URIs, names without a prefix) is kept. One walk at a time per list. */
  #learn(method: string): Promise<void> {
    let walk = this.#walks.get(method);
    if (walk === undefined) {
      walk = this.#walk(method).finally(() => this.#walks.delete(method));
      this.#walks.set(method, walk);
    }
    return walk;
  }

  async #walk(method: string): Promise<void> {
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await this.#list({ jsonrpc: '2.0', id: `learn:${method}`, method, params: cursor === undefined ? {} : { cursor } }, LISTS[method]!.field, LISTS[method]!.key, {});
      const result = 'result' in r.response ? r.response.result : undefined;
      cursor = typeof result?.nextCursor === 'string' ? result.nextCursor : undefined;
    } while (cursor !== undefined && ++pages < MAX_LEARN_PAGES);
  }

  /**
   * One page of a merged list: the members in name order, starting where the cursor says; a member's
   * own pages are passed through (its cursor inside ours). Members that are down are skipped.
   */
  async #list(message: JsonRpcRequest, field: string, key: 'name' | 'uri' | 'uriTemplate', options: RequestOptions): Promise<RouteResult> {
    const names = this.#names;
    const raw = message.params?.cursor;
    const cursor = raw === undefined ? undefined : decodeCursor(raw);
    if (raw !== undefined && cursor === undefined) {
      return { response: errorResponse(message.id, ErrorCode.InvalidParams, 'Invalid params: the cursor is not one this endpoint gave; list again from the start') };
    }
    let at = cursor === undefined ? 0 : names.indexOf(cursor.server);
    let childCursor = cursor?.cursor;
    // A list from its start learns the names of servers without a prefix anew, in server order (a name
    // a server dropped no longer hides another's; the first by name keeps a clash).
    if (cursor === undefined && (field === 'tools' || field === 'prompts')) this.#plain.delete(field);
    if (cursor !== undefined && at === -1) {
      // Its server is gone (a reload) or was never this caller's: go on with the next one in name order
      // that this caller sees (list_changed has told it to list again anyway).
      at = names.findIndex((n) => n > cursor.server);
      if (at === -1) return ok(message.id, { [LISTS[message.method]!.field]: [] });
      childCursor = undefined;
    }
    for (; at < names.length; at++, childCursor = undefined) {
      const server = names[at]!;
      const b = await this.#member(server);
      if ('failure' in b) continue;
      const params: Record<string, unknown> = { ...(message.params ?? {}) };
      delete params.cursor;
      if (childCursor !== undefined) params.cursor = childCursor;
      const r = await b.request({ ...message, id: `${keyOf(message.id)}:${server}`, params }, { caller: options.caller });
      if (!('result' in r.response)) continue; // a member without this kind of list, or failing: skipped
      const items = Array.isArray(r.response.result[field]) ? (r.response.result[field] as unknown[]) : [];
      const shown = items.filter(isObject).flatMap((item) => this.#shown(message.method, server, item, key));
      const next = typeof r.response.result.nextCursor === 'string' ? { server, cursor: r.response.result.nextCursor } : names[at + 1] === undefined ? undefined : { server: names[at + 1]! };
      // An empty page moves on to the next server here; a member's own empty page (it has more) goes
      // back to the client with our cursor, so a member that pages without end cannot hold this loop.
      if (shown.length === 0 && next !== undefined && next.server !== server) continue;
      return ok(message.id, next === undefined ? { [field]: shown } : { [field]: shown, nextCursor: encodeCursor(next) });
    }
    return ok(message.id, { [field]: [] });
  }

  /** An item of a member's list as this caller sees it (none when filtered out or clashing). */
  #shown(method: string, server: string, item: Record<string, unknown>, key: 'name' | 'uri' | 'uriTemplate'): Record<string, unknown>[] {
    const exposure = this.#exposure(server);
    if (exposure === undefined) return [];
    if (key === 'name') {
      const kind = method === 'tools/list' ? 'tools' : 'prompts';
      const name = String(item.name);
      if (!shows(exposure[kind], name)) return [];
      const shown = qualify(exposure.prefix, name, this.#view.separator);
      if (kind === 'tools' && !this.#view.tools.every((f) => shows(f, shown))) return [];
      if (exposure.prefix === '') {
        let plain = this.#plain.get(kind);
        if (plain === undefined) this.#plain.set(kind, (plain = new Map()));
        const owner = plain.get(shown);
        if (owner !== undefined && owner !== server) {
          this.#onClash(`${kind === 'tools' ? 'tool' : 'prompt'} "${shown}" of server "${server}" is hidden on the aggregate endpoint: server "${owner}" has one of that name (give one of them a prefix)`);
          return [];
        }
        plain.set(shown, server);
      }
      const override = kind === 'tools' ? exposure.overrides[name] : undefined;
      return [{ ...item, ...(override ?? {}), name: shown }];
    }
    const value = String(item[key]);
    if (!shows(exposure.resources, value)) return [];
    if (key === 'uri') {
      if (!this.#uris.has(value)) this.#uris.set(value, server); // the first server (by name) keeps a clashing URI
    } else {
      const prefix = templatePrefix(value);
      if (!this.#templates.has(prefix)) this.#templates.set(prefix, server);
    }
    return [item];
  }

  notify(message: JsonRpcNotification, caller: Caller): boolean {
    if (message.method === Method.Initialized) return true;
    if (message.method === Method.Cancelled) {
      const id = message.params?.requestId;
      if (typeof id !== 'string' && typeof id !== 'number') return true;
      if (this.#choosing.has(keyOf(id))) {
        this.#choosing.set(keyOf(id), true); // not sent anywhere yet: it never will be
        return true;
      }
      return this.#inFlight.get(keyOf(id))?.notify(message, caller) ?? true;
    }
    // roots/list_changed and the like concern every member.
    let any = false;
    for (const m of this.#members.values()) void m.then((b) => ('failure' in b ? undefined : b.notify(message, caller)));
    any = this.#members.size > 0;
    return any;
  }

  cancelAll(caller: Caller, reason: string): void {
    for (const m of this.#members.values()) void m.then((b) => ('failure' in b ? undefined : b.cancelAll(caller, reason)));
  }

  async release(): Promise<void> {
    this.#released = true;
    const all = [...this.#members.values()];
    this.#members.clear();
    await Promise.all(all.map(async (m) => {
      const b = await m;
      if (!('failure' in b)) await b.release();
    }));
  }
}

function ok(id: JsonRpcId, result: Record<string, unknown>): RouteResult {
  const response: JsonRpcResponse = { jsonrpc: '2.0', id, result };
  return { response };
}
