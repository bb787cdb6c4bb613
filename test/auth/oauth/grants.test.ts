import { describe, expect, it } from 'vitest';
import { claimAt, grantsFor, scopesSupported } from '../../../src/auth/oauth/grants.ts';
import type { GrantRule } from '../../../src/config/types.ts';

const rule = (claim: string, value: string, servers: GrantRule['servers'], admin = false): GrantRule => ({ claim, value, servers, admin });

const RULES: readonly GrantRule[] = [
  rule('scope', 'mcp:demo', ['demo']),
  rule('scope', 'mcp:build', ['build', 'demo']),
  rule('groups', 'mcp-admins', '*', true),
  rule('sub', 'svc-ci', ['build']),
  rule('realm_access.roles', 'mcp-reader', ['docs']),
  rule('https://example.com/roles', 'ops', ['ops']),
];

describe('grantsFor', () => {
  it('matches scope by whole word in a space-separated string (RFC 9068)', () => {
    expect(grantsFor({ scope: 'openid mcp:demo profile' }, RULES)).toEqual({ servers: ['demo'], admin: false });
    expect(grantsFor({ scope: 'mcp:demo' }, RULES)).toEqual({ servers: ['demo'], admin: false });
  });

  it('never matches part of a word', () => {
    expect(grantsFor({ scope: 'mcp:demo2 xmcp:demo mcp:dem' }, RULES)).toBeUndefined();
    expect(grantsFor({ scope: 'mcp:demo\tmcp:build' }, RULES)).toBeUndefined();
    expect(grantsFor({ groups: 'mcp-admins-2' }, RULES)).toBeUndefined();
    // Only scope claims are split into words: a group named with a space is one value.
    expect(grantsFor({ groups: 'x mcp-admins' }, RULES)).toBeUndefined();
  });

  it('matches a list claim that holds the value, and a scope given as a list (Okta scp)', () => {
    expect(grantsFor({ groups: ['users', 'mcp-admins'] }, RULES)).toEqual({ servers: '*', admin: true });
    expect(grantsFor({ scp: ['mcp:x'] }, [rule('scp', 'mcp:x', ['x'])])).toEqual({ servers: ['x'], admin: false });
    expect(grantsFor({ scp: 'a mcp:x' }, [rule('scp', 'mcp:x', ['x'])])).toEqual({ servers: ['x'], admin: false });
    expect(grantsFor({ scope: ['mcp:demo'] }, RULES)).toEqual({ servers: ['demo'], admin: false });
  });

  it('unites every matching rule: servers once each, in rule order; admin if any says so', () => {
    expect(grantsFor({ scope: 'mcp:build mcp:demo', sub: 'svc-ci' }, RULES)).toEqual({ servers: ['demo', 'build'], admin: false });
    expect(grantsFor({ scope: 'mcp:demo', groups: ['mcp-admins'] }, RULES)).toEqual({ servers: '*', admin: true });
  });

  it('follows dotted paths into nested claims (Keycloak realm_access.roles)', () => {
    expect(grantsFor({ realm_access: { roles: ['offline_access', 'mcp-reader'] } }, RULES)).toEqual({ servers: ['docs'], admin: false });
    expect(grantsFor({ realm_access: ['mcp-reader'] }, RULES)).toBeUndefined();
    expect(grantsFor({ 'realm_access.roles': ['mcp-reader'] }, RULES)).toEqual({ servers: ['docs'], admin: false });
  });

  it('takes a claim whose name holds dots as written (Auth0 namespaced claims)', () => {
    expect(grantsFor({ 'https://example.com/roles': ['ops'] }, RULES)).toEqual({ servers: ['ops'], admin: false });
  });

  it('compares exactly: case, type', () => {
    expect(grantsFor({ sub: 'SVC-CI' }, RULES)).toBeUndefined();
    expect(grantsFor({ n: 1, b: true }, [rule('n', '1', ['a']), rule('b', 'true', ['a'])])).toBeUndefined();
    expect(grantsFor({ groups: [['mcp-admins']] }, RULES)).toBeUndefined();
  });

  it('returns undefined when no rule matches, a frozen grant when one does (even one granting nothing)', () => {
    expect(grantsFor({}, RULES)).toBeUndefined();
    expect(grantsFor({ sub: 'x' }, [])).toBeUndefined();
    const g = grantsFor({ sub: 'svc-ci' }, [rule('sub', 'svc-ci', [])]);
    expect(g).toEqual({ servers: [], admin: false });
    expect(Object.isFrozen(g) && Object.isFrozen(g?.servers)).toBe(true);
  });
});

describe('claimAt', () => {
  it('never reaches into a prototype', () => {
    expect(claimAt({}, 'constructor')).toBeUndefined();
    expect(claimAt({ a: {} }, 'a.constructor.name')).toBeUndefined();
    expect(claimAt({ a: {} }, '__proto__')).toBeUndefined();
    expect(grantsFor({}, [rule('constructor.name', 'Object', '*', true)])).toBeUndefined();
  });

  it('walks objects only, not arrays or strings', () => {
    expect(claimAt({ a: ['x'] }, 'a.0')).toBeUndefined();
    expect(claimAt({ a: 'xy' }, 'a.length')).toBeUndefined();
    expect(claimAt({ a: { b: { c: 'v' } } }, 'a.b.c')).toBe('v');
  });
});

describe('scopesSupported', () => {
  it('lists the values of scope rules, once each, in order', () => {
    expect(scopesSupported([...RULES, rule('scope', 'mcp:demo', ['x']), rule('scp', 'mcp:y', ['y'])])).toEqual(['mcp:demo', 'mcp:build', 'mcp:y']);
    expect(scopesSupported([rule('groups', 'g', '*')])).toEqual([]);
  });

  it('for one server, only the scopes of rules granting it', () => {
    const rules = [...RULES, rule('scope', 'mcp:all', '*')];
    expect(scopesSupported(rules, 'demo')).toEqual(['mcp:demo', 'mcp:build', 'mcp:all']);
    expect(scopesSupported(rules, 'build')).toEqual(['mcp:build', 'mcp:all']);
    expect(scopesSupported(rules, 'docs')).toEqual(['mcp:all']);
  });
});
