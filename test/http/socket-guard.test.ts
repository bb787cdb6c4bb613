// Clients that stop reading their answers: the gateway closes a connection whose writes stall, and keeps
// the unsent bytes of all connections under a budget, heaviest first. Real gateway, real sockets that
// never read, the demo's `big` tool.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { overBudget } from '../../src/http/socket-guard.ts';
import { callTool, closeAll, demoServer, manifest, running, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';

const open: Socket[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await closeAll();
});

describe('overBudget', () => {
  it('closes the heaviest first, only as many as it takes', () => {
    expect(overBudget(new Map([['a', 5], ['b', 3]]), 8)).toEqual([]);
    expect(overBudget(new Map([['a', 5], ['b', 9], ['c', 1]]), 8)).toEqual(['b']);
    expect(overBudget(new Map([['a', 5], ['b', 6], ['c', 4]]), 4)).toEqual(['b', 'a']);
  });
});

/** A client that asks for a big answer and never reads it; resolves once the request is written. */
function neverReads(h: Harness, bytes: number): Promise<Socket> {
  const { port } = new URL(h.url);
  const body = JSON.stringify(callTool(1, 'big', { bytes }));
  return new Promise((resolve) => {
    const s = connect(Number(port), '127.0.0.1', () => {
      s.pause();
      s.write(`POST /mcp/demo/command HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      resolve(s);
    });
    s.on('error', () => {});
    open.push(s);
  });
}

async function dropped(h: Harness, reason: string): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  return Number(new RegExp(`mcp_gateway_sockets_dropped_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

describe('answers nobody reads', () => {
  it('a connection whose answer makes no progress is closed after the stall time; the gateway serves on', async () => {
    const h = await startHarness(manifest(demoServer('demo')), { socketGuard: { stallMs: 500 } });
    await running(h.url, 'demo');
    await neverReads(h, 8_000_000);
    await waitFor(async () => (await dropped(h, 'stalled')) === 1, 'the stalled connection closed', 10_000);
    expect(h.logs.some((l) => l.includes('does not read its answers'))).toBe(true);
    const ping = await fetch(`${h.url}/mcp/demo/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
    expect(await ping.json()).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
  });

  it('past the budget of unsent bytes, the heaviest connections are closed until the rest fits', async () => {
    const h = await startHarness(manifest(demoServer('demo')), { socketGuard: { stallMs: 600_000, budgetBytes: 12_000_000 } });
    await running(h.url, 'demo');
    for (const bytes of [3_000_000, 6_000_000, 9_000_000]) await neverReads(h, bytes);
    // 18 MB held (less what the kernel took) against 12 MB: the 9 MB answer goes, the others stay.
    await waitFor(async () => (await dropped(h, 'over-budget')) >= 1, 'a connection over the budget closed', 10_000);
    const idle = await fetch(`${h.url}/healthz`);
    expect(idle.status).toBe(200);
    expect(await dropped(h, 'stalled')).toBe(0);
  });
});
