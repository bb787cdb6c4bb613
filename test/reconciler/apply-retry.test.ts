// A manifest whose apply fails is tried again, the Kubernetes / Caddy way: it is not "seen", so the next
// look at the same bytes (the watch's periodic look is a `file` pass) plans and applies what is missing.
// The reconciler and its children are real; only the server factory, the other side of the unit, fails
// on purpose the first time it is asked for one server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerSpec } from '../../src/config/types.ts';
import { createLogger } from '../../src/log.ts';
import { Reconciler, type PassReport } from '../../src/reconciler/reconciler.ts';
import { createManagedServer, type ManagedServer } from '../../src/supervisor/managed-server.ts';
import type { SupervisorDeps } from '../../src/supervisor/supervisor.ts';
import { DEMO, waitFor } from '../helpers/gateway.ts';

const TOKEN = 'SECRET_MARKER_apply_5d1c';
const owned: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of owned.splice(0).reverse()) await close();
});

/** A server factory that throws, once, for `failing`, as a supervisor that cannot be set up would. */
function failingOnce(failing: string, always = false): { createServer: (spec: ServerSpec, deps: SupervisorDeps) => ManagedServer; calls: string[] } {
  const calls: string[] = [];
  let failed = false;
  const createServer = (spec: ServerSpec, deps: SupervisorDeps): ManagedServer => {
    calls.push(spec.name);
    if (spec.name === failing && (always || !failed)) {
      failed = true;
      throw new Error(`cannot set up ${spec.name} with ${spec.args.at(-1)}`);
    }
    return createManagedServer(spec, deps);
  };
  return { createServer, calls };
}

function setUp(failing: string, always = false): { reconciler: Reconciler; calls: string[]; logs: string[]; passes: PassReport[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-retry-'));
  const file = path.join(dir, 'mcp-gateway.yaml');
  const server = (name: string): string => `  ${name}:\n    command: node\n    args: [${JSON.stringify(DEMO)}, "--token=\${APPLY_TOKEN}"]\n`;
  writeFileSync(file, `version: 1\nservers:\n${server('a')}${server('b')}`);
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  const { createServer, calls } = failingOnce(failing, always);
  const reconciler = new Reconciler(file, { log, env: { ...process.env, APPLY_TOKEN: TOKEN }, version: 'test', createServer });
  const passes: PassReport[] = [];
  reconciler.onPass((p) => passes.push(p));
  owned.push(() => rmSync(dir, { recursive: true, force: true }), () => reconciler.close());
  return { reconciler, calls, logs, passes };
}

const runningPid = (r: Reconciler, name: string): number | undefined => {
  const s = r.servers.get(name)?.status();
  return s?.state === 'running' && s.pid !== null ? s.pid : undefined;
};

describe('Reconciler.reload after an apply that failed', () => {
  it('says why in status, then applies the same bytes at the next look, keeping what was applied', async () => {
    const { reconciler, calls, logs, passes } = setUp('b');
    const first = await reconciler.reload('boot');
    expect(first.ok).toBe(false);
    expect(reconciler.status).toMatchObject({ state: 'error', appliedHash: null });
    expect(reconciler.status.errors).toEqual([
      'applying the manifest failed: cannot set up b with --token=${APPLY_TOKEN}; the last good version keeps running where it was not replaced, and the next look tries again',
    ]);
    expect(reconciler.desired).toBeUndefined();
    const pidA = await waitFor(() => runningPid(reconciler, 'a'), 'a running');
    expect(reconciler.servers.has('b')).toBe(false);

    // The watch's periodic look: the same bytes, a `file` pass. Before the fix it was skipped as seen.
    const again = await reconciler.reload('file');
    expect(again.ok).toBe(true);
    expect(again.plan).toMatchObject({ start: ['b'], keep: ['a'] });
    expect(reconciler.status).toMatchObject({ state: 'ok', errors: [], lastPlan: 'started b; kept a' });
    expect(reconciler.status.appliedHash).toBe(reconciler.desired?.hash);
    await waitFor(() => runningPid(reconciler, 'b'), 'b running');
    expect(runningPid(reconciler, 'a')).toBe(pidA);
    expect(calls).toEqual(['a', 'b', 'b']);
    expect(passes.map((p) => [p.seq, p.trigger, p.result])).toEqual([
      [1, 'boot', 'failed'],
      [2, 'file', 'applied'],
    ]);

    // Applied now: the next look at the same bytes is no news.
    await reconciler.reload('file');
    expect(passes.at(-1)).toMatchObject({ seq: 3, result: 'unchanged' });
    const text = logs.join('\n');
    expect(text).toContain('apply failed; trying again at the next look');
    expect(text).not.toContain(TOKEN);
    expect(JSON.stringify(reconciler.status)).not.toContain(TOKEN);
  });

  it('counts a failure that repeats at every look once: one error line, one failed reload for the metrics', async () => {
    const { reconciler, logs, passes } = setUp('b', true);
    const failures: boolean[] = [];
    reconciler.onReload((ok) => failures.push(ok));
    for (const trigger of ['boot', 'file', 'file', 'file'] as const) await reconciler.reload(trigger);
    expect(passes.map((p) => p.result)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(failures).toEqual([false]);
    expect(logs.filter((l) => l.includes('apply failed; trying again')).length).toBe(1);
    expect(logs.filter((l) => l.includes('apply failed again')).length).toBe(3);
  });

  it('never answers a failed apply by rejecting: a reload through the API gets ok: false', async () => {
    const { reconciler } = setUp('a');
    await expect(reconciler.reload('api')).resolves.toMatchObject({ ok: false });
    await expect(reconciler.reload('api')).resolves.toMatchObject({ ok: true });
  });
});
