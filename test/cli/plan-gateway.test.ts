// `plan --against URL` against a real gateway (`mcp-gateway run`, the lead's POST /admin/plan), end to end:
// the plan is made from what runs there, with the gateway's environment, and only admin keys may ask.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO, authKeys } from '../helpers/gateway.ts';
import { cleanup, cli, runGateway, tempDir } from './cli.ts';

afterEach(cleanup);

const ADMIN = 'admin-key-e2e-0123456789';
const VIEWER = 'viewer-key-e2e-0123456789';
const MARKER = 'S3CRET-E2E-MARKER-2718';

function manifest(servers: string): string {
  const keys = authKeys([
    { name: 'ops', key: ADMIN, servers: '*', admin: true },
    { name: 'viewer', key: VIEWER, servers: '*' },
  ]);
  return `version: 1\n${keys}servers:\n${servers}`;
}

const demo = (name: string, extra = ''): string => `  ${name}:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n${extra}`;

describe('mcp-gateway plan FILE --against URL (a real gateway)', () => {
  it('plans against what runs, refuses a key that is not admin, and reports errors at FILE\'s lines', async () => {
    const dir = tempDir();
    const running = path.join(dir, 'mcp-gateway.yaml');
    writeFileSync(running, manifest(demo('a') + demo('b') + demo('c')));
    // ${PLAN_E2E_TOKEN} is set in the gateway's environment only: it interpolates, the value stays there.
    const g = await runGateway(running, { PLAN_E2E_TOKEN: MARKER });
    const next = path.join(dir, 'next.yaml');
    writeFileSync(next, manifest(demo('a', '    requestTimeout: 5s\n') + demo('c', '    env: { TOKEN: "${PLAN_E2E_TOKEN}" }\n') + demo('d')));

    const r = await cli(['plan', next, '--against', g.url], { MCP_GATEWAY_KEY: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('+ start   d\n~ restart c (env.TOKEN)\n~ update  a (requestTimeout)\n- stop    b\nPlan: 1 to start, 1 to restart, 1 to update, 1 to stop, 0 kept.\n');

    const same = await cli(['plan', running, '--against', g.url, '--json'], { MCP_GATEWAY_KEY: ADMIN });
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ ok: true, changes: false, plan: { keep: ['a', 'b', 'c'] } });

    const viewer = await cli(['plan', next, '--against', g.url], { MCP_GATEWAY_KEY: VIEWER });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('HTTP 403');
    expect(viewer.stderr).toContain('planning needs a key with admin: true');

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, manifest('  a:\n    comand: node\n'));
    const invalid = await cli(['plan', bad, '--against', g.url], { MCP_GATEWAY_KEY: ADMIN });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(`${bad}:8:5: unknown key "comand"`);
    for (const text of [r, same, viewer, invalid].flatMap((x) => [x.stdout, x.stderr])) {
      expect(text).not.toContain(ADMIN);
      expect(text).not.toContain(VIEWER);
      expect(text).not.toContain(MARKER);
    }
  });

  it('says that listen.host, args and env made with ${VAR} in the gateway\'s environment changed, and never prints them', async () => {
    const SECRET = 'SECRET_MARKER_7f3a';
    const dir = tempDir();
    const running = path.join(dir, 'mcp-gateway.yaml');
    writeFileSync(running, manifest(demo('a')));
    const g = await runGateway(running, { PLAN_E2E_SECRET: SECRET });
    const next = path.join(dir, 'next.yaml');
    const a = `  a:\n    command: node\n    args: [${JSON.stringify(DEMO)}, "--token=\${PLAN_E2E_SECRET}"]\n    env: { TOKEN: "\${PLAN_E2E_SECRET}" }\n`;
    writeFileSync(next, manifest(a).replace('auth:', 'listen: { host: "${PLAN_E2E_SECRET}" }\nauth:'));

    const r = await cli(['plan', next, '--against', g.url], { MCP_GATEWAY_KEY: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      '~ restart a (args, env.TOKEN)\n' +
        '! listen.host changed (a value from ${PLAN_E2E_SECRET}, not shown) (applies at the next restart of the gateway)\n' +
        'Plan: 0 to start, 1 to restart, 0 to update, 0 to stop, 0 kept, 1 other change.\n',
    );
    const json = await cli(['plan', next, '--against', g.url, '--json'], { MCP_GATEWAY_KEY: ADMIN });
    expect(json.code).toBe(2);
    for (const text of [r.stdout, r.stderr, json.stdout, json.stderr, g.out.join('\n')]) expect(text).not.toContain(SECRET);
  });
});
