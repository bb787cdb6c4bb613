import { describe, it, expect } from 'vitest';
import { parseManifest } from '../../src/config/load.ts';
import { desiredOf, errorsOf, FILE, lines } from './parse-helpers.ts';


describe('parseManifest: positions of each kind of error', () => {
  it('YAML syntax error, reported alone (the rest of the document is not trusted)', () => {
    const src = lines('version: 1', 'servers:', '  demo:', '    command: node', '   args: []', '    bogus: 1');
    expect(errorsOf(src)).toEqual([
      '5:1: YAML syntax: All mapping items must start at the same column; check the indentation: items of one map or list start in the same column',
    ]);
  });

  it('unquoted ${VAR} in a flow map: one error with the fix', () => {
    const [only, ...rest] = errorsOf(lines('version: 1', 'listen: { host: ${HOST} }', 'servers: {}'));
    expect(rest).toEqual([]);
    expect(only).toMatch(/^2:18: YAML syntax: .*put values that use \$\{\.\.\.\} in quotes/);
  });

  it('duplicate key, at the second occurrence', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    command: python'))).toEqual([
      '5:5: duplicate key "command"; each key may appear only once in a map, remove or rename one',
    ]);
  });

  it('unknown key, at the key, with the closest allowed one', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    comand: node'))).toEqual([
      '5:5: unknown key "comand" in server "demo"; did you mean "command"? allowed: command, args, env, envFile, cwd, restart, startTimeout, stopTimeout, requestTimeout, requestTimeoutMax, stderrLines, schedule, enabled, sharing, clientCapabilities, sessionIdleTimeout, maxSessions, inheritEnv, maxInFlight, queueTimeout, prefix, tools, prompts, resources, rollout, drainTimeout, liveness, start, idleStop, limits, callerEnv',
    ]);
    const [top] = errorsOf(lines('version: 1', 'servers: {}', 'xyzzy: 1'));
    expect(top).toBe('3:1: unknown key "xyzzy" at the top level; allowed: version, envFile, listen, defaults, servers, auth, aggregate, endpoints');
  });

  it('wrong type, at the value', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    enabled: maybe'))).toEqual([
      '5:14: servers.demo.enabled: must be true or false',
    ]);
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    env:', '      PORT: 8080'))).toEqual([
      '6:13: servers.demo.env.PORT: must be a string; environment values are strings: quote it, e.g. PORT: "8080"',
    ]);
  });

  it('an empty value, at its key', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command:'))).toEqual([
      '4:5: servers.demo.command: has no value; write a string after the colon',
    ]);
  });

  it('missing required key, at the key of the map that lacks it', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    args: [x]'))).toEqual([
      '3:3: missing required key "command" in server "demo"; add e.g. "command: node"',
    ]);
    expect(errorsOf(lines('# comment', 'servers: {}'))).toEqual(['2:1: missing required key "version" at the top level; add "version: 1" at the top']);
  });

  it('bad duration', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    stopTimeout: 5 seconds'))).toEqual([
      '5:18: servers.demo.stopTimeout: invalid duration; use a number with a unit, e.g. 500ms, 5s, 2m',
    ]);
    expect(errorsOf(lines('version: 1', 'defaults:', '  restart: { backoff: { max: -1 } }', 'servers: {}'))).toEqual([
      '3:30: defaults.restart.backoff.max: invalid duration; use a number with a unit, e.g. 500ms, 5s, 2m',
    ]);
  });

  it('bad cron expression', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    schedule: { restart: "61 4 * * *" }'))).toEqual([
      '5:26: servers.demo.schedule.restart: invalid cron expression (the minute field is not valid); use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "0 4 * * *"',
    ]);
    const [fields] = errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    schedule:', '      restart: nightly'));
    expect(fields).toBe('6:16: servers.demo.schedule.restart: invalid cron expression; use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "0 4 * * *"');
  });

  it('bad timezone', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    schedule: { restart: "0 4 * * *", timezone: Mars/Olympus }'))).toEqual([
      '5:49: servers.demo.schedule.timezone: unknown time zone; use an IANA name such as Europe/Berlin or UTC',
    ]);
  });

  it('missing variable, at the scalar that holds it', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    env:', '      TOKEN: "Bearer ${TOKEN}"'))).toEqual([
      '6:14: servers.demo.env.TOKEN: variable TOKEN is not set; export it or write ${TOKEN:-default}',
    ]);
  });

  it('a duration longer than a Node timer holds, written as text or in ms, at its value', () => {
    const tooLong = 'too long; a duration is at most 596h31m23s (about 24.8 days): Node timers cannot hold longer';
    expect(errorsOf(lines('version: 1', 'defaults:', '  requestTimeout: 600h', 'servers: {}'))).toEqual([`3:19: defaults.requestTimeout: ${tooLong}`]);
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    stopTimeout: 2147483648'))).toEqual([`5:18: servers.demo.stopTimeout: ${tooLong}`]);
    expect(errorsOf(lines('version: 1', 'servers:', '  demo: { command: node, requestTimeoutMax: "${MAX}" }'), { MAX: '1000000h' })).toEqual([
      `3:45: servers.demo.requestTimeoutMax: ${tooLong}`,
    ]);
    const d = desiredOf(lines('version: 1', 'servers:', '  a: { command: node, requestTimeout: 596h, stopTimeout: 2147483647, requestTimeoutMax: 596h31m23s }'));
    expect(d.servers.get('a')).toMatchObject({ requestTimeoutMs: 596 * 3_600_000, stopTimeoutMs: 2_147_483_647, requestTimeoutMaxMs: 2_147_483_000 });
  });

  it('a missing variable in a duration is reported once, not again as a bad duration', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    stopTimeout: ${STOP}'))).toEqual([
      '5:18: servers.demo.stopTimeout: variable STOP is not set; export it or write ${STOP:-default}',
    ]);
  });

  it('malformed ${ reference', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  demo:', '    command: "${NODE"'))).toEqual([
      '4:14: servers.demo.command: unterminated "${NODE"; close it with "}"',
    ]);
  });

  it('bad server name, at the name', () => {
    expect(errorsOf(lines('version: 1', 'servers:', '  "my server":', '    command: node', '  a.b: { command: node }'))).toEqual([
      '3:3: server name "my server" is not URL-safe; use letters, digits, "-" and "_" (at most 63, starting with a letter or digit)',
      '5:3: server name "a.b" is not URL-safe; use letters, digits, "-" and "_" (at most 63, starting with a letter or digit)',
    ]);
  });

  it('empty file and non-map document', () => {
    expect(errorsOf('')).toEqual(['1:1: the manifest is empty; start with "version: 1" and a "servers:" map']);
    expect(errorsOf('# nothing yet\n')).toEqual(['1:1: the manifest is empty; start with "version: 1" and a "servers:" map']);
    expect(errorsOf('just text\n')).toEqual(['1:1: the manifest must be a map with "version: 1" and "servers:" at the top level']);
  });

  it('reports several errors at once, sorted by line then column', () => {
    const src = lines(
      'version: 2', //                          1
      'servers:', //                            2
      '  demo:', //                             3
      '    command: node', //                   4
      '    command: node', //                   5  duplicate
      '    args: [a, 1]', //                    6  args[1] not a string
      '    env: { A: "${NOPE}" }', //           7  missing variable
      '    startTimeout: 5x', //                8  bad duration
      '    schedule: { restart: "* * *", timezone: Nowhere }', // 9 cron + zone
      '    typo: 1', //                         10 unknown key
      '  "bad name": { command: x }', //        11
    );
    expect(errorsOf(src)).toEqual([
      '1:10: version: must be 1',
      '5:5: duplicate key "command"; each key may appear only once in a map, remove or rename one',
      '6:15: servers.demo.args[1]: must be a string; put it in quotes',
      '7:15: servers.demo.env.A: variable NOPE is not set; export it or write ${NOPE:-default}',
      '8:19: servers.demo.startTimeout: invalid duration; use a number with a unit, e.g. 500ms, 5s, 2m',
      '9:26: servers.demo.schedule.restart: invalid cron expression; use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "0 4 * * *"',
      '9:45: servers.demo.schedule.timezone: unknown time zone; use an IANA name such as Europe/Berlin or UTC',
      '10:5: unknown key "typo" in server "demo"; allowed: command, args, env, envFile, cwd, restart, startTimeout, stopTimeout, requestTimeout, requestTimeoutMax, stderrLines, schedule, enabled, sharing, clientCapabilities, sessionIdleTimeout, maxSessions, inheritEnv, maxInFlight, queueTimeout, prefix, tools, prompts, resources, rollout, drainTimeout, liveness, start, idleStop, limits, callerEnv',
      '11:3: server name "bad name" is not URL-safe; use letters, digits, "-" and "_" (at most 63, starting with a letter or digit)',
    ]);
  });

  it('aliases: a value used through an alias is shown where it is used; fields inside one, where written', () => {
    const src = lines(
      'version: 1',
      'defaults:',
      '  stopTimeout: &t nope',
      '  restart: &r { policy: sometimes }',
      'servers:',
      '  demo: { command: node, startTimeout: *t, restart: *r }',
    );
    expect(errorsOf(src)).toEqual([
      '3:19: defaults.stopTimeout: invalid duration; use a number with a unit, e.g. 500ms, 5s, 2m',
      '4:25: defaults.restart.policy: must be one of always, on-failure, never',
      '4:25: servers.demo.restart.policy: must be one of always, on-failure, never',
      '6:40: servers.demo.startTimeout: invalid duration; use a number with a unit, e.g. 500ms, 5s, 2m',
    ]);
  });
});

describe('parseManifest: secrets stay out of messages', () => {
  it('never quotes the value of an environment variable', () => {
    const marker = 'S3CRET-MARKER-123';
    const src = lines(
      'version: 1',
      'listen:',
      '  port: ${TOKEN}',
      'servers:',
      '  demo:',
      '    command: node',
      '    stopTimeout: ${TOKEN}',
      '    stderrLines: "${TOKEN}"',
      '    enabled: ${TOKEN:-yes}',
      '    restart: { policy: "${TOKEN}" }',
      '    schedule: { restart: "${TOKEN}", timezone: "${TOKEN}" }',
    );
    const env = { TOKEN: marker, PORT: marker };
    const errors = errorsOf(src, env);
    expect(errors.length).toBe(8);
    for (const e of errors) expect(e).not.toContain(marker);
    expect(errors).toContain('3:9: listen.port: must be a whole number; a value written with ${...} is always a string');
    expect(errors).toContain('1:1: the environment variable PORT is not a port number (a whole number from 0 to 65535); fix or unset it');
  });
});

describe('parseManifest: the resolved Desired', () => {
  it('applies built-in defaults', () => {
    const d = desiredOf(lines('version: 1', 'servers:', '  demo:', '    command: node'));
    expect(d.file).toBe(FILE);
    expect(d.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(d.listen).toEqual({ host: '127.0.0.1', port: 3001, corsOrigins: [], allowedHosts: [], bodyLimit: 4194304, accessLog: false, shutdownGraceMs: 10000 });
    expect(d.servers.get('demo')).toEqual({
      name: 'demo',
      command: 'node',
      args: [],
      env: {},
      envFromFile: {},
      cwd: '/srv/gw',
      enabled: true,
      sharing: 'shared',
      clientCapabilities: [],
      inheritEnv: false,
      restart: { policy: 'on-failure', backoff: { initialMs: 500, maxMs: 30_000, resetAfterMs: 10_000 }, limit: { count: 5, windowMs: 60_000 } },
      startTimeoutMs: 30_000,
      stopTimeoutMs: 5_000,
      requestTimeoutMs: 60_000,
      requestTimeoutMaxMs: 600_000,
      stderrLines: 200,
      sessionIdleTimeoutMs: 1_800_000,
      maxSessions: 100,
      maxInFlight: 64,
      queueTimeoutMs: 5000,
      exposure: { prefix: 'demo', tools: {}, prompts: {}, resources: {}, overrides: {} },
      limits: {},
      rollout: 'overlap',
      drainTimeoutMs: 30_000,
      liveness: { intervalMs: 30_000, timeoutMs: 10_000, failures: 3 },
      start: 'always',
      idleStopMs: 0,
    });
    expect(d.separator).toBe('__');
    expect(d.endpoints.size).toBe(0);
  });

  it('merges server settings over defaults over built-ins, field by field', () => {
    const d = desiredOf(
      lines(
        'version: 1',
        'listen: { host: 0.0.0.0, port: 8080 }',
        'auth: { none: true }',
        'defaults:',
        '  restart: { policy: always, backoff: { initial: 1s }, limit: { window: 2m } }',
        '  startTimeout: 10s',
        '  stderrLines: 50',
        'servers:',
        '  a:',
        '    command: node',
        '    restart: { backoff: { max: 1m30s }, limit: { count: 3 } }',
        '    startTimeout: 2500',
        '    schedule: { restart: "0 4 * * *", timezone: Europe/Berlin }',
        '    enabled: false',
        '  b: { command: python, restart: { policy: never } }',
      ),
    );
    expect(d.listen).toMatchObject({ host: '0.0.0.0', port: 8080 });
    const a = d.servers.get('a');
    expect(a?.restart).toEqual({ policy: 'always', backoff: { initialMs: 1000, maxMs: 90_000, resetAfterMs: 10_000 }, limit: { count: 3, windowMs: 120_000 } });
    expect(a?.startTimeoutMs).toBe(2500);
    expect(a?.stderrLines).toBe(50);
    expect(a?.enabled).toBe(false);
    expect(a?.schedule).toEqual({ restart: '0 4 * * *', timezone: 'Europe/Berlin' });
    const b = d.servers.get('b');
    expect(b?.restart.policy).toBe('never');
    expect(b?.restart.backoff.initialMs).toBe(1000);
    expect(b?.startTimeoutMs).toBe(10_000);
    expect(b?.schedule).toBeUndefined();
    expect([...d.servers.keys()]).toEqual(['a', 'b']);
  });

  it('caps a request at requestTimeoutMax: 10m by default, overridable, never below requestTimeout', () => {
    const d = desiredOf(
      lines(
        'version: 1',
        'defaults: { requestTimeoutMax: 20m }',
        'servers:',
        '  inherits: { command: node, requestTimeout: 30s }',
        '  own: { command: node, requestTimeoutMax: 90s }',
        '  below: { command: node, requestTimeout: 5m, requestTimeoutMax: 1m }',
        '  belowDefault: { command: node, requestTimeout: 30m }',
      ),
    );
    const max = (name: string): number | undefined => d.servers.get(name)?.requestTimeoutMaxMs;
    expect(max('inherits')).toBe(20 * 60_000);
    expect(max('own')).toBe(90_000);
    // A request with no progress at all may always take requestTimeout: the cap is raised to it.
    expect(max('below')).toBe(5 * 60_000);
    expect(max('belowDefault')).toBe(30 * 60_000);
    const plain = desiredOf(lines('version: 1', 'servers:', '  a: { command: node }', '  b: { command: node, requestTimeout: 15m }'));
    expect(plain.servers.get('a')?.requestTimeoutMaxMs).toBe(10 * 60_000);
    expect(plain.servers.get('b')?.requestTimeoutMaxMs).toBe(15 * 60_000);
  });

  it('interpolates values, with defaults and $$', () => {
    const d = desiredOf(
      lines(
        'version: 1',
        'servers:',
        '  demo:',
        '    command: ${NODE:-node}',
        '    args: ["--greeting=${GREETING:-hello}", "price: $$5", "$${KEEP}"]',
        '    env: { HOME_DIR: "${HOME}", EMPTY_FALLBACK: "${EMPTY:-fallback}" }',
        '    stopTimeout: ${STOP:-2s}',
      ),
      { HOME: '/home/op', EMPTY: '', STOP: '750ms' },
    );
    const s = d.servers.get('demo');
    expect(s?.command).toBe('node');
    expect(s?.args).toEqual(['--greeting=hello', 'price: $5', '${KEEP}']);
    expect(s?.env).toEqual({ HOME_DIR: '/home/op', EMPTY_FALLBACK: 'fallback' });
    expect(s?.stopTimeoutMs).toBe(750);
  });

  it('records each path written with ${VAR}, through aliases, with the variables it read', () => {
    const d = desiredOf(
      lines(
        'version: 1',
        'listen: { host: "${HOST}", port: 8080 }',
        'auth: { keys: [ { name: ops, key: "${OPS_KEY}", servers: "*" } ] }',
        'servers:',
        '  a:',
        '    command: node',
        '    args: [server.js, "--token=${TOKEN}", "price: $$5", &dir "${DATA:-/data}"]',
        '    env: { TOKEN: "${TOKEN}", "MY-VAR": "${A}${B}", PLAIN: x }',
        '  b: { command: node, args: [*dir] }',
      ),
      { HOST: '0.0.0.0', OPS_KEY: 'k'.repeat(16), TOKEN: 't0k3n', A: 'a', B: 'b' },
    );
    expect(Object.fromEntries(d.interpolated)).toEqual({
      'listen.host': ['HOST'],
      'auth.keys[0].key': ['OPS_KEY'],
      'servers.a.args[1]': ['TOKEN'],
      'servers.a.args[3]': ['DATA'],
      'servers.a.env.TOKEN': ['TOKEN'],
      'servers.a.env.MY-VAR': ['A', 'B'],
      'servers.b.args[0]': ['DATA'],
    });
    expect(Object.isFrozen(d.interpolated.get('listen.host'))).toBe(true);
    expect(desiredOf(lines('version: 1', 'servers:', '  a: { command: node, args: ["$$HOME"] }')).interpolated.size).toBe(0);
  });

  it('never interpolates keys', () => {
    const d = desiredOf(lines('version: 1', 'servers:', '  demo:', '    command: node', '    env: { "${X}": "1" }'), { X: 'Y' });
    expect(d.servers.get('demo')?.env).toEqual({ '${X}': '1' });
  });

  it('lets PORT override listen.port, and rejects an invalid PORT', () => {
    const src = lines('version: 1', 'listen: { port: 8080 }', 'servers: {}');
    expect(desiredOf(src, { PORT: '9090' }).listen).toMatchObject({ host: '127.0.0.1', port: 9090 });
    expect(desiredOf(src, { PORT: '' }).listen.port).toBe(8080);
    expect(desiredOf(src, { PORT: '0' }).listen.port).toBe(0);
    for (const bad of ['65536', '-1', '80a', '1e3', ' 80']) {
      expect(errorsOf(src, { PORT: bad }), bad).toEqual(['1:1: the environment variable PORT is not a port number (a whole number from 0 to 65535); fix or unset it']);
    }
  });

  it('resolves cwd against the manifest folder', () => {
    const d = desiredOf(
      lines('version: 1', 'servers:', '  a: { command: x, cwd: ./sub/dir }', '  b: { command: x, cwd: ../up }', '  c: { command: x, cwd: /abs/path }', '  d: { command: x }'),
    );
    expect(d.servers.get('a')?.cwd).toBe('/srv/gw/sub/dir');
    expect(d.servers.get('b')?.cwd).toBe('/srv/up');
    expect(d.servers.get('c')?.cwd).toBe('/abs/path');
    expect(d.servers.get('d')?.cwd).toBe('/srv/gw');
  });

  it('accepts an empty servers map', () => {
    expect(desiredOf(lines('version: 1', 'servers: {}')).servers.size).toBe(0);
  });

  it('is frozen', () => {
    const d = desiredOf(lines('version: 1', 'servers:', '  demo: { command: node, args: [a], env: { A: "1" } }'));
    const s = d.servers.get('demo');
    expect(Object.isFrozen(d)).toBe(true);
    expect(Object.isFrozen(d.listen)).toBe(true);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s?.args)).toBe(true);
    expect(Object.isFrozen(s?.env)).toBe(true);
    expect(Object.isFrozen(s?.restart.backoff)).toBe(true);
    expect(Object.isFrozen(s?.restart.limit)).toBe(true);
  });

  it('is deterministic: same input, same output', () => {
    const src = lines('version: 1', 'servers:', '  demo: { command: "${CMD:-node}" }');
    const a = parseManifest(FILE, src, { CMD: 'deno' });
    const b = parseManifest(FILE, src, { CMD: 'deno' });
    expect(a).toEqual(b);
    const bad = parseManifest(FILE, 'version: 1\n', {});
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('parseManifest: supervision settings', () => {
  it('merges liveness field by field, and false at either level turns it off', () => {
    const d = desiredOf(`version: 1
defaults:
  liveness: { interval: 5s }
servers:
  a: { command: node, liveness: { failures: 2 } }
  b: { command: node, liveness: false }
  c: { command: node }
`);
    expect(d.servers.get('a')?.liveness).toEqual({ intervalMs: 5000, timeoutMs: 10_000, failures: 2 });
    expect(d.servers.get('b')?.liveness).toBeNull();
    expect(d.servers.get('c')?.liveness).toEqual({ intervalMs: 5000, timeoutMs: 10_000, failures: 3 });
    const off = desiredOf(`version: 1\ndefaults: { liveness: false }\nservers:\n  a: { command: node }\n  b: { command: node, liveness: { interval: 1s } }\n`);
    expect(off.servers.get('a')?.liveness).toBeNull();
    expect(off.servers.get('b')?.liveness).toEqual({ intervalMs: 1000, timeoutMs: 10_000, failures: 3 });
  });

  it('on-demand servers stop after 10m idle by default; always servers never, unless told', () => {
    const d = desiredOf(`version: 1
servers:
  a: { command: node, start: on-demand }
  b: { command: node, start: on-demand, idleStop: 0 }
  c: { command: node, idleStop: 2m }
  d: { command: node }
`);
    expect(d.servers.get('a')).toMatchObject({ start: 'on-demand', idleStopMs: 600_000 });
    expect(d.servers.get('b')).toMatchObject({ start: 'on-demand', idleStopMs: 0 });
    expect(d.servers.get('c')).toMatchObject({ start: 'always', idleStopMs: 120_000 });
    expect(d.servers.get('d')).toMatchObject({ start: 'always', idleStopMs: 0 });
  });

  it('reads limits in units of 1024 and CPU as a share of one core', () => {
    const d = desiredOf(`version: 1
servers:
  a: { command: node, limits: { memory: 512M, cpu: 50%, files: 1024, processes: 64 } }
  b: { command: node, limits: { memory: 1.5GiB, cpu: 2 } }
  c: { command: node, limits: { memory: 1048576 } }
`);
    expect(d.servers.get('a')?.limits).toEqual({ memoryBytes: 512 * 1024 ** 2, cpuPercent: 50, files: 1024, processes: 64 });
    expect(d.servers.get('b')?.limits).toEqual({ memoryBytes: 1.5 * 1024 ** 3, cpuPercent: 200 });
    expect(d.servers.get('c')?.limits).toEqual({ memoryBytes: 1048576 });
  });

  it('refuses a size or share it cannot read, at its place', () => {
    const text = errorsOf(`version: 1\nservers:\n  a: { command: node, limits: { memory: lots, cpu: half }, rollout: sideways }\n`).join('\n');
    expect(text).toMatch(/3:\d+: servers\.a\.limits\.memory: invalid size; use a number with a unit K, M or G/);
    expect(text).toMatch(/3:\d+: servers\.a\.limits\.cpu: invalid CPU share/);
    expect(errorsOf(`version: 1\nservers:\n  a: { command: node, liveness: { interval: soon } }\n`)).toEqual([expect.stringMatching(/^3:\d+: servers\.a\.liveness\.interval: invalid duration/)]);
    expect(errorsOf(`version: 1\nservers:\n  a: { command: node, liveness: true }\n`)).toEqual([expect.stringMatching(/servers\.a\.liveness: must be false \(off\) or a map of settings/)]);
    expect(text).toMatch(/rollout: must be one of overlap, replace/);
  });
});
