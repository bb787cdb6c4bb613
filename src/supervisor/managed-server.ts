// The two kinds of server the reconciler runs, behind one name: a shared child (Supervisor) or a child
// per session (PerSessionServer). Both offer the same status, start/stop/restart, update and close.
import type { ServerSpec } from '../config/types.ts';
import { PerSessionServer } from './per-session-server.ts';
import { Supervisor, type SupervisorDeps } from './supervisor.ts';
import { Router } from '../router/router.ts';

export type ManagedServer = Supervisor | PerSessionServer;

export function createManagedServer(spec: ServerSpec, deps: SupervisorDeps): ManagedServer {
  if (spec.sharing === 'per-session') return new PerSessionServer(spec, deps);
  const router = new Router({
    server: spec.name,
    log: deps.log,
    requestTimeoutMs: spec.requestTimeoutMs,
    requestTimeoutMaxMs: spec.requestTimeoutMaxMs,
    maxInFlight: spec.maxInFlight,
    queueTimeoutMs: spec.queueTimeoutMs,
    offered: spec.clientCapabilities,
    ...(deps.observe === undefined ? {} : { observe: deps.observe }),
  });
  return new Supervisor(spec, router, deps);
}
