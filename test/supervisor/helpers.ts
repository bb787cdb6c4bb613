// Small helpers of the supervision edge tests (real gateway, loopback HTTP).
import { waitFor, type Harness, type Json } from '../helpers/gateway.ts';

export async function statusOf(h: Harness, name: string, key?: string): Promise<Json> {
  const res = await fetch(`${h.url}/mcp/servers`, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });
  return ((await res.json()) as Json).servers.find((s: Json) => s.name === name);
}

export async function callTool(h: Harness, server: string, tool: string, args: Json = {}): Promise<Json> {
  const res = await fetch(`${h.url}/mcp/${server}/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } }),
  });
  return (await res.json()) as Json;
}

export async function inState(h: Harness, name: string, state: string, timeoutMs = 10_000): Promise<Json> {
  return waitFor(async () => {
    const s = await statusOf(h, name);
    return s?.state === state ? s : undefined;
  }, `${name} ${state}`, timeoutMs);
}

/** Pids of every child the gateway logged as spawned (launches and rollouts). */
export function spawnedPids(h: Harness): number[] {
  return h.logs.filter((l) => l.includes('spawned')).map((l) => JSON.parse(l).pid as number).filter((p) => typeof p === 'number');
}
