// Review probe: StatelessRegistry.revoke() releases a per-principal child without clearing its idle
// timer (release() takes the child out of PerSessionServer before it stops, so #childEnded never runs).
// When that stale timer fires it deletes `#children.get(server).delete(principal)` — whatever child the
// principal has by then — so the principal's live child is orphaned and the next request spawns another.
import { afterEach, expect, it } from 'vitest';
import { closeAll, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { KEY_A, KEY_B, body26, last, lateBehindKeys, post26, reloadWith } from './process-helpers.ts';

afterEach(closeAll);

const keyed = (withA: boolean): string => lateBehindKeys(withA, '    sharing: per-session\n    sessionIdleTimeout: 1500ms\n');
const reload = (h: Harness, withA: boolean): Promise<void> => reloadWith(h, keyed(withA));

const count = async (h: Harness, id: number): Promise<string> =>
  last(await post26(h.url, 'late', body26(id, 'tools/call', { name: 'count', arguments: {} }), { key: KEY_A })).result.content[0].text;

it('a principal keeps one child after its key is removed and added back', async () => {
  const h = await startHarness(keyed(true));
  const late = h.gateway.reconciler.servers.get('late') as unknown as { sessions: number; state: string };
  await waitFor(() => late.state === 'running', 'late accepting');
  expect(await count(h, 1)).toBe('1'); // child C1; its idle timer (1.5 s) is armed now
  const t0 = Date.now();
  await reload(h, false); // revoke: C1 released, its idle timer left armed
  await reload(h, true);
  const slow = post26(h.url, 'late', body26(2, 'tools/call', { name: 'slow', arguments: { ms: 3000 } }), { key: KEY_A }); // child C2, busy
  await waitFor(() => late.sessions === 1, 'C2 up');
  await new Promise((r) => setTimeout(r, Math.max(0, 1500 - (Date.now() - t0)) + 300)); // C1's stale timer fired
  const n = await count(h, 3); // should run on C2 (its 2nd call)
  expect.soft(n, 'the call went to a fresh child, not the principal\'s running one').toBe('2');
  expect.soft(late.sessions, 'children alive for one principal').toBe(1);
  await slow;
});
