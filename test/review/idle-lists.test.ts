// Review probes of 71abdc6 (idle servers answer their lists from the last child). Real gateway, real
// children, loopback HTTP. Tests marked DEFECT fail at 214d8a1.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { closeClients, connect } from '../helpers/mcp-client.ts';
import { statusOf, inState, callTool } from '../supervisor/helpers.ts';
import { CONFORMANCE } from '../stateless/helpers.ts';
import { body26, last, post26 } from '../stateless/process-helpers.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixture-lists.cjs');

afterEach(async () => {
  await closeClients();
  await closeAll();
});

const spawns = (h: Harness): number => h.logs.filter((l) => l.includes('spawned')).length;

async function command(h: Harness, server: string, method: string, params: Json = {}): Promise<Json> {
  const res = await fetch(`${h.url}/mcp/${server}/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as Json;
}

it('DEFECT: listing prompts on /mcp starts an idle member that declares no prompts (an undeclared list is not kept)', async () => {
  const od = '    start: on-demand\n    idleStop: 300ms\n';
  const conf = `  conf:\n    command: node\n    args: [${JSON.stringify(CONFORMANCE)}]\n${od}`;
  const h = await startHarness(manifest(demoServer('demo', od) + conf));
  const first = await connect(`${h.url}/mcp`);
  await first.client.listTools();
  await first.client.listPrompts();
  await first.client.listResources();
  await first.close();
  await waitFor(async () => (await statusOf(h, 'demo')).state === 'idle' && (await statusOf(h, 'conf')).state === 'idle', 'both idle', 8000);
  const before = spawns(h);

  // What an ordinary client does on connect: the united capabilities declare prompts (conf has them).
  const later = await connect(`${h.url}/mcp`);
  await later.client.listTools();
  await later.client.listResources();
  expect(spawns(h)).toBe(before); // tools and resources: answered from the kept lists
  // Every page, as a client that lists prompts does (conf's page comes first, then the cursor goes to demo).
  let cursor: string | undefined;
  do cursor = (await later.client.listPrompts(cursor === undefined ? {} : { cursor })).nextCursor;
  while (cursor !== undefined);
  expect((await statusOf(h, 'demo')).state).toBe('idle'); // fails: demo (no prompts capability) was started
  expect(spawns(h)).toBe(before);
});

it('holds: a 2026 stateless tools/list of an idle server gets resultType, ttlMs and cacheScope, without a child', async () => {
  const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    idleStop: 300ms\n')));
  await command(h, 'demo', 'tools/list');
  await inState(h, 'demo', 'idle');
  const before = spawns(h);
  const r = last(await post26(h.url, 'demo', body26(7, 'tools/list', { _meta: { progressToken: 'p' } })));
  expect(r.id).toBe(7);
  expect(r.result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'public' });
  expect(r.result.tools.map((t: Json) => t.name)).toContain('echo');
  expect(spawns(h)).toBe(before);
});

it('DEFECT: after a failed rollout the idle server keeps answering the lists of the process the manifest no longer asks for', async () => {
  const h = await startHarness(manifest(''));
  const fail = path.join(h.dir, 'fail');
  const spec = (extra: string) => manifest(`  fx:\n    command: node\n    args: [${JSON.stringify(FIXTURE)}]\n    start: on-demand\n    idleStop: 400ms\n    env: { FAIL_IF: ${JSON.stringify(fail)}${extra} }\n`);
  h.write(spec(''));
  expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
  expect((await callTool(h, 'fx', 'base')).result.content[0].text).toMatch(/^called base/);

  // The edit's new process fails to start (once): the rollout fails, the old child serves on.
  writeFileSync(fail, '');
  h.write(spec(', EXTRA_TOOL: fresh'));
  expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
  await waitFor(async () => (await statusOf(h, 'fx')).rolloutFailure !== null, 'rollout failed', 8000);
  rmSync(fail);
  expect(existsSync(fail)).toBe(false);

  // Idle stop of the OLD child: its lists are read and kept although the next child is the new spec.
  await inState(h, 'fx', 'idle', 8000);
  const listed = (await command(h, 'fx', 'tools/list')).result.tools.map((t: Json) => t.name);
  const call = await callTool(h, 'fx', 'fresh'); // starts the new spec: the tool exists
  expect(call.result.content[0].text).toMatch(/^called fresh/);
  expect(listed).toContain('fresh'); // fails: ['base'], the old process's list
});

it('DEFECT: an aggregate client that relists on list_changed restarts an on-demand member at every idle stop (a loop)', async () => {
  const { ToolListChangedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
  const h = await startHarness(manifest(demoServer('a', '    start: on-demand\n    idleStop: 300ms\n')));
  const c = await connect(`${h.url}/mcp`);
  let relists = 0;
  // What hosts do: list_changed → list again (the aggregate says list_changed when a member stops).
  c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    relists++;
    void c.client.listTools().catch(() => {});
  });
  await c.client.listTools();
  expect(spawns(h)).toBe(1);
  await new Promise((r) => setTimeout(r, 3000)); // ten idleStops
  expect(relists).toBeGreaterThan(0);
  // One child for the first list, then idle for good (the relists are answered from the kept list).
  expect(spawns(h)).toBe(1); // fails: ~5 spawns: the relist sent on running→stopping waits out the stop, then wakes it
});
