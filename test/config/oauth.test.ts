import { describe, it, expect } from 'vitest';
import { desiredOf, errorsOf, lines } from './parse-helpers.ts';


const SERVERS = ['servers:', '  demo: { command: node }', '  build: { command: node }'];

describe('auth.oauth and listen.publicUrl: resolved', () => {
  it('applies the defaults, keeps keys working, freezes everything', () => {
    const d = desiredOf(
      lines(
        'version: 1',
        'listen: { host: 0.0.0.0, publicUrl: "https://GW.Example.com:443/base/" }',
        'auth:',
        '  keys: [ { name: ops, sha256: "' + 'a'.repeat(64) + '", servers: "*" } ]',
        '  oauth:',
        '    issuers:',
        '      - issuer: https://idp.example.com/realms/mcp',
        '    grants:',
        '      - { claim: scope, value: "mcp:demo", servers: [demo] }',
        '      - { claim: groups, value: mcp-admins, servers: "*", admin: true }',
        ...SERVERS,
      ),
    );
    expect(d.listen.publicUrl).toBe('https://gw.example.com/base');
    expect(d.auth.keys.map((k) => k.name)).toEqual(['ops']);
    expect(d.auth.oauth).toEqual({
      issuers: [{ issuer: 'https://idp.example.com/realms/mcp', audiences: [], algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'], clockSkewMs: 30_000 }],
      grants: [
        { claim: 'scope', value: 'mcp:demo', servers: ['demo'], admin: false },
        { claim: 'groups', value: 'mcp-admins', servers: '*', admin: true },
      ],
      rateLimit: { rps: 50, burst: 100 },
    });
    const oauth = d.auth.oauth!;
    expect(Object.isFrozen(oauth) && Object.isFrozen(oauth.issuers[0]) && Object.isFrozen(oauth.grants[0]!.servers)).toBe(true);
  });

  it('takes every issuer field, and rateLimit from auth when oauth has none', () => {
    const d = desiredOf(
      lines(
        'version: 1',
        'auth:',
        '  rateLimit: { rps: 5 }',
        '  oauth:',
        '    issuers:',
        '      - issuer: http://127.0.0.1:9000/',
        '        jwksUri: http://localhost:9000/jwks',
        '        audiences: [api://mcp]',
        '        algorithms: [ES256]',
        '        clockSkew: 5s',
        '        tokenType: at+jwt',
        ...SERVERS,
      ),
    );
    // Loopback without publicUrl: allowed, the URL is known at run time.
    expect(d.listen.publicUrl).toBeUndefined();
    expect(d.auth.oauth).toEqual({
      issuers: [{ issuer: 'http://127.0.0.1:9000/', jwksUri: 'http://localhost:9000/jwks', audiences: ['api://mcp'], algorithms: ['ES256'], clockSkewMs: 5000, tokenType: 'at+jwt' }],
      grants: [],
      rateLimit: { rps: 5, burst: 10 },
    });
  });

  it('leaves auth.oauth out when not configured', () => {
    const d = desiredOf(lines('version: 1', ...SERVERS));
    expect(d.auth.oauth).toBeUndefined();
    expect('oauth' in d.auth).toBe(false);
  });

  it('lets a non-loopback gateway authenticate with oauth alone', () => {
    const d = desiredOf(
      lines('version: 1', 'listen: { host: 0.0.0.0, publicUrl: https://gw.example.com }', 'auth:', '  oauth: { issuers: [ { issuer: https://idp.example.com } ] }', ...SERVERS),
    );
    expect(d.auth.keys).toEqual([]);
  });
});

describe('auth.oauth and listen.publicUrl: problems at file:line:col', () => {
  it('refuses alg none and HS*, and an empty issuer list', () => {
    expect(
      errorsOf(lines('version: 1', 'auth:', '  oauth:', '    issuers:', '      - issuer: https://idp.example.com', '        algorithms: [none, HS256, RS256]', ...SERVERS)),
    ).toEqual([
      '6:22: auth.oauth.issuers[0].algorithms[0]: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519',
      '6:28: auth.oauth.issuers[0].algorithms[1]: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519',
    ]);
    expect(errorsOf(lines('version: 1', 'auth: { oauth: { issuers: [] } }', ...SERVERS))).toEqual(['2:27: auth.oauth.issuers: must list at least 1']);
  });

  it('names a grant of an unknown server, and a scope value that is not one scope', () => {
    expect(
      errorsOf(
        lines(
          'version: 1',
          'auth:',
          '  oauth:',
          '    issuers: [ { issuer: https://idp.example.com } ]',
          '    grants:',
          '      - { claim: scope, value: "mcp:demo mcp:build", servers: [demo, nope] }',
          '      - { claim: sub, value: "svc ci", servers: [constructor] }',
          ...SERVERS,
        ),
      ),
    ).toEqual([
      '6:32: auth.oauth.grants[0].value: a scope is one word of printable ASCII without " or \\; a rule names one scope',
      '6:70: auth.oauth.grants[0].servers[1]: no server of that name in servers; fix the name or remove it',
      '7:50: auth.oauth.grants[1].servers[0]: no server of that name in servers; fix the name or remove it',
    ]);
  });

  it('refuses a claim with spaces', () => {
    expect(
      errorsOf(lines('version: 1', 'auth:', '  oauth:', '    issuers: [ { issuer: https://idp.example.com } ]', '    grants: [ { claim: "realm access", value: x, servers: [] } ]', ...SERVERS)),
    ).toEqual(['5:24: auth.oauth.grants[0].claim: must not hold spaces; a claim is one name, or a dotted path such as realm_access.roles']);
  });

  it('refuses oauth without publicUrl on a non-loopback host, and with auth.none', () => {
    expect(
      errorsOf(lines('version: 1', 'listen: { host: 0.0.0.0 }', 'auth:', '  none: true', '  oauth: { issuers: [ { issuer: https://idp.example.com } ] }', ...SERVERS)),
    ).toEqual([
      '4:9: auth.none: true says nothing authenticates here, but auth.oauth is set; remove one of them',
      '5:10: auth.oauth: needs listen.publicUrl (the base URL clients use, e.g. https://gw.example.com): tokens are bound to URLs made from it, and behind a proxy or a DNS name the gateway cannot know it',
    ]);
  });

  it('checks URLs without quoting them: https unless loopback, no query, fragment or user', () => {
    const env = { PUBLIC: 'http://SECRET-MARKER.example.com/x' };
    const errors = errorsOf(
      lines(
        'version: 1',
        'listen: { publicUrl: "${PUBLIC}" }',
        'auth:',
        '  oauth:',
        '    issuers:',
        '      - { issuer: "https://idp.example.com?x=1", jwksUri: "https://u:p@idp.example.com/jwks" }',
        '      - { issuer: "not a url" }',
        '      - { issuer: "https://idp.example.com#f" }',
        '      - { issuer: "https://idp.example.com?x=1" }',
        ...SERVERS,
      ),
      env,
    );
    expect(errors).toEqual([
      '2:22: listen.publicUrl: http is allowed for a loopback host only (localhost, 127.0.0.1, [::1]); use https',
      '6:19: auth.oauth.issuers[0].issuer: must not have a query (?…)',
      '6:59: auth.oauth.issuers[0].jwksUri: must not hold a user name or password',
      '7:19: auth.oauth.issuers[1].issuer: not a URL; write it in full, starting with https://',
      '8:19: auth.oauth.issuers[2].issuer: must not have a fragment (#…)',
      '9:19: auth.oauth.issuers[3].issuer: another issuer is the same; list each issuer once',
      '9:19: auth.oauth.issuers[3].issuer: must not have a query (?…)',
    ]);
    expect(errors.join('\n')).not.toContain('SECRET-MARKER');
    expect(errors.join('\n')).not.toContain('idp.example.com');
  });

  it('accepts http for loopback publicUrl and issuers, and drops an empty query', () => {
    expect(errorsOf(lines('version: 1', 'listen: { publicUrl: "https://gw.example.com/?" }', ...SERVERS))).toEqual(['2:22: listen.publicUrl: must not have a query (?…)']);
    const d = desiredOf(lines('version: 1', 'listen: { publicUrl: "http://[::1]:3001/" }', 'auth: { oauth: { issuers: [ { issuer: "http://localhost:9000" } ] } }', ...SERVERS));
    expect(d.listen.publicUrl).toBe('http://[::1]:3001');
  });
});

describe('callerEnv', () => {
  it('is for per-session servers only', () => {
    const messages = errorsOf('version: 1\nservers:\n  a: { command: node, callerEnv: MCP_CALLER }\n  b: { command: node, sharing: per-session, callerEnv: MCP_CALLER }\n');
    expect(messages).toEqual([expect.stringMatching(/^3:\d+: servers\.a\.callerEnv: only for sharing: per-session/)]);
  });
});
