import { describe, expect, it } from 'vitest';
import type { ServerSpec } from '../../src/config/types.ts';
import { changedFields, plan, stableJson, summarize } from '../../src/plan/plan.ts';

function spec(name: string, over: Partial<ServerSpec> = {}): ServerSpec {
  return {
    name,
    command: 'node',
    args: ['a.js'],
    env: { A: '1' },
    envFromFile: {},
    cwd: '/srv',
    enabled: true,
    sharing: 'shared',
    clientCapabilities: [],
    inheritEnv: false,
    restart: { policy: 'on-failure', backoff: { initialMs: 500, maxMs: 30000, resetAfterMs: 10000 }, limit: { count: 5, windowMs: 60000 } },
    startTimeoutMs: 30000,
    stopTimeoutMs: 5000,
    requestTimeoutMs: 60000,
    requestTimeoutMaxMs: 600000,
    stderrLines: 200,
    sessionIdleTimeoutMs: 1_800_000,
    maxSessions: 100,
    maxInFlight: 64,
    queueTimeoutMs: 5000,
    exposure: { prefix: name, tools: {}, prompts: {}, resources: {}, overrides: {} },
    limits: {},
    rollout: 'overlap',
    drainTimeoutMs: 30000,
    liveness: null,
    start: 'always',
    idleStopMs: 0,
    ...over,
  };
}

const map = (...specs: ServerSpec[]) => new Map(specs.map((s) => [s.name, s]));

describe('plan', () => {
  it('starts new servers, stops removed ones, keeps equal ones', () => {
    const p = plan(map(spec('a'), spec('c')), map(spec('a'), spec('b')));
    expect(p).toEqual({ start: ['c'], stop: ['b'], restart: [], update: [], keep: ['a'] });
  });

  it('restarts on process fields and names them, env by key only', () => {
    const p = plan(map(spec('a', { args: ['b.js'], env: { A: 'secret-2' } })), map(spec('a')));
    expect(p.restart).toEqual([{ name: 'a', changed: ['args', 'env.A'] }]);
    expect(JSON.stringify(p)).not.toContain('secret-2');
  });

  it('restarts when a variable from the envFile changed, naming its key as "env.KEY (from envFile)", never its value', () => {
    const p = plan(map(spec('a', { envFromFile: { TOKEN: 'secret-new', ADDED: 'secret-added' } })), map(spec('a', { envFromFile: { TOKEN: 'secret-old', GONE: 'x' } })));
    expect(p.restart).toEqual([{ name: 'a', changed: ['envFromFile.ADDED', 'envFromFile.GONE', 'envFromFile.TOKEN'] }]);
    expect(summarize(p)).toBe('restarted a (env.ADDED (from envFile), env.GONE (from envFile), env.TOKEN (from envFile))');
    expect(JSON.stringify(p) + summarize(p)).not.toContain('secret');
    expect(plan(map(spec('a', { envFromFile: { T: '1' } })), map(spec('a', { envFromFile: { T: '1' } }))).keep).toEqual(['a']);
  });

  it('updates in place when only settings change', () => {
    const p = plan(map(spec('a', { requestTimeoutMs: 1000, schedule: { restart: '* * * * *' } })), map(spec('a')));
    expect(p.update).toEqual([{ name: 'a', changed: ['requestTimeoutMs', 'schedule'] }]);
    expect(p.restart).toEqual([]);
  });

  it('ignores key order', () => {
    const reordered = { ...spec('a'), env: { B: '2', A: '1' } };
    const original = spec('a', { env: { A: '1', B: '2' } });
    expect(changedFields(original, reordered)).toEqual([]);
    expect(stableJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(stableJson({ a: [1, { c: 3, d: 2 }], b: 1 }));
  });

  it('summarizes in one line', () => {
    const p = plan(map(spec('a', { args: [] }), spec('n')), map(spec('a'), spec('old')));
    expect(summarize(p)).toBe('started n; restarted a (args); stopped old');
  });

  it('names fields as the manifest writes them', () => {
    const p = plan(map(spec('a', { requestTimeoutMs: 1 })), map(spec('a')));
    expect(summarize(p)).toBe('updated a (requestTimeout)');
  });

  it('says enabled / disabled for a change of enabled', () => {
    const desired = map(spec('a', { enabled: false }), spec('b', { enabled: true, args: ['x'] }));
    const p = plan(desired, map(spec('a'), spec('b', { enabled: false })));
    expect(summarize(p, desired)).toBe('enabled b; disabled a');
  });
});
