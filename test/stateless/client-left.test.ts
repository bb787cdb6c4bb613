// Review probe: a 2026 POST whose client leaves while a per-principal child is starting. modernPost
// awaits StatelessRegistry.binding() (the spawn) and only then creates the SseStream / registers
// res.once('close'); a connection that closed during the await never fires 'close' again.
import { afterEach, expect, it } from 'vitest';
import { closeAll, manifest, startHarness, waitFor } from '../helpers/gateway.ts';
import { body26, headers26, server, LATE } from './process-helpers.ts';

afterEach(closeAll);

const perSession = (initDelayMs: number) =>
  manifest(server('late', LATE, `    sharing: per-session\n    sessionIdleTimeout: 1s\n    env: { LATE_INIT_DELAY_MS: "${initDelayMs}" }\n`));

it('a listen whose client left while the per-principal child started is closed, and the child idles out', async () => {
  const h = await startHarness(perSession(800));
  const abort = new AbortController();
  const sent = fetch(`${h.url}/mcp/late/mcp`, {
    method: 'POST',
    headers: headers26('subscriptions/listen'),
    body: JSON.stringify(body26(1, 'subscriptions/listen', { notifications: { toolsListChanged: true } })),
    signal: abort.signal,
  }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200)); // the child is still answering initialize
  abort.abort();
  await sent;
  const stateless = h.gateway.stateless;
  const late = h.gateway.reconciler.servers.get('late')!;
  // The child comes up after 800 ms; the client left at 200 ms.
  await waitFor(() => late.status().state === 'running' && (late as any).sessions >= 1, 'the per-principal child up', 5000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 2500)); // > sessionIdleTimeout (1s) after the child came up
  expect.soft(stateless.listenStreams, 'listen streams left open for a client that is gone').toBe(0);
  expect.soft((late as any).sessions, 'per-principal children still running past sessionIdleTimeout').toBe(0);
});

it('a tools/call whose client left while the per-principal child started is not run', async () => {
  const h = await startHarness(perSession(800));
  const abort = new AbortController();
  const sent = fetch(`${h.url}/mcp/late/mcp`, {
    method: 'POST',
    headers: headers26('tools/call', 'slow'),
    body: JSON.stringify(body26(1, 'tools/call', { name: 'slow', arguments: { ms: 1500 } })),
    signal: abort.signal,
  }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200));
  abort.abort();
  await sent;
  const late = h.gateway.reconciler.servers.get('late')!;
  await new Promise((r) => setTimeout(r, 1200)); // the child is up (800 ms) and got the call
  // The spec: closing the stream cancels the request. The child should not be working on it.
  expect(late.inFlight, 'the call of a client that left runs on the child').toBe(0);
});
