// The official MCP Inspector's CLI mode (`npx @modelcontextprotocol/inspector --cli …`, installed by this test
// into .cache/inspector, pinned) against the aggregate endpoints: /mcp over Streamable HTTP and /sse over
// legacy HTTP+SSE. It lists the tools of three servers (one per-session) and calls one of each, and every
// call is checked by pid against GET /mcp/servers: it reached its own child. Each CLI run is a session of its
// own (connect, one method, exit), so each run gets a per-session child of its own.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { ROOT, alive, authKeys, closeAll, demoServer, getJson, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { needTool } from '../helpers/tools.ts';

const INSPECTOR_VERSION = '2.12.0';
const CACHE = path.join(ROOT, '.cache', 'inspector');
const PKG_DIR = path.join(CACHE, 'node_modules', '@modelcontextprotocol', 'inspector');

/** Installs the pinned Inspector into .cache/inspector unless it is there; why it cannot be used, or undefined. */
function installInspector(): string | undefined {
  const pkg = path.join(PKG_DIR, 'package.json');
  if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version === INSPECTOR_VERSION) return undefined;
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(path.join(CACHE, 'package.json'), '{"private":true}\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', CACHE, `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`], { encoding: 'utf8' });
  if (r.error !== undefined) return `npm cannot run (${r.error.message})`;
  if (r.status !== 0) return `npm install @modelcontextprotocol/inspector@${INSPECTOR_VERSION} failed: ${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join(' ')}`;
  return undefined;
}

let installed: string | undefined | null = null;
function needInspector(ctx: TestContext): void {
  if (installed === null) installed = installInspector();
  needTool(ctx, {
    name: `MCP Inspector ${INSPECTOR_VERSION} (the test installs it into .cache/inspector)`,
    missing: installed,
    enable: `npm install --prefix .cache/inspector @modelcontextprotocol/inspector@${INSPECTOR_VERSION} (needs the npm registry)`,
  });
}

/** The package's `mcp-inspector` bin: what `npx @modelcontextprotocol/inspector` runs. */
function inspectorBin(): string {
  const pkg = JSON.parse(readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return path.join(PKG_DIR, pkg.bin['mcp-inspector']!);
}

const ALL = 'inspector-key-for-everything';
const MANIFEST = manifest(demoServer('a') + demoServer('b') + demoServer('c', '    sharing: per-session\n'), authKeys([{ name: 'all', key: ALL, servers: '*' }]));

let home: string | undefined;
afterEach(async () => {
  await closeAll();
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
  home = undefined;
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `mcp-inspector --cli args…` with a HOME of its own (it keeps a catalog and storage under ~/.mcp-inspector);
 *  async, so this process keeps serving the in-process gateway meanwhile. */
function cli(args: string[]): Promise<Run> {
  home ??= mkdtempSync(path.join(tmpdir(), 'mcp-gw-inspector-home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith('MCP_')) delete env[k];
  const proc = spawn(process.execPath, [inspectorBin(), '--cli', ...args], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill(), 60_000);
  return new Promise((resolve) =>
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

type Face = { readonly path: '/mcp'; readonly transport: 'http' } | { readonly path: '/sse'; readonly transport: 'sse' };

/** One CLI run against the face with the key, `--format json`: its parsed result (the run must succeed). */
async function call(h: Harness, face: Face, method: string[]): Promise<Json> {
  const args = [`${h.url}${face.path}`, '--transport', face.transport, '--header', `Authorization: Bearer ${ALL}`, '--format', 'json', '--method', ...method];
  const r = await cli(args);
  expect(r.code, `inspector ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return (JSON.parse(r.stdout) as Json).result;
}

const textOf = (result: Json): string => (result.content as { text?: string }[]).map((c) => c.text ?? '').join('');

interface Row {
  name: string;
  pid: number | null;
  children?: { pid: number | null }[];
}

async function rows(h: Harness): Promise<Row[]> {
  return (await getJson(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${ALL}` } })).servers as Row[];
}

/** The shared servers a and b have their children (GET /mcp/servers needs the key here). */
async function bothRunning(h: Harness): Promise<void> {
  await waitFor(async () => (await rows(h)).filter((r) => (r.name === 'a' || r.name === 'b') && r.pid !== null).length === 2, 'a and b running');
}

const childPids = (rs: Row[]): number[] => (rs.find((r) => r.name === 'c')?.children ?? []).map((c) => c.pid).filter((p): p is number => p !== null);

/** `c__pid` through the CLI, watching c's children in GET /mcp/servers while it runs: the pid it answered and
 *  the child pids seen before and during the run. */
async function perSessionPid(h: Harness, face: Face): Promise<{ pid: number; before: number[]; seen: Set<number> }> {
  const before = childPids(await rows(h));
  const seen = new Set<number>();
  let done = false;
  const watch = (async () => {
    while (!done) {
      for (const p of childPids(await rows(h))) seen.add(p);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const pid = Number(textOf(await call(h, face, ['tools/call', '--tool-name', 'c__pid'])));
    for (const p of childPids(await rows(h))) seen.add(p);
    return { pid, before, seen };
  } finally {
    done = true;
    await watch;
  }
}

/** The tools/list of a run, and the checks common to both faces; the CLI follows the endpoint's cursors. */
async function listsThree(h: Harness, face: Face): Promise<void> {
  const names = ((await call(h, face, ['tools/list'])).tools as { name: string }[]).map((t) => t.name);
  expect(new Set(names.map((n) => n.split('__')[0]))).toEqual(new Set(['a', 'b', 'c']));
  for (const s of ['a', 'b', 'c']) expect(names).toEqual(expect.arrayContaining([`${s}__echo`, `${s}__pid`, `${s}__slow`]));
  // One page per server: every server's whole list, nothing twice.
  expect(names.filter((n) => n.endsWith('__echo'))).toHaveLength(3);
  expect(new Set(names).size).toBe(names.length);
}

/** a__pid and b__pid through the CLI answer the shared children's pids from GET /mcp/servers. */
async function sharedCallsReachTheirChildren(h: Harness, face: Face): Promise<{ a: number; b: number }> {
  const rs = await rows(h);
  const a = rs.find((r) => r.name === 'a')!.pid!;
  const b = rs.find((r) => r.name === 'b')!.pid!;
  expect(a).not.toBe(b);
  expect(Number(textOf(await call(h, face, ['tools/call', '--tool-name', 'a__pid'])))).toBe(a);
  expect(Number(textOf(await call(h, face, ['tools/call', '--tool-name', 'b__pid'])))).toBe(b);
  return { a, b };
}

function spawnedFor(h: Harness, server: string): number[] {
  return h.logs
    .map((l) => JSON.parse(l) as Json)
    .filter((l) => l.msg === 'child spawned' && l.server === server)
    .map((l) => l.pid as number);
}

describe('the MCP Inspector CLI on the aggregate endpoints', () => {
  it('/mcp (Streamable HTTP): lists three servers, and each call reaches its own child', { timeout: 300_000 }, async (ctx) => {
    needInspector(ctx);
    const h = await startHarness(MANIFEST);
    await bothRunning(h);
    const face: Face = { path: '/mcp', transport: 'http' };

    // The key goes as --header "Authorization: Bearer …"; without it the gateway's 401 stops the CLI
    // (auth_required, exit 3: it does not start an OAuth flow with --stored-auth-only).
    const refused = await cli([`${h.url}/mcp`, '--transport', 'http', '--format', 'json', '--stored-auth-only', '--method', 'tools/list']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stdout + refused.stderr).toMatch(/auth_required[\s\S]*a key is required/);

    await listsThree(h, face);
    const shared = await sharedCallsReachTheirChildren(h, face);
    // --tool-arg key=value reaches the child as the tool's argument.
    expect(textOf(await call(h, face, ['tools/call', '--tool-name', 'b__echo', '--tool-arg', 'text=through the inspector']))).toBe('through the inspector');

    // The per-session server: this run's session got a child of its own, which answered the call.
    const c = await perSessionPid(h, face);
    expect(c.before).not.toContain(c.pid);
    expect([...c.seen]).toContain(c.pid);
    expect([shared.a, shared.b]).not.toContain(c.pid);
    expect(spawnedFor(h, 'c')).toContain(c.pid);
    // A second run is a second session: another child. (This CLI sends no DELETE when it exits, so over
    // Streamable HTTP its session, and the child, stay until the aggregate's idle timeout.)
    const again = await perSessionPid(h, face);
    expect(again.pid).not.toBe(c.pid);
    expect([...again.seen]).toContain(again.pid);
  });

  it('/sse (legacy HTTP+SSE): lists three servers, each call reaches its own child, and the session ends with the stream', { timeout: 300_000 }, async (ctx) => {
    needInspector(ctx);
    const h = await startHarness(MANIFEST);
    await bothRunning(h);
    const face: Face = { path: '/sse', transport: 'sse' };

    await listsThree(h, face);
    const shared = await sharedCallsReachTheirChildren(h, face);
    expect(textOf(await call(h, face, ['tools/call', '--tool-name', 'a__echo', '--tool-arg', 'text=over sse']))).toBe('over sse');

    const c = await perSessionPid(h, face);
    expect(c.before).not.toContain(c.pid);
    expect([...c.seen]).toContain(c.pid);
    expect([shared.a, shared.b]).not.toContain(c.pid);
    expect(spawnedFor(h, 'c')).toContain(c.pid);
    // The CLI closed its stream on exit: the legacy session ended, and its per-session child was stopped.
    await waitFor(async () => !childPids(await rows(h)).includes(c.pid) && !alive(c.pid), `c's child ${c.pid} stopped after the CLI left`, 10_000);
    expect(childPids(await rows(h))).toEqual([]);
  });
});
