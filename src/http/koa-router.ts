// Koa routers that match paths exactly: case-sensitive and without a tolerated trailing slash. The gate
// decides what a request needs from its exact path; a router that also served /METRICS or /metrics/
// would let a request past the gate under one name and answer it under another.
import Router from '@koa/router';

export function exactRouter(prefix?: string): Router {
  return new Router({ strict: true, sensitive: true, ...(prefix === undefined ? {} : { prefix }) });
}
