// Puts the daemon together: the reconciler on the manifest, the file watch, and the HTTP listener.
// Whoever calls startGateway owns the result and must close() it; close stops everything it opened.
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { createHandler } from './http/app.ts';
import { DEFAULT_SSE_OPTIONS, type SseOptions, type SseStream } from './http/sse.ts';
import { GatewayMetrics, type ServerView } from './metrics/metrics.ts';
import { createLogger, type Logger } from './log.ts';
import { Reconciler } from './reconciler/reconciler.ts';
import { SessionRegistry } from './sessions/registry.ts';
import { StatelessRegistry } from './stateless/registry.ts';
import { Gate } from './http/gate.ts';
import { DEFAULT_SOCKET_GUARD, guardSockets, type SocketGuardOptions } from './http/socket-guard.ts';
import { shownValue, withoutEnvValues } from './config/shown.ts';
import type { RouteTable } from './http/route-table.ts';
import type { Serve } from './http/request-context.ts';
import { sseClients } from './http/classic.ts';
import { watchManifest, type ManifestWatcher } from './reconciler/watch.ts';

export const VERSION: string = (
  JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { version: string }
).version;

export interface GatewayOptions {
  readonly configFile: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log?: Logger;
  /** Overrides the manifest's listen.port (tests use 0 for an ephemeral port). */
  readonly port?: number;
  readonly sse?: Partial<SseOptions>;
  readonly bodyLimit?: number;
  readonly watchDebounceMs?: number;
  /** Bounds on answers clients do not read (tests use small ones). */
  readonly socketGuard?: Partial<SocketGuardOptions>;
}

export interface Gateway {
  readonly url: string;
  readonly server: Server;
  readonly reconciler: Reconciler;
  readonly sessions: SessionRegistry;
  /** The 2026 stateless path's parked calls, listen streams and per-principal children. */
  readonly stateless: StatelessRegistry;
  readonly watcher: ManifestWatcher;
  /** The route table the listener serves (and authorizes) by. */
  readonly routes: RouteTable<Serve>;
  /**
   * Stops accepting, lets requests in flight finish for up to `graceMs` (default: listen.shutdownGrace),
   * closes sessions and streams, stops every child. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

export class StartupError extends Error {}

async function readTls(tls: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  return { cert, key };
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? createLogger();
  const env = options.env ?? process.env;
  const file = path.resolve(options.configFile);
  // The metrics read live state through these; the reconciler and sessions exist before the first scrape.
  let sessionsRef: SessionRegistry | undefined;
  let statelessRef: StatelessRegistry | undefined;
  const classicStreams = new Map<string, Set<SseStream>>();
  const metrics: GatewayMetrics = new GatewayMetrics(function* (): Generator<ServerView> {
    const now = Date.now();
    for (const s of reconciler.servers.values()) {
      const st = s.status();
      yield {
        name: s.name,
        state: st.state,
        restarts: st.restarts,
        sinceSeconds: (now - Date.parse(st.since)) / 1000,
        inFlight: s.inFlight,
        sessions: sessionsRef?.countFor(s.name) ?? 0,
        sseClients: sessionsRef === undefined ? 0 : sseClients({ sessions: sessionsRef, streams: classicStreams }, s.name),
        rollouts: st.rollouts,
        rolloutFailed: st.rolloutFailure !== null,
      };
    }
  }, () => sessionsRef?.replay.used ?? 0, () => ({ parkedCalls: statelessRef?.parkedCalls ?? 0, listenStreams: statelessRef?.listenStreams ?? 0 }));
  const reconciler: Reconciler = new Reconciler(file, {
    log,
    env,
    version: VERSION,
    observerFor: (name) => metrics.observer(name),
    openStreams: (name) => (sessionsRef === undefined ? 0 : sseClients({ sessions: sessionsRef, streams: classicStreams }, name)),
  });
  reconciler.onReload((ok) => metrics.reloaded(ok));

  const first = await reconciler.reload('boot');
  if (!first.ok || first.desired === undefined) {
    await reconciler.close();
    throw new StartupError(`cannot start: ${file} does not load\n${reconciler.status.errors.join('\n')}`);
  }
  const listen = first.desired.listen;
  const sessions = new SessionRegistry(reconciler, log);
  sessionsRef = sessions;
  const stateless = new StatelessRegistry(reconciler, log, VERSION);
  statelessRef = stateless;
  sessions.onAggregateRouted = stateless.onAggregateRouted = (endpoint, server, method) => metrics.aggregateRouted(endpoint, server, method);
  const sse = { ...DEFAULT_SSE_OPTIONS, ...options.sse };
  const gate = new Gate(first.desired, log, options.bodyLimit);
  gate.onAuthentication = (method, outcome) => metrics.authenticated(method, outcome);
  const bodyLimit = (): number => gate.policy.bodyLimit;
  reconciler.onApplied((desired) => gate.update(desired));
  gate.onKeysChanged((keys) => {
    sessions.revoke(keys);
    stateless.revoke(keys);
  });

  let draining = false;
  const http = createHandler({
    reconciler,
    sessions,
    stateless,
    gate,
    log,
    env,
    version: VERSION,
    startedAt: Date.now(),
    sse,
    bodyLimit,
    metrics,
    classicStreams,
    isReady: () => reconciler.status.appliedHash !== null && !draining,
    isDraining: () => draining,
  });
  const server = listen.tls === undefined ? createServer(http.handle) : createHttpsServer(await readTls(listen.tls), http.handle);
  if (listen.tls !== undefined) {
    // Certificates are files: a reload reads them again (a renewed certificate applies without a restart).
    reconciler.onApplied((desired) => {
      if (desired.listen.tls === undefined) return;
      readTls(desired.listen.tls).then(
        (ctx) => (server as HttpsServer).setSecureContext(ctx),
        (err: Error) => log.error({ err: err.message }, 'TLS files could not be read again; the previous certificate stays'),
      );
    });
  }
  // CONNECT asks for a tunnel (authority-form target): no route takes one, and Node would drop the
  // connection without a word.
  server.on('connect', (_req, socket: Duplex) => {
    // Node hands this socket over without its own error listener: a reset must not become a crash.
    socket.on('error', () => socket.destroy());
    const body = JSON.stringify({ error: { kind: 'BadRequest', message: 'Bad Request: the gateway is not a proxy' } });
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  const guard = guardSockets(server, { ...DEFAULT_SOCKET_GUARD, ...options.socketGuard }, (reason) => {
    metrics.socketDropped(reason);
    log.warn({ reason }, 'closed a connection whose client does not read its answers');
  });
  const port = options.port ?? listen.port;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, listen.host, () => resolve());
    });
  } catch (err) {
    guard.close();
    await reconciler.close();
    // Node's message quotes the address too: both are told without a value that came from ${VAR}.
    const message = `cannot listen on ${shownValue(first.desired, 'listen.host', listen.host)}:${port}: ${(err as Error).message}`;
    throw new StartupError(withoutEnvValues(message, first.desired, env));
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${listen.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`;
  // pid: the process that serves (bin/ may have relaunched node with the heap flags); heapLimitMb shows it got them.
  const heapLimitMb = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  log.info({ url, file, servers: first.desired.servers.size, pid: process.pid, heapLimitMb }, 'listening');

  const watcher = watchManifest(
    file,
    () => void reconciler.reload('file'),
    (err) => log.error({ err, file }, 'manifest watch failed'),
    options.watchDebounceMs === undefined ? {} : { debounceMs: options.watchDebounceMs },
  );
  await watcher.ready;

  const inFlight = (): number => {
    let n = 0;
    for (const s of reconciler.servers.values()) n += s.inFlight;
    return n;
  };
  let closing: Promise<void> | undefined;
  const close = (graceMs = reconciler.desired?.listen.shutdownGraceMs ?? 0): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      await watcher.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      stateless.endParked('the gateway is shutting down');
      // Requests in flight may finish, up to the grace period; then the children stop and answer the rest.
      const deadline = Date.now() + graceMs;
      while (inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      if (inFlight() > 0) log.warn({ inFlight: inFlight(), graceMs }, 'shutdown grace over: stopping children with requests in flight');
      await sessions.close();
      await stateless.close();
      // Stopping the children answers every request in flight (with an error) before the sockets go.
      await reconciler.close();
      guard.close();
      server.closeAllConnections(); // SSE streams would hold close() open forever
      await closed;
    })();
    return closing;
  };
  return { url, server, reconciler, sessions, stateless, watcher, routes: http.routes, close };
}

