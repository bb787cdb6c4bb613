import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, cli, deadUrl, stubServer, tempDir, type StubRequest } from './cli.ts';

afterEach(cleanup);

const MARKER = 'S3CRET-PLAN-MARKER-0815';

const OLD = `version: 1
servers:
  demo:
    command: node
    args: [server.js]
    env: { TOKEN: "${MARKER}-old", KEEP: same }
  old: { command: node, args: [old.js] }
  other:
    command: node
    requestTimeout: 10s
  quiet: { command: node, cwd: ./work }
`;

const NEW = `version: 1
servers:
  demo:
    command: node
    args: [server.js, --verbose]
    env: { TOKEN: "\${TEST_TOKEN}", KEEP: same }
  github: { command: npx, args: [-y, some-server] }
  other:
    command: node
    requestTimeout: 20s
  quiet: { command: node, cwd: ./work }
`;

// NEW's servers in another order, keys in another order, flow and block styles swapped: the same specs.
const REORDERED = `servers:
  quiet:
    cwd: ./work
    command: node
  other: { requestTimeout: 20s, command: node }
  github:
    args: [-y, some-server]
    command: npx
  demo:
    env:
      KEEP: same
      TOKEN: "\${TEST_TOKEN}"
    args: [server.js, --verbose]
    command: node
version: 1
`;

function files(texts: Record<string, string>): Record<string, string> {
  const dir = tempDir();
  return Object.fromEntries(
    Object.entries(texts).map(([name, text]) => {
      const file = path.join(dir, name);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      return [name, file];
    }),
  );
}

const env = { TEST_TOKEN: `${MARKER}-new` };

describe('mcp-gateway plan FILE --against FILE', () => {
  it('names what starts, restarts, updates, stops and stays, exits 2, and never prints an env value', async () => {
    const f = files({ 'new.yaml': NEW, 'old.yaml': OLD });
    const r = await cli(['plan', f['new.yaml']!, '--against', f['old.yaml']!], env);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')).toEqual([
      '+ start   github',
      '~ restart demo (args, env.TOKEN)',
      '~ update  other (requestTimeout)',
      '- stop    old',
      '= keep    quiet',
      'Plan: 1 to start, 1 to restart, 1 to update, 1 to stop, 1 kept.',
      '',
    ]);
    expect(r.stderr).toBe('');
    const json = await cli(['plan', f['new.yaml']!, '--against', f['old.yaml']!, '--json'], env);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      changes: true,
      plan: {
        start: ['github'],
        stop: ['old'],
        restart: [{ name: 'demo', changed: ['args', 'env.TOKEN'] }],
        update: [{ name: 'other', changed: ['requestTimeoutMs'] }],
        keep: ['quiet'],
      },
      notes: [],
    });
    for (const text of [r.stdout, r.stderr, json.stdout, json.stderr]) expect(text).not.toContain(MARKER);
  });

  it('says that listen.host, args and env made with ${VAR} changed, and never prints what they hold', async () => {
    const SECRET = 'SECRET_MARKER_7f3a';
    const f = files({
      'old.yaml': 'version: 1\nauth: { none: true }\nservers:\n  demo: { command: node, args: [server.js], env: { TOKEN: old } }\n',
      'new.yaml':
        'version: 1\nlisten: { host: "${PLAN_SECRET}" }\nauth: { none: true }\nservers:\n  demo: { command: node, args: [server.js, "--token=${PLAN_SECRET}"], env: { TOKEN: "${PLAN_SECRET}" } }\n',
    });
    const r = await cli(['plan', f['new.yaml']!, '--against', f['old.yaml']!], { PLAN_SECRET: SECRET });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      '~ restart demo (args, env.TOKEN)\n' +
        '! listen.host changed (a value from ${PLAN_SECRET}, not shown) (applies at the next restart of the gateway)\n' +
        'Plan: 0 to start, 1 to restart, 0 to update, 0 to stop, 0 kept, 1 other change.\n',
    );
    const json = await cli(['plan', f['new.yaml']!, '--against', f['old.yaml']!, '--json'], { PLAN_SECRET: SECRET });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ changes: true, plan: { restart: [{ name: 'demo', changed: ['args', 'env.TOKEN'] }] }, notes: [expect.stringContaining('listen.host changed')] });
    // The other way round: the value made with ${VAR} is the one replaced.
    const back = await cli(['plan', f['old.yaml']!, '--against', f['new.yaml']!], { PLAN_SECRET: SECRET });
    expect(back.code).toBe(2);
    expect(back.stdout).toContain('! listen.host changed (a value from ${PLAN_SECRET}, not shown)');
    for (const text of [r, json, back].flatMap((x) => [x.stdout, x.stderr])) expect(text).not.toContain(SECRET);
  });

  it('a key-order-only edit is no change: exit 0', async () => {
    const f = files({ 'new.yaml': NEW, 'reordered.yaml': REORDERED });
    const r = await cli(['plan', f['reordered.yaml']!, '--against', f['new.yaml']!], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('= keep    demo\n= keep    github\n= keep    other\n= keep    quiet\nNo changes: 4 servers kept.\n');
    const json = await cli(['plan', f['reordered.yaml']!, '--against', f['new.yaml']!, '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, changes: false });
  });

  it('reads the older file as if it were at FILE: a relative cwd elsewhere is no change', async () => {
    const f = files({ 'repo/mcp-gateway.yaml': NEW, 'prev/prev.yaml': NEW });
    const r = await cli(['plan', f['repo/mcp-gateway.yaml']!, '--against', f['prev/prev.yaml']!], env);
    expect(r.code).toBe(0);
  });

  it('names a change of the listen address, which needs a gateway restart, as a change', async () => {
    const f = files({ 'a.yaml': 'version: 1\nservers: {}\n', 'b.yaml': 'version: 1\nlisten: { port: 3002 }\nservers: {}\n' });
    const r = await cli(['plan', f['b.yaml']!, '--against', f['a.yaml']!]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('! listen.port: 3001 → 3002 (applies at the next restart of the gateway)\n');
  });

  it('names the keys that are added, removed or changed, and never prints a key', async () => {
    const hash = (c: string): string => c.repeat(64);
    const auth = (keys: string): string => `version: 1\nauth:\n  keys:\n${keys}servers:\n  a: { command: node }\n  b: { command: node }\n`;
    const f = files({
      'old.yaml': auth(`    - { name: alice, sha256: ${hash('a')}, servers: "*" }\n    - { name: bob, sha256: ${hash('b')}, servers: [a] }\n    - { name: ops, key: "\${ADMIN_KEY}", servers: "*", admin: true }\n`),
      'new.yaml': auth(`    - { name: bob, sha256: ${hash('c')}, servers: [a, b] }\n    - { name: ops, key: "\${ADMIN_KEY}", servers: "*", admin: true }\n    - { name: carol, sha256: ${hash('d')}, servers: [b] }\n`),
    });
    const r = await cli(['plan', f['new.yaml']!, '--against', f['old.yaml']!], { ADMIN_KEY: MARKER });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      '= keep    a\n= keep    b\n! auth: key bob changed (key, servers)\n! auth: key carol added\n! auth: key alice removed\nPlan: 0 to start, 0 to restart, 0 to update, 0 to stop, 2 kept, 3 other changes.\n',
    );
    expect(r.stdout + r.stderr).not.toContain(MARKER);
  });

  it('exits 1 with file:line:col: message when either manifest does not load', async () => {
    const f = files({ 'good.yaml': NEW, 'bad.yaml': 'version: 1\nservers:\n  a:\n    comand: node\n' });
    const newBad = await cli(['plan', f['bad.yaml']!, '--against', f['good.yaml']!], env);
    expect(newBad.code).toBe(1);
    expect(newBad.stdout).toBe('');
    expect(newBad.stderr).toContain(`${f['bad.yaml']}:4:5: unknown key "comand"`);
    const oldBad = await cli(['plan', f['good.yaml']!, '--against', f['bad.yaml']!, '--json'], env);
    expect(oldBad.code).toBe(1);
    const doc = JSON.parse(oldBad.stdout) as { ok: boolean; errors: { file: string; line: number; col: number }[] };
    expect(doc.ok).toBe(false);
    expect(doc.errors).toContainEqual(expect.objectContaining({ file: f['bad.yaml'], line: 4, col: 5 }));
    const missing = await cli(['plan', f['good.yaml']!, '--against', path.join(path.dirname(f['good.yaml']!), 'nope.yaml')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.yaml:1:1: file not found');
    const unset = await cli(['plan', f['good.yaml']!, '--against', f['good.yaml']!]); // TEST_TOKEN not set
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('variable TEST_TOKEN is not set');
  });

  it('exits 1 (never 2, which means "changes") on a usage error, and refuses a key on the command line', async () => {
    for (const args of [['plan'], ['plan', 'a.yaml', 'b.yaml'], ['plan', 'a.yaml', '--bogus'], ['plan', 'a.yaml', '--key', 'abc']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain('mcp-gateway plan:');
    }
    expect((await cli(['plan', 'a.yaml', '--key=abc'])).stderr).toContain('--key-file FILE or MCP_GATEWAY_KEY');
  });
});

describe('mcp-gateway plan FILE --against URL', () => {
  const KEY = 'admin-key-PLAN-4711';
  const PLAN = {
    start: ['github'],
    stop: ['old'],
    restart: [{ name: 'demo', changed: ['args', 'env.TOKEN'] }],
    update: [{ name: 'other', changed: ['requestTimeoutMs'] }],
    keep: ['quiet'],
  };
  const EMPTY = { start: [], stop: [], restart: [], update: [], keep: ['demo'] };

  /** The contract of POST /admin/plan: 401 without the right key, 422 for a manifest with "bad" in it. */
  function gateway(plan: unknown) {
    return stubServer((r: StubRequest) => {
      if (r.method !== 'POST' || r.url !== '/admin/plan' || r.headers['content-type'] !== 'application/yaml') return { status: 400, body: { error: { message: 'bad request' } } };
      if (r.headers.authorization !== `Bearer ${KEY}`) return { status: 401, body: { error: { kind: 'Unauthorized', message: 'a valid admin key is required' } } };
      if (r.body.includes('bad')) return { status: 422, body: { ok: false, errors: ['/etc/mcp-gateway/mcp-gateway.yaml:4:5: unknown key "bad" in server "a"'] } };
      return { status: 200, body: { ok: true, plan } };
    });
  }

  it('posts the manifest text with the key from --key-file and prints the plan: exit 2', async () => {
    const stub = await gateway(PLAN);
    const f = files({ 'm.yaml': NEW, key: `${KEY}\n` });
    const r = await cli(['plan', f['m.yaml']!, '--against', `${stub.url}/`, '--key-file', f.key!]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('+ start   github\n~ restart demo (args, env.TOKEN)\n~ update  other (requestTimeout)\n- stop    old\n= keep    quiet\n');
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]!.body).toBe(NEW);
    expect(stub.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('takes the key from MCP_GATEWAY_KEY and the URL from MCP_GATEWAY_URL; no changes is exit 0', async () => {
    const stub = await gateway(EMPTY);
    const f = files({ 'm.yaml': NEW });
    const r = await cli(['plan', f['m.yaml']!, '--json'], { MCP_GATEWAY_KEY: KEY, MCP_GATEWAY_URL: stub.url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, changes: false, plan: EMPTY, notes: [] });
  });

  it('exits 1 when the key is refused, and never prints the key', async () => {
    const stub = await gateway(PLAN);
    const f = files({ 'm.yaml': NEW });
    const wrong = await cli(['plan', f['m.yaml']!, '--against', stub.url], { MCP_GATEWAY_KEY: `${KEY}-wrong` });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('HTTP 401: a valid admin key is required; the key from MCP_GATEWAY_KEY');
    const none = await cli(['plan', f['m.yaml']!, '--against', stub.url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no key was given');
    for (const text of [wrong.stdout, wrong.stderr, none.stdout, none.stderr]) expect(text).not.toContain(KEY);
  });

  it('exits 1 with the gateway\'s errors at FILE\'s lines when it rejects the manifest', async () => {
    const stub = await gateway(PLAN);
    const f = files({ 'm.yaml': 'version: 1\nservers:\n  a:\n    bad: 1\n' });
    const r = await cli(['plan', f['m.yaml']!, '--against', stub.url], { MCP_GATEWAY_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${f['m.yaml']}:4:5: unknown key "bad" in server "a"\n`);
  });

  it('exits 1 when the gateway cannot be reached', async () => {
    const f = files({ 'm.yaml': NEW });
    const url = await deadUrl();
    const r = await cli(['plan', f['m.yaml']!, '--against', url], { MCP_GATEWAY_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach the gateway at ${url}/admin/plan: connection refused`);
  });
});
