// RFC 9728 Protected Resource Metadata: for each MCP endpoint the gateway serves (per server, `/mcp`, each
// bundle) and for the gateway as a whole, where an MCP client that got a 401 finds the authorization
// servers to ask for a token. Public (no key or token: a client has none yet), and only with auth.oauth.
import type { Context } from 'koa';
import { scopesSupported } from '../auth/oauth/grants.ts';
import { basePathOf, canonicalResource, protectedResourceMetadata, resourcePathFromMetadataSegments } from '../auth/oauth/resource-metadata.ts';
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

/** Path segments after the well-known one a metadata path may have: a publicUrl's path, then `/mcp/<server>/mcp`. */
const MAX_DEPTH = 8;

export function resourceMetadataRoutes(deps: ResourceMetadataDeps): Route<Serve>[] {
  const serve = (ctx: Context, rc: RequestContext): void => {
    const tokens = deps.tokens();
    const publicUrl = deps.publicUrl(ctx.req);
    const segments = ['.well-known', 'oauth-protected-resource', ...Array.from({ length: MAX_DEPTH }, (_, i) => rc.params[`p${i}`]).filter((s): s is string => s !== undefined)];
    const base = basePathOf(publicUrl).split('/').filter((s) => s !== '');
    const path = resourcePathFromMetadataSegments(segments, base);
    // Any well-formed name gets its document: to a caller without credentials, metadata must not tell which
    // servers exist (the MCP routes answer 401 for every name alike).
    const server = path?.startsWith('/mcp/') === true && !path.startsWith('/mcp/@') ? path.split('/')[2] : undefined;
    if (tokens === undefined || path === undefined) {
      ctx.status = 404;
      ctx.body = { error: { kind: 'NotFound', message: tokens === undefined ? 'this gateway takes no bearer tokens (no auth.oauth)' : 'no such resource' } };
      return;
    }
    // Clients may cache it; a reload that changes issuers or grants shows within the hour.
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = protectedResourceMetadata({
      resource: canonicalResource(publicUrl, path),
      issuers: tokens.spec.issuers.map((i) => i.issuer),
      scopes: scopesSupported(tokens.spec.grants, server),
    });
  };
  // One route per depth: the table matches whole paths, and a publicUrl's path may add segments.
  return Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => ({
    method: 'GET',
    pattern: METADATA_PATH + Array.from({ length: depth }, (_, i) => `/:p${i}`).join(''),
    need: Needs.public,
    serve: { koa: serve },
  }));
}
