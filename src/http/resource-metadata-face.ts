// RFC 9728 Protected Resource Metadata: for each MCP endpoint the gateway serves (per server, `/mcp`, each
// bundle) and for the gateway as a whole, where an MCP client that got a 401 finds the authorization
// servers to ask for a token. Public (no key or token: a client has none yet), and only with auth.oauth.
import type { Context } from 'koa';
import { scopesSupported } from '../auth/oauth/grants.ts';
import { AGGREGATE_RESOURCE, canonicalResource, GATEWAY_RESOURCE, protectedResourceMetadata } from '../auth/oauth/resource-metadata.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import { METADATA_PATH } from '../auth/oauth/resource-metadata.ts';
import type { IncomingMessage } from 'node:http';
import type { TokenAuth } from '../auth/oauth/token-auth.ts';
import type { RequestContext, Serve } from './request-context.ts';
import { Needs, type Route } from './route-table.ts';

export interface ResourceMetadataDeps {
  /** The token side of the gate's policy now (undefined without auth.oauth). */
  readonly tokens: () => TokenAuth | undefined;
  /** The gateway's public URL as a client of this request reaches it. */
  readonly publicUrl: (req: IncomingMessage) => string;
  readonly reconciler: Reconciler;
}

export function resourceMetadataRoutes(deps: ResourceMetadataDeps): Route<Serve>[] {
  const serve = (resourcePath: (rc: RequestContext) => string | undefined, server: (rc: RequestContext) => string | undefined) =>
    (ctx: Context, rc: RequestContext): void => {
      const tokens = deps.tokens();
      const path = resourcePath(rc);
      if (tokens === undefined || path === undefined) {
        ctx.status = 404;
        ctx.body = { error: { kind: 'NotFound', message: tokens === undefined ? 'this gateway takes no bearer tokens (no auth.oauth)' : 'no such resource' } };
        return;
      }
      // Clients may cache it; a reload that changes issuers or grants shows within the hour.
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = protectedResourceMetadata({
        resource: canonicalResource(deps.publicUrl(ctx.req), path),
        issuers: tokens.spec.issuers.map((i) => i.issuer),
        scopes: scopesSupported(tokens.spec.grants, server(rc)),
      });
    };
  const known = (name: string | undefined): boolean => name !== undefined && deps.reconciler.servers.has(name);
  const bundle = (rc: RequestContext): string | undefined => {
    const name = rc.params.endpoint?.slice(1) ?? '';
    return deps.reconciler.desired?.endpoints.has(name) === true ? `/mcp/@${name}` : undefined;
  };
  const routes: [string, (rc: RequestContext) => string | undefined, (rc: RequestContext) => string | undefined][] = [
    [METADATA_PATH, () => GATEWAY_RESOURCE, () => undefined],
    [`${METADATA_PATH}/mcp`, () => AGGREGATE_RESOURCE, () => undefined],
    [`${METADATA_PATH}/mcp/:server/mcp`, (rc) => (known(rc.params.server) ? `/mcp/${rc.params.server}/mcp` : undefined), (rc) => rc.params.server],
    [`${METADATA_PATH}/mcp/:endpoint`, bundle, () => undefined],
  ];
  return routes.map(([pattern, path, server]) => ({
    method: 'GET',
    pattern,
    need: Needs.public,
    ...(pattern.endsWith(':endpoint') ? { paramPatterns: { endpoint: /^@/ } } : {}),
    serve: { koa: serve(path, server) },
  }));
}
