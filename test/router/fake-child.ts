// The other side of a router under unit test: a child made of two PassThrough streams. It records every
// message the router writes to its stdin and writes what the test tells it to its stdout. The router
// itself is the real one.
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log.ts';
import { Router, type RouterOptions } from '../../src/router/router.ts';
import type { RouteResult } from '../../src/router/types.ts';

/** Test-side JSON: checked by assertions, not by the type system. */
// biome-ignore lint: tests read arbitrary JSON
type Json = any;

export class FakeChild {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  /** Every message the router wrote, in order. */
  readonly received: Json[] = [];
  #partial = '';

  constructor() {
    this.stdin.setEncoding('utf8');
    this.stdin.on('data', (text: string) => {
      this.#partial += text;
      let nl = this.#partial.indexOf('\n');
      while (nl !== -1) {
        this.received.push(JSON.parse(this.#partial.slice(0, nl)));
        this.#partial = this.#partial.slice(nl + 1);
        nl = this.#partial.indexOf('\n');
      }
    });
  }

  /** Requests the router sent (messages with a method and an id). */
  requests(method?: string): Json[] {
    return this.received.filter((m) => m.id !== undefined && m.method !== undefined && (method === undefined || m.method === method));
  }

  /** The ids the router cancelled with notifications/cancelled. */
  cancelled(): unknown[] {
    return this.received.filter((m) => m.method === 'notifications/cancelled').map((m) => m.params.requestId);
  }

  /** Writes one line to the router, as the child would. */
  send(message: unknown): void {
    this.stdout.write(JSON.stringify(message) + '\n');
  }

  /** Answers the router's request `gid` with `result`. */
  answer(gid: number, result: Record<string, unknown> = {}): void {
    this.send({ jsonrpc: '2.0', id: gid, result });
  }

  progress(token: number, progress: number): void {
    this.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress } });
  }
}

/**
 * Lets the streams move: the router uncorks on process.nextTick and PassThrough emits on the next
 * ticks; neither is faked by vitest's fake timers, so a few real ticks are enough.
 */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => process.nextTick(r));
}

const routers = new Set<Router>();

/** Detaches every router made by routerWithChild (afterEach): their timers stop, their requests end. */
export function detachAll(): void {
  for (const r of routers) r.detach('test over');
  routers.clear();
}

/** A real router wired to a fake child, ready unless told otherwise. */
export function routerWithChild(options: Partial<RouterOptions> = {}, ready = true): { router: Router; child: FakeChild; logs: string[] } {
  const logs: string[] = [];
  const router = new Router({
    server: 'demo',
    log: createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } }),
    requestTimeoutMs: 1000,
    ...options,
  });
  routers.add(router);
  const child = new FakeChild();
  router.attach(child.stdin, child.stdout);
  if (ready) router.setAvailability({ kind: 'ready' });
  return { router, child, logs };
}

/** A request's answer as it settles, readable without awaiting (a request that never settles is visible). */
export function track(p: Promise<RouteResult>): { result: RouteResult | undefined; settles: number } {
  const t = { result: undefined as RouteResult | undefined, settles: 0 };
  void p.then((r) => {
    t.result = r;
    t.settles++;
  });
  return t;
}

export function call(id: number | string, name = 'slow', meta?: Record<string, unknown>) {
  return { jsonrpc: '2.0' as const, id, method: 'tools/call', params: { name, arguments: {}, ...(meta === undefined ? {} : { _meta: meta }) } };
}
