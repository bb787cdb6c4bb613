// Review probe of 71abdc6: a child that answers tools/list with `"result": null` (valid JSON-RPC shape to
// checkMessage) makes readList throw (rollout.ts: `response.result[field]`) inside the idle stop. The
// rejection escapes `void this.#enqueue(...)` in #idleCheck: the gateway process dies (no
// unhandledRejection handler), and the child is never stopped. DEFECT: fails at 214d8a1.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';
import { closeAll, manifest, startHarness } from '../helpers/gateway.ts';
import { callTool, inState, statusOf } from '../supervisor/helpers.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixture-lists.cjs');
let gw: GatewayProcess | undefined;
let dir: string | undefined;

afterEach(async () => {
  await closeAll();
  await gw?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

it('DEFECT: an idle stop of a child whose tools/list result is null crashes the gateway process', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-review-'));
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
  expect(exited).toBe('alive'); // fails: the process exited (unhandled rejection: TypeError)
  const status = ((await (await fetch(`${gw.url}/mcp/servers`)).json()) as any).servers.find((s: any) => s.name === 'fx');
  expect(status.state).toBe('idle');
});

it('DEFECT (in process): the same idle stop leaves the server in "stopping" for good, its child never stopped', async () => {
  const h = await startHarness(manifest(`  fx:\n    command: node\n    args: [${JSON.stringify(FIXTURE)}]\n    start: on-demand\n    idleStop: 300ms\n    env: { LIST_NULL: "1" }\n`));
  expect((await callTool(h, 'fx', 'base')).result.content[0].text).toMatch(/^called base/);
  await inState(h, 'fx', 'idle', 4000); // fails: stuck in "stopping" (and vitest reports the unhandled TypeError)
  expect((await statusOf(h, 'fx')).pid).toBeNull();
});
