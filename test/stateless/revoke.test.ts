// Review probe: a reload that removes a key. The 2025 path ends the key's sessions (their requests are
// cancelled, their answers never come); StatelessRegistry.revoke() ends listen streams and per-principal
// children only: the key's running and parked calls on a shared child go on.
import { afterEach, expect, it } from 'vitest';
import { closeAll, getJson, running, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { KEY_A, KEY_B, body26, last, lateBehindKeys, post26, reloadWith } from './process-helpers.ts';

afterEach(closeAll);

const keyed = (withA: boolean): string => lateBehindKeys(withA, '    clientCapabilities: [elicitation]\n    requestTimeout: 20s\n');
const reload = (h: Harness, withA: boolean): Promise<void> => reloadWith(h, keyed(withA));

async function traces(h: Harness): Promise<string[]> {
  const r = await fetch(`${h.url}/mcp/late/stderr`, { headers: { authorization: `Bearer ${KEY_B}` } });
  return ((await r.json()) as { lines: string[] }).lines.filter((l) => l.startsWith('trace: '));
}

it('a removed key does not get the result of its running 2026 call (as its 2025 session would not)', async () => {
  const h = await startHarness(keyed(true));
  await waitFor(() => h.gateway.reconciler.servers.get('late')?.state === 'running', 'late running');
  const call = post26(h.url, 'late', body26(1, 'tools/call', { name: 'slow', arguments: { ms: 1500 } }), { key: KEY_A });
  await new Promise((r) => setTimeout(r, 300));
  await reload(h, false);
  const answer = await call;
  // The key is gone: the gateway should have cancelled the call, not delivered its result.
  expect(JSON.stringify(last(answer) ?? null)).not.toContain('done');
  expect((await traces(h)).some((l) => l.includes('notifications/cancelled'))).toBe(true);
});

it('a removed key\'s parked call is ended (the child\'s call cancelled), not left until the round expires', async () => {
  const h = await startHarness(keyed(true));
  await waitFor(() => h.gateway.reconciler.servers.get('late')?.state === 'running', 'late running');
  const first = await post26(h.url, 'late', body26(1, 'tools/call', { name: 'late_ask', arguments: { delayMs: 0 } }, { elicitation: {} }), { key: KEY_A });
  expect(last(first).result.resultType).toBe('input_required');
  expect(h.gateway.stateless.parkedCalls).toBe(1);
  await reload(h, false);
  await new Promise((r) => setTimeout(r, 300));
  expect.soft(h.gateway.stateless.parkedCalls, 'parked calls of the removed key').toBe(0);
  expect.soft(h.gateway.reconciler.servers.get('late')!.inFlight, 'child calls held for the removed key').toBe(0);
});

it('baseline: the same on the 2025 session path (passes: the session ends, its call is cancelled)', async () => {
  const h = await startHarness(keyed(true));
  await waitFor(() => h.gateway.reconciler.servers.get('late')?.state === 'running', 'late running');
  const H = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${KEY_A}` };
  const init = await fetch(`${h.url}/mcp/late/mcp`, { method: 'POST', headers: H, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) });
  const sid = init.headers.get('mcp-session-id')!;
  await init.text();
  const call = fetch(`${h.url}/mcp/late/mcp`, { method: 'POST', headers: { ...H, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow', arguments: { ms: 1500 } } }) }).then((r) => r.text(), (e: Error) => e.message);
  await new Promise((r) => setTimeout(r, 300));
  await reload(h, false);
  expect(await call).not.toContain('done');
});
