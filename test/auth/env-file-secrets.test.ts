// A value from an env file is a secret like one from the process environment: one marker, put in a
// top-level env file (interpolated into args and env) and in a server's env file, never comes out of the
// gateway: not in plans (`mcp-gateway plan`, POST /admin/plan), status, metrics, errors or the log.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planMain } from '../../src/cli/plan.ts';
import type { ServerSpec } from '../../src/config/types.ts';
import { createLogger } from '../../src/log.ts';
import { Reconciler } from '../../src/reconciler/reconciler.ts';
import type { ManagedServer } from '../../src/supervisor/managed-server.ts';
import { passAfter } from '../reconciler/passes.ts';
import { closeAll, demoServer, DEMO, manifest, running, servers, startHarness, type Harness, type Json } from '../helpers/gateway.ts';

const MARKER = 'S3CRET-ENVFILE-MARKER-0451';
const owned: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  await closeAll();
  for (const close of owned.splice(0).reverse()) await close();
});

const FILES = {
  'top.env': `TOKEN=${MARKER}-top\n`,
  'b.env': `B_SECRET=${MARKER}-b\n`,
  'b2.env': `B_SECRET=${MARKER}-b2\nB_ADDED="${MARKER}-added"\n`,
  'bad.env': `OK=1\n${MARKER}\n`,
};

/** a: ${TOKEN} from the top-level file in args and env; b: its own env file. */
function running1(bFile = 'b.env', extraA = ''): string {
  return manifest(demoServer('a', `    env: { API: "\${TOKEN}" }\n${extraA}`, ['--token=${TOKEN}']) + demoServer('b', `    envFile: ${bFile}\n`), 'envFile: top.env\n');
}

async function run(h: Harness, args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await planMain(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: { ...process.env, MCP_GATEWAY_KEY: undefined, MCP_GATEWAY_URL: h.url } });
  return { code, out, err };
}

async function text(url: string, init?: RequestInit): Promise<{ status: number; text: string }> {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text() };
}

describe('values from env files', () => {
  it('never appear in plans, POST /admin/plan, GET /mcp/servers, metrics, errors or the log', async () => {
    const h = await startHarness(running1(), {}, FILES);
    await running(h.url, 'a');
    await running(h.url, 'b');
    const seen: string[] = [];

    // POST /admin/plan of a manifest that adds a top-level file (a new ${TOKEN} for a) and gives b another
    // env file: the gateway reads both where it runs, and answers with names.
    writeFileSync(path.join(h.dir, 'top2.env'), `TOKEN=${MARKER}-top2\n`);
    const next = running1('b2.env').replace('envFile: top.env', 'envFile: [top.env, top2.env]');
    const planned = await text(`${h.url}/admin/plan`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: next });
    seen.push(planned.text);
    expect(planned.status).toBe(200);
    expect((JSON.parse(planned.text) as Json).plan.restart).toEqual([
      { name: 'a', changed: ['args', 'env.API'] },
      { name: 'b', changed: ['envFromFile.B_ADDED', 'envFromFile.B_SECRET'] },
    ]);

    // A posted manifest naming a broken env file: the error names its line, not what is on it.
    const broken = await text(`${h.url}/admin/plan?file=next.yaml`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: running1('bad.env') });
    seen.push(broken.text);
    expect(broken.status).toBe(422);
    expect(JSON.parse(broken.text)).toEqual({ ok: false, file: 'next.yaml', errors: [`${path.join(h.dir, 'bad.env')}:2:1: no "=" on this line; write KEY=value, or start the line with # for a comment`] });

    // `mcp-gateway plan` against the gateway and against the running file, as text and as JSON.
    const nextFile = path.join(h.dir, 'next.yaml');
    writeFileSync(nextFile, next);
    const viaGateway = await run(h, [nextFile]);
    expect(viaGateway.err).toEqual([]);
    expect(viaGateway.code).toBe(2);
    expect(viaGateway.out).toContain('~ restart b (env.B_ADDED (from envFile), env.B_SECRET (from envFile))');
    const viaFile = await run(h, [nextFile, '--against', h.file]);
    expect(viaFile.out).toContain('~ restart b (env.B_ADDED (from envFile), env.B_SECRET (from envFile))');
    const json = await run(h, [nextFile, '--against', h.file, '--json']);
    seen.push(...[viaGateway, viaFile, json].flatMap((r) => [...r.out, ...r.err]));
    // Through the gateway, an error in one of its env files keeps that file's name (and the manifest's, FILE).
    const badFile = path.join(h.dir, 'bad.yaml');
    writeFileSync(badFile, running1('bad.env').replace('    command: node', '    comand: node'));
    const bad = await run(h, [badFile]);
    seen.push(...bad.out, ...bad.err);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${path.join(h.dir, 'bad.env')}:2:1: no "=" on this line; write KEY=value, or start the line with # for a comment`);
    expect(bad.err.some((l) => l.startsWith(`${badFile}:6:5: unknown key "comand"`))).toBe(true);

    // Applied for real: the status, the log line of the reload, the metrics.
    const seq = h.gateway.reconciler.passesStarted;
    h.write(next);
    await passAfter(h.gateway.reconciler, seq, (p) => p.result === 'applied');
    seen.push(JSON.stringify(await servers(h.url)));
    expect((await servers(h.url)).manifest.lastPlan).toBe('restarted a (args, env.API), b (env.B_ADDED (from envFile), env.B_SECRET (from envFile))');
    seen.push((await text(`${h.url}/metrics`)).text);

    // Errors: a value from the top-level file where it does not fit, and a broken server env file.
    const rejected = h.gateway.reconciler.passesStarted;
    h.write(running1('bad.env', '    stopTimeout: "${TOKEN}"\n'));
    await passAfter(h.gateway.reconciler, rejected, (p) => p.result === 'rejected');
    const status = await servers(h.url);
    seen.push(JSON.stringify(status));
    expect(status.manifest.errors).toEqual([
      `${h.file}:9:18: servers.a.stopTimeout: invalid duration; use a number with a unit, e.g. 500ms, 5s, 2m`,
      `${path.join(h.dir, 'bad.env')}:2:1: no "=" on this line; write KEY=value, or start the line with # for a comment`,
    ]);

    const everything = [...seen, ...h.logs].join('\n');
    expect(everything).not.toContain(MARKER);
    expect(everything).toContain('B_SECRET'); // named, as the plans above show
  });

  it('are named in place of their values in an apply failure quoting them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-envfile-secrets-'));
    const file = path.join(dir, 'mcp-gateway.yaml');
    writeFileSync(path.join(dir, 'top.env'), FILES['top.env']);
    writeFileSync(path.join(dir, 'b.env'), FILES['b.env']);
    writeFileSync(file, `version: 1\nenvFile: top.env\nservers:\n  b:\n    command: node\n    args: [${JSON.stringify(DEMO)}, "\${TOKEN}"]\n    envFile: b.env\n`);
    const logs: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
    // The other side of the unit fails, quoting what it was given, as an exception from a library might.
    const createServer = (spec: ServerSpec): ManagedServer => {
      throw new Error(`cannot set up ${spec.name}: ${spec.args.at(-1)} ${spec.envFromFile.B_SECRET}`);
    };
    const reconciler = new Reconciler(file, { log, env: { PATH: process.env.PATH }, version: 'test', createServer });
    owned.push(() => rmSync(dir, { recursive: true, force: true }), () => reconciler.close());
    const outcome = await reconciler.reload('boot');
    expect(outcome.ok).toBe(false);
    expect(reconciler.status.errors[0]).toContain('cannot set up b: ${TOKEN} ${B_SECRET}');
    expect([...reconciler.status.errors, ...logs].join('\n')).not.toContain(MARKER);
  });
});
