// Review probe: subscriptions/listen takes any number of resourceSubscriptions. Each URI becomes a
// resources/subscribe request to the child (ListenStream.open: one router.request per URI, outside
// maxInFlight and the key's rate limit) and, once accepted, an entry in the router's #subscriptions.
// A few listen POSTs within the body limit (4 MB) grow the gateway's heap by hundreds of MB; the
// gateway runs with --max-old-space-size=256.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { GatewayProcess } from '../helpers/process-gateway.ts';
import { body26, headers26, spawnDemoGateway } from './process-helpers.ts';

let gw: GatewayProcess | undefined;
let dir: string | undefined;
const open: AbortController[] = [];
afterEach(async () => {
  for (const a of open) a.abort();
  await gw?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('listen streams with many resourceSubscriptions stay within the heap', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-review-'));
  gw = await spawnDemoGateway(dir);
  const before = gw.rssBytes();
  const N = 300_000;
  for (let k = 0; k < 4 && gw.proc.exitCode === null; k++) {
    const uris = Array.from({ length: N }, (_, i) => `u${k}-${i}`);
    const body = JSON.stringify(body26(k, 'subscriptions/listen', { notifications: { resourceSubscriptions: uris } }));
    const a = new AbortController();
    open.push(a);
    const res = await fetch(`${gw.url}/mcp/demo/mcp`, { method: 'POST', headers: headers26('subscriptions/listen'), body, signal: a.signal }).catch((e: Error) => e);
    console.log(`listen ${k}: body ${(body.length / 2 ** 20).toFixed(1)} MB, status ${res instanceof Error ? res.message : res.status}`);
    await new Promise((r) => setTimeout(r, 4000));
    let rss = 'gone';
    try {
      rss = `${(gw.rssBytes() / 2 ** 20).toFixed(0)} MB`;
    } catch {}
    console.log(`  rss ${rss} (was ${(before / 2 ** 20).toFixed(0)} MB)`);
  }
  await new Promise((r) => setTimeout(r, 200));
  const alive = gw.proc.exitCode === null ? await fetch(`${gw.url}/healthz`).then((r) => r.status, (e: Error) => e.message) : `exited ${gw.proc.exitCode}`;
  if (alive !== 200) console.log(gw.out.filter((l) => /heap|memory|FATAL/i.test(l)).join('').slice(0, 600));
  expect(alive).toBe(200);
}, 60_000);
