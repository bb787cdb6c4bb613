import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO, alive, waitFor, type Json } from '../helpers/gateway.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';

const started: GatewayProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const g of started.splice(0)) if (g.proc.exitCode === null && g.proc.signalCode === null) g.proc.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function gatewayWith(extra: string): Promise<GatewayProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-life-'));
  dirs.push(dir);
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0${extra} }\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n`);
  const g = await spawnGateway(['--config', file]);
  started.push(g);
  return g;
}

async function demoPid(g: GatewayProcess): Promise<number> {
  return waitFor(async () => {
    const body = (await (await fetch(`${g.url}/mcp/servers`)).json()) as Json;
    const s = body.servers.find((x: Json) => x.name === 'demo');
    return s?.state === 'running' ? (s.pid as number) : undefined;
  }, 'demo running', 10_000);
}

const slowCall = (url: string, i: number) =>
  fetch(`${url}/mcp/demo/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'slow', arguments: { ms: 1000, steps: 2 } } }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));

describe('shutdown', () => {
  it('SIGTERM lets 20 requests in flight finish, turns not-ready, stops the child and exits 0', async () => {
    const g = await gatewayWith('');
    const pid = await demoPid(g);
    const calls = Array.from({ length: 20 }, (_, i) => slowCall(g.url, i));
    await waitFor(async () => ((await (await fetch(`${g.url}/mcp/servers`)).json()) as Json).servers[0].inFlight === 20, '20 in flight');
    g.proc.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${g.url}/readyz`).catch(() => ({ status: 0 }))).status === 503, 'not ready while draining');
    const answers = await Promise.all(calls);
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ id: i, result: { content: [{ text: 'waited 1000ms' }] } });
    }
    expect(await g.exited).toBe(0);
    expect(alive(pid)).toBe(false);
  });

  it('answers requests still in flight after the grace period with an error, and still exits 0', async () => {
    const g = await gatewayWith(', shutdownGrace: 200ms');
    await demoPid(g);
    const call = fetch(`${g.url}/mcp/demo/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 30_000 } } }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }), (e: Error) => ({ status: 0, body: e.message }));
    await waitFor(async () => ((await (await fetch(`${g.url}/mcp/servers`)).json()) as Json).servers[0].inFlight === 1, 'the call in flight');
    g.proc.kill('SIGTERM');
    const answer = await call;
    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe(-32000);
    expect(await g.exited).toBe(0);
  });

  it('leaves no child behind when the gateway is killed with SIGKILL', async () => {
    const g = await gatewayWith('');
    const pid = await demoPid(g);
    g.proc.kill('SIGKILL');
    await g.exited;
    // The child sees its stdin close and exits by itself.
    await waitFor(() => !alive(pid), 'child gone', 10_000);
  });
});
