// Rollouts through a real gateway: a reload (or an API restart) provisions the new child beside the old
// one, swaps, and drains the old; a new child that fails leaves the old one serving and says why.
import { afterEach, describe, expect, it } from 'vitest';
import { alive, closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { statusOf as status } from './helpers.ts';
import { closeClients, connect, textOf } from '../helpers/mcp-client.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

async function command(h: Harness, server: string, method: string, params: Json = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${h.url}/mcp/${server}/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function call(h: Harness, server: string, tool: string, args: Json = {}): Promise<{ status: number; text: string; error?: string }> {
  const { status, body } = await command(h, server, 'tools/call', { name: tool, arguments: args });
  if (body.error !== undefined) return { status, text: '', error: `${body.error.code} ${body.error.message}` };
  return { status, text: textOf(body.result), ...(body.result.isError ? { error: textOf(body.result) } : {}) };
}

const withEnv = (greeting: string, extra = ''): string => manifest(demoServer('demo', `    env: { GREETING: ${greeting} }\n    drainTimeout: 5s\n${extra}`));

describe('rollout: overlap (the default)', () => {
  it('an env edit under 20 requests/s: no request fails, the new pid serves, the old one is gone after its drain', async () => {
    const h = await startHarness(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const oldPid = Number((await call(h, 'demo', 'pid')).text);

    const results: { text: string; error?: string }[] = [];
    let flowing = true;
    const load = (async () => {
      const sent: Promise<void>[] = [];
      while (flowing) {
        sent.push(call(h, 'demo', 'greet', { name: 'x' }).then((r) => void results.push(r)));
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(sent);
    })();
    // A call the old child has in flight at the swap: it finishes there.
    const slow = call(h, 'demo', 'slow', { ms: 1500, steps: 3 });
    await new Promise((r) => setTimeout(r, 300));
    h.write(withEnv('two'));
    await waitFor(() => results.some((r) => r.text === 'two, x!'), 'the new child answering', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    flowing = false;
    await load;

    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    expect(results.length).toBeGreaterThan(10);
    expect((await slow).error).toBeUndefined();
    const newPid = Number((await call(h, 'demo', 'pid')).text);
    expect(newPid).not.toBe(oldPid);
    await waitFor(() => !alive(oldPid), 'the old child gone after its drain', 10_000);
    const s = await status(h, 'demo');
    expect(s).toMatchObject({ state: 'running', pid: newPid, reason: null, rollout: null, draining: [], rolloutFailure: null });
    expect(s.rollouts).toEqual({ succeeded: 1, failed: 0 });
    expect(s.revision.running).toBe(s.revision.wanted);
  });

  it('a new child that exits at once: the old pid serves on, status names the failure and its stderr; fixing the manifest rolls out the fix', async () => {
    const h = await startHarness(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const oldPid = Number((await call(h, 'demo', 'pid')).text);
    const before = await status(h, 'demo');

    const broken = manifest(`  demo:\n    command: node\n    args: ["-e", "console.error('cannot open /data/lock: busy'); process.exit(3)"]\n    env: { GREETING: one }\n`);
    h.write(broken);
    const failed = await waitFor(async () => {
      const s = await status(h, 'demo');
      return s.rolloutFailure !== null ? s : undefined;
    }, 'the rollout failure shown', 15_000);
    expect(failed).toMatchObject({ state: 'running', reason: 'RolloutFailed', pid: oldPid });
    expect(failed.rolloutFailure).toMatchObject({ reason: 'RolloutFailed', exit: { code: 3, signal: null } });
    expect(failed.rolloutFailure.error).toMatch(/exited before answering initialize/);
    expect(failed.rolloutFailure.stderr).toContain('cannot open /data/lock: busy');
    expect(failed.rolloutFailure.running).toBe(before.revision.running);
    expect(failed.rolloutFailure.wanted).not.toBe(failed.rolloutFailure.running);
    expect(failed.revision.wanted).toBe(failed.rolloutFailure.wanted);
    expect(failed.rollouts).toEqual({ succeeded: 0, failed: 1 });
    // Still served by the old child, with the old environment.
    expect(await call(h, 'demo', 'greet', { name: 'x' })).toMatchObject({ text: 'one, x!' });
    expect(h.logs.some((l) => l.includes('rollout failed; the old child keeps serving'))).toBe(true);
    const summary = ((await (await fetch(`${h.url}/mcp/servers`)).json()) as Json).manifest.lastPlan as string;
    expect(summary).toMatch(/rollout of demo failed/);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('mcp_gateway_rollouts_total{server="demo",result="failed"} 1');
    expect(metrics).toContain('mcp_gateway_rollout_failed{server="demo"} 1');
    expect(metrics).toContain('mcp_gateway_server_state{server="demo",state="running"} 1');

    h.write(withEnv('fixed'));
    await waitFor(async () => (await call(h, 'demo', 'greet', { name: 'x' })).text === 'fixed, x!', 'the fix rolled out', 15_000);
    const fixed = await status(h, 'demo');
    expect(fixed).toMatchObject({ state: 'running', reason: null, rolloutFailure: null });
    expect(fixed.pid).not.toBe(oldPid);
    expect(fixed.revision.running).toBe(fixed.revision.wanted);
  });

  it('a manifest put back to what runs clears the failure without a new child', async () => {
    const h = await startHarness(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const pid = (await status(h, 'demo')).pid;
    h.write(manifest(`  demo:\n    command: node\n    args: ["-e", "process.exit(1)"]\n    env: { GREETING: one }\n    drainTimeout: 5s\n`));
    await waitFor(async () => (await status(h, 'demo')).rolloutFailure !== null, 'failure shown', 15_000);
    h.write(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo')).rolloutFailure === null, 'failure cleared', 15_000);
    expect(await status(h, 'demo')).toMatchObject({ pid, reason: null, state: 'running' });
  });

  it('a new child that never answers initialize fails after startTimeout; the old one never stopped serving', async () => {
    const h = await startHarness(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const pid = (await status(h, 'demo')).pid;
    h.write(withEnv('two', '    startTimeout: 1s\n    args: ["-e", "setInterval(() => {}, 1000)"]\n').replace(/    args: \[[^\n]*\]\n/, ''));
    const failed = await waitFor(async () => {
      const s = await status(h, 'demo');
      return s.rolloutFailure !== null ? s : undefined;
    }, 'failure shown', 15_000);
    expect(failed.rolloutFailure.error).toBe('initialize not answered within 1000ms');
    expect(failed.pid).toBe(pid);
    expect(await call(h, 'demo', 'greet')).toMatchObject({ text: 'one, world!' });
  });

  it('sessions hear tools/list_changed when the new child lists other tools, and keep their session across the swap', async () => {
    const h = await startHarness(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const c = await connect(`${h.url}/mcp/demo/mcp`);
    let changed = 0;
    const { ToolListChangedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    const before = (await c.client.listTools()).tools.map((t) => t.name);
    expect(before).not.toContain('v2_only');

    // Same lists: nothing to tell.
    h.write(withEnv('two'));
    await waitFor(async () => textOf(await c.client.callTool({ name: 'greet', arguments: {} })) === 'two, world!', 'two served', 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(changed).toBe(0);

    h.write(withEnv('three', '    env: { GREETING: three, DEMO_EXTRA_TOOL: v2_only }\n').replace('    env: { GREETING: three }\n', ''));
    await waitFor(() => changed > 0, 'tools/list_changed', 15_000);
    expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('v2_only');
    expect(textOf(await c.client.callTool({ name: 'greet', arguments: {} }))).toBe('three, world!');
  });

  it('an API restart rolls out too: the old pid serves until the new one answers', async () => {
    const h = await startHarness(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const oldPid = (await status(h, 'demo')).pid;
    const slow = call(h, 'demo', 'slow', { ms: 800, steps: 2 });
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`${h.url}/mcp/demo/restart`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await slow).error).toBeUndefined();
    const s = await waitFor(async () => {
      const x = await status(h, 'demo');
      return x.pid !== oldPid && x.draining.length === 0 ? x : undefined;
    }, 'new pid, drained', 10_000);
    expect(s.state).toBe('running');
    expect(alive(oldPid)).toBe(false);
  });

  it('a request still on the old child at drainTimeout gets an error that says so, and the old child is stopped', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { GREETING: one }\n    drainTimeout: 300ms\n')));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const oldPid = (await status(h, 'demo')).pid;
    const slow = call(h, 'demo', 'slow', { ms: 5000, steps: 1 });
    await new Promise((r) => setTimeout(r, 200));
    h.write(manifest(demoServer('demo', '    env: { GREETING: two }\n    drainTimeout: 300ms\n')));
    const r = await slow;
    expect(r.error).toMatch(/did not finish within drainTimeout \(300ms\)/);
    await waitFor(() => !alive(oldPid), 'old child stopped');
  });

  it('stopping the server during a rollout ends the new child, the old one and any draining', async () => {
    const h = await startHarness(withEnv('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const oldPid = (await status(h, 'demo')).pid;
    h.write(withEnv('two', '    env: { GREETING: two, DEMO_INIT_DELAY_MS: "3000" }\n').replace('    env: { GREETING: two }\n', ''));
    await waitFor(async () => (await status(h, 'demo')).rollout === 'provisioning', 'provisioning');
    const res = await fetch(`${h.url}/mcp/demo/stop`, { method: 'POST' });
    expect(res.status).toBe(200);
    const s = await status(h, 'demo');
    expect(s).toMatchObject({ state: 'stopped', pid: null, rollout: null });
    expect(alive(oldPid)).toBe(false);
    const spawned = h.logs.filter((l) => l.includes('rollout: new child spawned')).map((l) => JSON.parse(l).pid as number);
    expect(spawned).toHaveLength(1);
    await waitFor(() => !alive(spawned[0]!), 'the new child gone too');
  });
});

describe('rollout: replace', () => {
  it('stops the old child before the new one starts', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { GREETING: one }\n    rollout: replace\n')));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo running');
    const oldPid = (await status(h, 'demo')).pid;
    h.write(manifest(demoServer('demo', '    env: { GREETING: two }\n    rollout: replace\n')));
    await waitFor(async () => (await call(h, 'demo', 'greet')).text === 'two, world!', 'two served', 15_000);
    // The old one was gone before the new one was spawned: its exit is logged before the spawn.
    const exitAt = h.logs.findIndex((l) => l.includes('"msg":"child exited"') && l.includes(`"pid":${oldPid}`));
    const spawns = h.logs.map((l, i) => [l, i] as const).filter(([l]) => l.includes('"msg":"child spawned"'));
    expect(exitAt).toBeGreaterThan(-1);
    expect(spawns.at(-1)![1]).toBeGreaterThan(exitAt);
    expect(h.logs.some((l) => l.includes('rollout: new child spawned'))).toBe(false);
  });
});

describe('rollout of a per-session server', () => {
  it('running sessions keep their children; new sessions get the new spec', async () => {
    const ps = (greeting: string): string => manifest(demoServer('demo', `    sharing: per-session\n    env: { GREETING: ${greeting} }\n`));
    const h = await startHarness(ps('one'));
    await waitFor(async () => (await status(h, 'demo'))?.state === 'running', 'demo accepting sessions');
    const a = await connect(`${h.url}/mcp/demo/mcp`);
    const pidA = textOf(await a.client.callTool({ name: 'pid', arguments: {} }));
    h.write(ps('two'));
    await waitFor(async () => ((await (await fetch(`${h.url}/mcp/servers`)).json()) as Json).manifest.lastPlan?.includes('restarted demo'), 'edit applied');
    const b = await connect(`${h.url}/mcp/demo/mcp`);
    expect(textOf(await b.client.callTool({ name: 'greet', arguments: {} }))).toBe('two, world!');
    // The first session still talks to its own child, with its own environment.
    expect(textOf(await a.client.callTool({ name: 'pid', arguments: {} }))).toBe(pidA);
    expect(textOf(await a.client.callTool({ name: 'greet', arguments: {} }))).toBe('one, world!');
  });
});

describe('rollout failure seen by a key of one server', () => {
  it('shows the failure and its reason, but the new child\'s stderr only to admin keys', async () => {
    const keys = 'auth:\n  keys:\n    - { name: ops, key: ops-key-0123456789, servers: "*", admin: true }\n    - { name: app, key: app-key-0123456789, servers: [demo] }\n';
    const h = await startHarness(manifest(demoServer('demo'), keys));
    const as = async (key: string): Promise<Json> => {
      const body = (await (await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${key}` } })).json()) as Json;
      return body.servers.find((s: Json) => s.name === 'demo');
    };
    await waitFor(async () => (await as('ops-key-0123456789'))?.state === 'running', 'demo running');
    h.write(manifest(`  demo:\n    command: node\n    args: ["-e", "console.error('token=s3cr3t-value'); process.exit(2)"]\n`, keys));
    const ops = await waitFor(async () => {
      const s = await as('ops-key-0123456789');
      return s.rolloutFailure !== null ? s : undefined;
    }, 'failure shown', 15_000);
    expect(ops.rolloutFailure.stderr).toEqual(['token=s3cr3t-value']);
    const app = await as('app-key-0123456789');
    expect(app.rolloutFailure).toMatchObject({ reason: 'RolloutFailed', exit: { code: 2 }, stderr: [] });
    expect(JSON.stringify(app)).not.toContain('s3cr3t');
  });
});
