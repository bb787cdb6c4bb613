// What an idle on-demand server answers from its last child's lists (supervisor/idle-lists.ts), against
// real children and a real gateway: an undeclared list, a 2026 request, a failed rollout, a client that lists
// again on list_changed, and a child whose list answer is broken (the gateway stays up, the server goes idle).
import { mkdtempSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { closeClients, connect } from '../helpers/mcp-client.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';
import { statusOf, inState, callTool } from './helpers.ts';
import { CONFORMANCE } from '../stateless/helpers.ts';
import { body26, last, post26 } from '../stateless/process-helpers.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lists-server.cjs');
let gw: GatewayProcess | undefined;
let dir: string | undefined;

afterEach(async () => {
  await closeClients();
  await closeAll();
  await gw?.stop();
  gw = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
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

it('listing prompts on /mcp does not start an idle member that declares none (its "method not found" is kept)', async () => {
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
  expect((await statusOf(h, 'demo')).state).toBe('idle');
  expect(spawns(h)).toBe(before);
});

it('a 2026 stateless tools/list of an idle server gets resultType, ttlMs and cacheScope, without a child', async () => {
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

it('after a failed rollout the old child\'s lists are not kept: the next list starts the process the manifest asks for', async () => {
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
  expect(listed).toContain('fresh');
});

it('an idle stop tells aggregate sessions nothing: a client that lists again on list_changed does not wake the member in a loop', async () => {
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
  await inState(h, 'a', 'idle', 4000);
  await new Promise((r) => setTimeout(r, 1500)); // five idleStops more
  // One child for the first list, then idle for good: the stop was no change of the session's lists.
  expect(relists).toBe(0);
  expect(spawns(h)).toBe(1);
});

it('a child that answers tools/list with a null result: the idle stop still goes idle, and the gateway process lives', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-idle-lists-'));
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n  fx:\n    command: node\n    args: [${JSON.stringify(FIXTURE)}]\n    start: on-demand\n    idleStop: 300ms\n    env: { LIST_NULL: "1" }\n`);
  gw = await spawnGateway(['--config', file]);
  const call = await fetch(`${gw.url}/mcp/fx/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'base', arguments: {} } }),
  });
  expect(call.status).toBe(200);
  // Past idleStop (checked every 75 ms): the server should be idle, the gateway alive.
  const exited = await Promise.race([gw.exited, new Promise<'alive'>((r) => setTimeout(r, 2500, 'alive'))]);
  if (exited !== 'alive') console.log(gw.out.slice(-6).join('\n'));
  expect(exited).toBe('alive');
  const status = ((await (await fetch(`${gw.url}/mcp/servers`)).json()) as any).servers.find((s: any) => s.name === 'fx');
  expect(status.state).toBe('idle');
});

it('the same, in process: the server goes idle and its child is stopped', async () => {
  const h = await startHarness(manifest(`  fx:\n    command: node\n    args: [${JSON.stringify(FIXTURE)}]\n    start: on-demand\n    idleStop: 300ms\n    env: { LIST_NULL: "1" }\n`));
  expect((await callTool(h, 'fx', 'base')).result.content[0].text).toMatch(/^called base/);
  await inState(h, 'fx', 'idle', 4000);
  expect((await statusOf(h, 'fx')).pid).toBeNull();
});
