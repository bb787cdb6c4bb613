// Review probe: a 2026 tools/call whose params._meta holds a deeply nested value. callDigest() skips
// _meta, toChildParams() keeps unknown _meta keys, and the router's JSON.stringify of the child's message
// throws RangeError inside RequestTable.admit's Promise executor: router.request() rejects. StatelessCall
// .start() does `void router.request(...).then(settle)`, so the rejection is unhandled and Node (default
// --unhandled-rejections=throw) takes the whole gateway down. One POST, a key for any server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { GatewayProcess } from '../helpers/process-gateway.ts';
import { body26, headers26, spawnDemoGateway } from './process-helpers.ts';

let gw: GatewayProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gw?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DEEP = '__DEEP__';
/** The body as text, with a value nested `depth` arrays deep in place of DEEP (JSON.stringify cannot). */
function withDeep(body: unknown, depth: number): string {
  return JSON.stringify(body).replace(JSON.stringify(DEEP), '['.repeat(depth) + ']'.repeat(depth));
}

it('one POST with a deeply nested _meta value does not crash the gateway', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-review-'));
  gw = await spawnDemoGateway(dir);
  const body = body26(1, 'tools/call', { name: 'echo', arguments: { text: 'hi' }, _meta: { x: DEEP } });
  const res = await fetch(`${gw.url}/mcp/demo/mcp`, { method: 'POST', headers: headers26('tools/call', 'echo'), body: withDeep(body, 20_000) }).catch((e: Error) => e);
  console.log('answer:', res instanceof Error ? res.message : res.status);
  await new Promise((r) => setTimeout(r, 1000));
  const alive = await fetch(`${gw.url}/healthz`).then((r) => r.status, (e: Error) => e.message);
  console.log('exit code:', gw.proc.exitCode, gw.out.filter((l) => /RangeError|at /.test(l)).join('').slice(0, 1500));
  expect(alive).toBe(200);
});
