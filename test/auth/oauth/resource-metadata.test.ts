import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  basePathOf,
  bearerChallenge,
  canonicalResource,
  errorDescription,
  metadataPathFor,
  metadataUrlFor,
  protectedResourceMetadata,
  publicUrlOf,
  resourcePathFor,
  resourcePathFromMetadataPath,
  resourcePathFromMetadataSegments,
  resourcePathOf,
} from '../../../src/auth/oauth/resource-metadata.ts';

const SEED = { seed: 42, numRuns: 500 };

/** Server and bundle names, as the manifest schema allows them. */
const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/);
/** Every resource path the gateway has. */
const resourcePath = fc.oneof(
  fc.constantFrom('', '/mcp'),
  name.map((n) => `/mcp/${n}/mcp`),
  name.map((n) => `/mcp/@${n}`),
);
/** publicUrl's path: '' or segments (which may look like the gateway's own: /mcp, /.well-known). */
const basePath = fc
  .array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,11}$/), fc.constantFrom('mcp', '.well-known', 'oauth-protected-resource', '@x')), { maxLength: 3 })
  .map((s) => (s.length === 0 ? '' : `/${s.join('/')}`));

describe('canonicalResource', () => {
  it('lower-cases scheme and host, drops the default port, the trailing slash, query and fragment', () => {
    expect(canonicalResource('https://GW.example.com:443/base/', '/mcp/demo/mcp')).toBe('https://gw.example.com/base/mcp/demo/mcp');
    expect(canonicalResource('HTTPS://gw.example.com', '')).toBe('https://gw.example.com');
    expect(canonicalResource('https://gw.example.com/', '/mcp')).toBe('https://gw.example.com/mcp');
    expect(canonicalResource('http://127.0.0.1:80//', '/mcp/@b')).toBe('http://127.0.0.1/mcp/@b');
    expect(canonicalResource('http://[::1]:3001/x#frag', '/mcp/a/mcp/')).toBe('http://[::1]:3001/x/mcp/a/mcp');
    expect(canonicalResource('https://gw.example.com:8443/Base', '/mcp')).toBe('https://gw.example.com:8443/Base/mcp');
  });

  it('refuses a resource path that is not one', () => {
    expect(() => canonicalResource('https://gw.example.com', 'mcp')).toThrow(/internal/);
  });
});

describe('publicUrlOf', () => {
  it('is listen.publicUrl when set, else the loopback address bound', () => {
    expect(publicUrlOf({ host: '0.0.0.0', publicUrl: 'https://gw.example.com' }, 3001)).toBe('https://gw.example.com');
    expect(publicUrlOf({ host: '127.0.0.1' }, 4000)).toBe('http://127.0.0.1:4000');
    expect(publicUrlOf({ host: '::1', tls: { certFile: 'c', keyFile: 'k' } }, 443)).toBe('https://[::1]');
    expect(publicUrlOf({ host: 'LocalHost' }, 80)).toBe('http://localhost');
  });
});

describe('resourcePathFor', () => {
  it('maps every face of a server to its Streamable HTTP URL', () => {
    for (const tail of ['mcp', 'sse', 'legacy/sse', 'legacy/message', 'command', 'stderr', 'start', 'stop', 'restart']) {
      expect(resourcePathFor(`/mcp/demo/${tail}`), tail).toBe('/mcp/demo/mcp');
    }
    expect(resourcePathFor('/mcp/demo/mcp?x=1')).toBe('/mcp/demo/mcp');
    expect(resourcePathFor('/mcp/%64emo/sse')).toBe('/mcp/demo/mcp');
  });

  it('maps the aggregate and bundles over both transports', () => {
    for (const p of ['/mcp', '/sse', '/message']) expect(resourcePathFor(p), p).toBe('/mcp');
    for (const p of ['/mcp/@team', '/sse/@team', '/message/@team', '/mcp/%40team']) expect(resourcePathFor(p), p).toBe('/mcp/@team');
  });

  it('maps everything else to the gateway as a whole', () => {
    for (const p of ['/', '/mcp/servers', '/admin/reload', '/metrics', '/status/events', '/healthz', '/.well-known/oauth-protected-resource']) {
      expect(resourcePathFor(p), p).toBe('');
    }
  });

  it('names no resource for a path under /mcp, /sse or /message that no route has', () => {
    for (const p of ['/mcp/demo', '/mcp/@bad name', '/mcp/@', '/mcp/@b/mcp', '/sse/demo', '/message/x/y', '/mcp/-x/mcp', '/mcp/a%2Fb/mcp', '/mcp/%zz/mcp', 'mcp']) {
      expect(resourcePathFor(p), p).toBeUndefined();
    }
  });

  it('agrees with resourcePathOf on decoded segments', () => {
    expect(resourcePathOf(['mcp', 'a', 'legacy', 'sse'])).toBe('/mcp/a/mcp');
    expect(resourcePathOf([])).toBe('');
  });
});

describe('metadataPathFor and its inverse', () => {
  it('inserts the well-known path before the resource path (RFC 9728 §3.1)', () => {
    expect(metadataPathFor('/mcp/demo/mcp')).toBe('/.well-known/oauth-protected-resource/mcp/demo/mcp');
    expect(metadataPathFor('')).toBe('/.well-known/oauth-protected-resource');
    expect(metadataPathFor('/mcp/demo/mcp', '/base')).toBe('/.well-known/oauth-protected-resource/base/mcp/demo/mcp');
    expect(metadataUrlFor('https://Example.com/base/', '/mcp/demo/mcp')).toBe('https://example.com/.well-known/oauth-protected-resource/base/mcp/demo/mcp');
    expect(metadataUrlFor('https://gw.example.com', '')).toBe('https://gw.example.com/.well-known/oauth-protected-resource');
    expect(basePathOf('https://example.com/base/')).toBe('/base');
  });

  it('reads back only a resource the gateway has, under the base path', () => {
    expect(resourcePathFromMetadataPath('/.well-known/oauth-protected-resource')).toBe('');
    expect(resourcePathFromMetadataPath('/.well-known/oauth-protected-resource/mcp/demo/mcp')).toBe('/mcp/demo/mcp');
    expect(resourcePathFromMetadataPath('/.well-known/oauth-protected-resource/mcp/%40b')).toBe('/mcp/@b');
    expect(resourcePathFromMetadataPath('/.well-known/oauth-protected-resource/base/mcp', '/base')).toBe('/mcp');
    for (const p of [
      '/.well-known/oauth-protected-resource/mcp/demo/sse',
      '/.well-known/oauth-protected-resource/sse',
      '/.well-known/oauth-protected-resource/mcp/servers',
      '/.well-known/oauth-protected-resource/admin/reload',
      '/.well-known/oauth-protected-resourcex',
      '/.well-known/oauth-protected-resource/',
      '/.well-known/openid-configuration',
      '/mcp/demo/mcp',
    ]) {
      expect(resourcePathFromMetadataPath(p), p).toBeUndefined();
    }
    expect(resourcePathFromMetadataPath('/.well-known/oauth-protected-resource/mcp', '/base')).toBeUndefined();
    expect(resourcePathFromMetadataPath('/.well-known/oauth-protected-resource/based/mcp', '/base')).toBeUndefined();
  });

  it('round-trips every resource path under any base path (fast-check)', () => {
    fc.assert(
      fc.property(resourcePath, basePath, (p, base) => {
        expect(resourcePathFromMetadataPath(metadataPathFor(p, base), base)).toBe(p);
        const segments = metadataPathFor(p, base).slice(1).split('/');
        expect(resourcePathFromMetadataSegments(segments, base === '' ? [] : base.slice(1).split('/'))).toBe(p);
      }),
      SEED,
    );
  });

  it('puts the metadata URL where RFC 9728 §3.1 derives it from the resource URL (fast-check)', () => {
    const host = fc.constantFrom('gw.example.com', 'GW.Example.COM:443', '127.0.0.1:3001', '[::1]:8443');
    fc.assert(
      fc.property(host, basePath, resourcePath, fc.boolean(), (h, base, p, slash) => {
        const publicUrl = `https://${h}${base}${slash ? '/' : ''}`;
        const resource = new URL(canonicalResource(publicUrl, p));
        const path = resource.pathname === '/' ? '' : resource.pathname;
        expect(metadataUrlFor(publicUrl, p)).toBe(`${resource.origin}/.well-known/oauth-protected-resource${path}`);
        expect(resourcePathFromMetadataPath(new URL(metadataUrlFor(publicUrl, p)).pathname, basePathOf(publicUrl))).toBe(p);
      }),
      SEED,
    );
  });
});

describe('protectedResourceMetadata', () => {
  it('lists the resource, its issuers and scopes, header bearer tokens only', () => {
    expect(
      protectedResourceMetadata({
        resource: 'https://gw.example.com/mcp/demo/mcp',
        issuers: ['https://idp.example.com/realms/mcp', 'https://other.example.com/', 'https://idp.example.com/realms/mcp'],
        scopes: ['mcp:demo', 'mcp:all', 'mcp:demo'],
        name: 'demo',
      }),
    ).toEqual({
      resource: 'https://gw.example.com/mcp/demo/mcp',
      authorization_servers: ['https://idp.example.com/realms/mcp', 'https://other.example.com/'],
      scopes_supported: ['mcp:demo', 'mcp:all'],
      bearer_methods_supported: ['header'],
      resource_name: 'demo',
    });
  });

  it('leaves scopes_supported and resource_name out when there are none', () => {
    expect(protectedResourceMetadata({ resource: 'https://gw.example.com', issuers: ['https://idp.example.com'], scopes: [] })).toEqual({
      resource: 'https://gw.example.com',
      authorization_servers: ['https://idp.example.com'],
      bearer_methods_supported: ['header'],
    });
  });
});

/**
 * A strict parser of one challenge (RFC 9110 §11.3 / §5.6.4): scheme, then auth-params `name=token` or
 * `name="quoted-string"` separated by `,`; throws on anything else, on a repeated name and on leftovers.
 */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
  let i = 0;
  const token = (): string => {
    const start = i;
    while (i < header.length && TCHAR.test(header[i]!)) i++;
    if (i === start) throw new Error(`token expected at ${i}`);
    return header.slice(start, i);
  };
  const ows = (): void => {
    while (header[i] === ' ' || header[i] === '\t') i++;
  };
  const scheme = token();
  if (header[i] !== ' ') throw new Error('space after the scheme expected');
  i++;
  const params: Record<string, string> = {};
  for (;;) {
    ows();
    const name = token().toLowerCase();
    if (header[i] !== '=') throw new Error(`= expected at ${i}`);
    i++;
    let value = '';
    if (header[i] === '"') {
      i++;
      for (;;) {
        const c = header[i];
        if (c === undefined) throw new Error('unterminated quoted-string');
        if (c === '"') break;
        if (c === '\\') {
          const next = header[i + 1];
          if (next === undefined || !/[\t\x20-\x7E]/.test(next)) throw new Error('bad quoted-pair');
          value += next;
          i += 2;
          continue;
        }
        if (!/[\t\x20\x21\x23-\x5B\x5D-\x7E]/.test(c)) throw new Error(`bad qdtext at ${i}`);
        value += c;
        i++;
      }
      i++;
    } else value = token();
    if (Object.hasOwn(params, name)) throw new Error(`repeated parameter ${name}`);
    params[name] = value;
    ows();
    if (i === header.length) break;
    if (header[i] !== ',') throw new Error(`, expected at ${i}`);
    i++;
  }
  return { scheme, params };
}

describe('bearerChallenge', () => {
  const RM = 'https://gw.example.com/.well-known/oauth-protected-resource/mcp/demo/mcp';

  it('points at the metadata, with the scopes, and no error without a token', () => {
    expect(bearerChallenge({ resourceMetadata: RM, scope: 'mcp:demo mcp:all' })).toBe(`Bearer scope="mcp:demo mcp:all", resource_metadata="${RM}"`);
    expect(bearerChallenge({ resourceMetadata: RM })).toBe(`Bearer resource_metadata="${RM}"`);
    // A description without an error is error information too (RFC 6750 §3.1): left out.
    expect(bearerChallenge({ resourceMetadata: RM, description: 'no token' })).toBe(`Bearer resource_metadata="${RM}"`);
  });

  it('says insufficient_scope and invalid_token as the MCP spec shows them', () => {
    expect(bearerChallenge({ resourceMetadata: RM, error: 'insufficient_scope', scope: 'mcp:demo', description: 'this token does not grant server demo' })).toBe(
      `Bearer error="insufficient_scope", scope="mcp:demo", resource_metadata="${RM}", error_description="this token does not grant server demo"`,
    );
    expect(bearerChallenge({ resourceMetadata: RM, error: 'invalid_token', description: 'expired', realm: 'mcp-gateway' })).toBe(
      `Bearer realm="mcp-gateway", error="invalid_token", resource_metadata="${RM}", error_description="expired"`,
    );
  });

  it('drops scope words that are not scope-tokens, and an empty scope', () => {
    expect(parseChallenge(bearerChallenge({ resourceMetadata: RM, scope: 'a "b" c\\d  é e' })).params.scope).toBe('a e');
    expect(bearerChallenge({ resourceMetadata: RM, scope: ' ' })).toBe(`Bearer resource_metadata="${RM}"`);
  });

  it('never carries a token in the description or realm', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const h = bearerChallenge({ resourceMetadata: RM, error: 'invalid_token', description: `bad token ${jwt}!`, realm: `r ${jwt}` });
    expect(h).not.toContain(jwt.split('.')[1]);
    expect(parseChallenge(h).params.error_description).toBe('bad token [token]!');
    expect(parseChallenge(h).params.realm).toBe('r [token]');
  });

  it('keeps descriptions to RFC 6750 characters, and short', () => {
    expect(errorDescription('say "hi"\\ \r\nX-Injected: 1 ü')).toBe("say 'hi'/ ??X-Injected: 1 ?");
    expect(errorDescription('x'.repeat(500))).toHaveLength(200);
  });

  it('parses back for any description and realm: one header, every value intact or as documented (fast-check)', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary-ascii' }), fc.constantFrom('"', '\\', '\\"', '", error="x', '\r\nSet-Cookie: a=b'));
    const error = fc.constantFrom('invalid_token', 'insufficient_scope', 'invalid_request') as fc.Arbitrary<'invalid_token' | 'insufficient_scope' | 'invalid_request'>;
    fc.assert(
      fc.property(text, text, error, (description, realm, err) => {
        const header = bearerChallenge({ resourceMetadata: RM, error: err, description, realm, scope: 'mcp:demo' });
        expect(header).toMatch(/^[\t\x20-\x7E]*$/);
        const { scheme, params } = parseChallenge(header);
        expect(scheme).toBe('Bearer');
        expect(params.error).toBe(err);
        expect(params.scope).toBe('mcp:demo');
        expect(params.resource_metadata).toBe(RM);
        const shown = errorDescription(description);
        expect(params.error_description).toBe(shown === '' ? undefined : shown);
        expect(shown).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/);
        // The realm keeps its `"` and `\` (escaped on the wire); what a header cannot carry becomes `?`.
        if (!realm.includes('eyJ')) expect(params.realm).toBe(realm.replace(/[^\t\x20-\x7E]/gu, '?'));
      }),
      SEED,
    );
  });
});
