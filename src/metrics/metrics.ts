// Prometheus metrics (prom-client). Counters and the latency histogram are fed by the routers, through
// an observer per server that caches its label children (the message path pays a lookup, not a hash of
// labels); everything else is read from live state when Prometheus scrapes.
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Observer, Outcome } from '../router/router.ts';

/** MCP methods named in labels; anything else is `other`, so a client cannot blow up the label space. */
const KNOWN_METHODS = new Set([
  'initialize', 'ping', 'tools/list', 'tools/call', 'resources/list', 'resources/read', 'resources/templates/list',
  'resources/subscribe', 'resources/unsubscribe', 'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel',
]);

const STATES = ['starting', 'running', 'backoff', 'stopping', 'stopped', 'exited', 'failed', 'idle'] as const;

export interface ServerView {
  readonly name: string;
  readonly state: string;
  readonly restarts: number;
  /** Seconds since the current state began. */
  readonly sinceSeconds: number;
  readonly inFlight: number;
  readonly sessions: number;
  readonly sseClients: number;
  /** Rollouts that swapped in a new child, and those that failed (the old one kept serving). */
  readonly rollouts: { readonly succeeded: number; readonly failed: number };
  /** The last rollout failed and the old child still serves. */
  readonly rolloutFailed: boolean;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'server' | 'method' | 'outcome'>;
  readonly #latency: Histogram<'server' | 'method'>;
  readonly #reloads: Counter<'result'>;
  readonly #droppedSockets: Counter<'reason'>;
  readonly #lastGoodReload: Gauge;
  readonly #aggregateRequests: Counter<'endpoint' | 'server' | 'method'>;
  readonly #authentications: Counter<'method' | 'outcome'>;
  /** Label children by `method outcome`: counting an authentication is a Map lookup on the message path. */
  readonly #authenticationChildren = new Map<string, () => void>();

  /**
   * `replayBytes`: what the sessions' replay logs hold together (SessionRegistry.replay.used);
   * `stateless`: the 2026 path's parked calls and listen streams (StatelessRegistry).
   */
  constructor(view: () => Iterable<ServerView>, replayBytes: () => number = () => 0, stateless: () => { parkedCalls: number; listenStreams: number } = () => ({ parkedCalls: 0, listenStreams: 0 })) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'mcp_gateway_' });
    this.#requests = new Counter({ name: 'mcp_gateway_requests_total', help: 'JSON-RPC requests by server, method and outcome (ok, error, timeout, closed, cancelled, busy, unavailable).', labelNames: ['server', 'method', 'outcome'], registers });
    this.#latency = new Histogram({
      name: 'mcp_gateway_request_duration_seconds',
      help: 'Time from a request reaching the router to its answer.',
      labelNames: ['server', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#reloads = new Counter({ name: 'mcp_gateway_reloads_total', help: 'Manifest reloads by result (success, failure).', labelNames: ['result'], registers });
    this.#droppedSockets = new Counter({ name: 'mcp_gateway_sockets_dropped_total', help: 'Connections closed because their client stopped reading answers (stalled) or held too many unsent bytes (over-budget).', labelNames: ['reason'], registers });
    this.#aggregateRequests = new Counter({
      name: 'mcp_gateway_aggregate_requests_total',
      help: 'Requests an aggregate endpoint (endpoint "@" for /mcp, "@<bundle>" for a bundle) routed to a server, by method.',
      labelNames: ['endpoint', 'server', 'method'],
      registers,
    });
    this.#authentications = new Counter({
      name: 'mcp_gateway_authentications_total',
      help: 'Callers identified, by method (key, token) and outcome: ok, missing, unknown-key, or why a token was refused (expired, wrong-audience, unknown-issuer, bad-signature, …, no-grant).',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#lastGoodReload = new Gauge({ name: 'mcp_gateway_last_reload_success_timestamp_seconds', help: 'When a manifest was last applied (Unix time).', registers });
    // Fixed at start by node's V8 flags: shows whether the gateway got the heap settings it ships with.
    new Gauge({ name: 'mcp_gateway_heap_limit_bytes', help: 'The V8 heap limit of the gateway process (heap_size_limit).', registers }).set(getHeapStatistics().heap_size_limit);
    new Gauge({
      name: 'mcp_gateway_replay_log_bytes',
      help: 'Bytes the MCP sessions keep for clients that resume with Last-Event-ID, all sessions together (bounded by GATEWAY_REPLAY_BYTES).',
      registers,
      collect() {
        this.set(replayBytes());
      },
    });
    new Gauge({
      name: 'mcp_gateway_parked_calls',
      help: '2026 calls parked on an input-required round, waiting for the client to retry with its answers.',
      registers,
      collect() {
        this.set(stateless().parkedCalls);
      },
    });
    new Gauge({
      name: 'mcp_gateway_listen_streams',
      help: 'Open 2026 subscriptions/listen streams.',
      registers,
      collect() {
        this.set(stateless().listenStreams);
      },
    });

    const gauge = (name: string, help: string, read: (s: ServerView) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['server'],
        registers,
        collect() {
          this.reset();
          for (const s of view()) this.set({ server: s.name }, read(s));
        },
      });
    };
    new Gauge({
      name: 'mcp_gateway_server_state',
      help: 'The state each server is in (1) and is not in (0).',
      labelNames: ['server', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of view()) for (const st of STATES) this.set({ server: s.name, state: st }, s.state === st ? 1 : 0);
      },
    });
    gauge('mcp_gateway_server_up', 'Whether the server is running (1) or not (0).', (s) => (s.state === 'running' ? 1 : 0));
    gauge('mcp_gateway_server_restarts', 'Restarts of the server since its spec last changed.', (s) => s.restarts);
    gauge('mcp_gateway_server_uptime_seconds', 'Seconds the server has been running (0 when it is not).', (s) => (s.state === 'running' ? s.sinceSeconds : 0));
    gauge('mcp_gateway_requests_in_flight', 'Requests waiting for the server to answer.', (s) => s.inFlight);
    gauge('mcp_gateway_sessions', 'Open MCP sessions on the server.', (s) => s.sessions);
    new Counter({
      name: 'mcp_gateway_rollouts_total',
      help: 'Rollouts of a new child by result: succeeded (swapped in, the old one drained) or failed (the old one kept serving).',
      labelNames: ['server', 'result'],
      registers,
      collect() {
        this.reset();
        for (const s of view()) {
          this.inc({ server: s.name, result: 'succeeded' }, s.rollouts.succeeded);
          this.inc({ server: s.name, result: 'failed' }, s.rollouts.failed);
        }
      },
    });
    gauge('mcp_gateway_rollout_failed', 'Whether the last rollout failed and the old child still serves (1) or not (0); the next manifest change tries again.', (s) => (s.rolloutFailed ? 1 : 0));
    gauge('mcp_gateway_sse_clients', 'Open SSE streams on the server (classic stream and MCP session streams).', (s) => s.sseClients);
  }

  /** The observer a server's routers report to. */
  observer(server: string): Observer {
    const children = new Map<string, { count: () => void; time: (v: number) => void }>();
    return (method: string, outcome: Outcome, seconds: number) => {
      const m = KNOWN_METHODS.has(method) ? method : 'other';
      const key = `${m}\u0000${outcome}`;
      let c = children.get(key);
      if (c === undefined) {
        const counter = this.#requests.labels(server, m, outcome);
        const histogram = this.#latency.labels(server, m);
        c = { count: () => counter.inc(), time: (v: number) => histogram.observe(v) };
        children.set(key, c);
      }
      c.count();
      c.time(seconds);
    };
  }

  /** A request an aggregate endpoint (`@`, `@<bundle>`) routed to one of its servers. */
  aggregateRouted(endpoint: string, server: string, method: string): void {
    this.#aggregateRequests.inc({ endpoint, server, method: KNOWN_METHODS.has(method) ? method : 'other' });
  }

  /** A caller the gate identified (or could not). `outcome` is from a closed set: never a name or a credential. */
  authenticated(method: 'key' | 'token' | 'ticket', outcome: string): void {
    const id = `${method} ${outcome}`;
    let inc = this.#authenticationChildren.get(id);
    if (inc === undefined) {
      const child = this.#authentications.labels(method, outcome);
      inc = () => child.inc();
      this.#authenticationChildren.set(id, inc);
    }
    inc();
  }

  socketDropped(reason: 'stalled' | 'over-budget'): void {
    this.#droppedSockets.inc({ reason });
  }

  reloaded(ok: boolean): void {
    this.#reloads.inc({ result: ok ? 'success' : 'failure' });
    if (ok) this.#lastGoodReload.setToCurrentTime();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
