import { describe, expect, it } from 'vitest';
import { KeyRing, mayUse, presentedKey } from '../../src/auth/keys.ts';
import { RateLimiter } from '../../src/auth/rate-limit.ts';
import { childEnvironment } from '../../src/config/child-env.ts';
import type { KeySpec } from '../../src/config/types.ts';
import { sha256Hex } from '../helpers/gateway.ts';

const key = (name: string, secret: string, over: Partial<KeySpec> = {}): KeySpec => ({ name, sha256: sha256Hex(secret), servers: '*', admin: false, rateLimit: { rps: 10, burst: 20 }, ...over });

describe('KeyRing.identify', () => {
  const ring = new KeyRing({ none: false, secretEnvNames: [], keys: [key('a', 'alpha-secret-key-1'), key('b', 'bravo-secret-key-2')] });
  it('finds the key by its hash, from Bearer or X-API-Key', () => {
    expect(ring.identify({ authorization: 'Bearer bravo-secret-key-2' })).toMatchObject({ kind: 'key', key: { name: 'b' } });
    expect(ring.identify({ 'x-api-key': 'alpha-secret-key-1' })).toMatchObject({ kind: 'key', key: { name: 'a' } });
  });
  it('tells a missing key from a wrong one', () => {
    expect(ring.identify({})).toEqual({ kind: 'missing' });
    expect(ring.identify({ authorization: 'Bearer nope' })).toEqual({ kind: 'wrong' });
    expect(ring.identify({ authorization: 'Basic abc' })).toEqual({ kind: 'missing' });
  });
  it('lets everyone in when there are no keys', () => {
    expect(new KeyRing({ none: false, secretEnvNames: [], keys: [] }).identify({})).toEqual({ kind: 'anonymous' });
  });
  it('reads the Bearer scheme case-insensitively', () => {
    expect(presentedKey({ authorization: 'bearer  xyz ' })).toBe('xyz');
  });
});

describe('mayUse', () => {
  it('follows the key scope', () => {
    expect(mayUse(key('a', 'x', { servers: ['demo'] }), 'demo')).toBe(true);
    expect(mayUse(key('a', 'x', { servers: ['demo'] }), 'other')).toBe(false);
    expect(mayUse(key('a', 'x'), 'any')).toBe(true);
    expect(mayUse(undefined, 'any')).toBe(true);
  });
});

describe('RateLimiter.take', () => {
  it('allows a burst, then refills at rps and says when to retry', () => {
    const r = new RateLimiter();
    const limit = { rps: 2, burst: 3 };
    expect([0, 1, 2].map(() => r.take('k', limit, 0))).toEqual([0, 0, 0]);
    expect(r.take('k', limit, 0)).toBe(1);
    expect(r.take('k', limit, 500)).toBe(0);
    expect(r.take('other', limit, 500)).toBe(0);
  });
});


describe('childEnvironment', () => {
  const env = { PATH: '/bin', HOME: '/home/x', LC_ALL: 'C', AWS_SECRET: 's', MY_KEY: 'k', MCP_GATEWAY_KEY: 'g' };
  it('passes a safe base plus the server env by default', () => {
    expect(childEnvironment({ env: { OWN: '1' }, envFromFile: {}, inheritEnv: false }, env, ['MY_KEY'])).toEqual({ PATH: '/bin', HOME: '/home/x', LC_ALL: 'C', OWN: '1' });
  });
  it('passes everything but the gateway keys with inheritEnv', () => {
    expect(childEnvironment({ env: {}, envFromFile: {}, inheritEnv: true }, env, ['MY_KEY'])).toEqual({ PATH: '/bin', HOME: '/home/x', LC_ALL: 'C', AWS_SECRET: 's' });
  });
  it("adds the envFile's variables over the base, and the server env over those", () => {
    const spec = { env: { OWN: '1', BOTH: 'env' }, envFromFile: { FILED: 'f', HOME: '/srv/home' }, inheritEnv: false };
    expect(childEnvironment(spec, env, ['MY_KEY'])).toEqual({ PATH: '/bin', HOME: '/srv/home', LC_ALL: 'C', OWN: '1', BOTH: 'env', FILED: 'f' });
  });
});
