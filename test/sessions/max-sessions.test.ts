// maxSessions counts every session from the moment it exists: streamable sessions while they initialize,
// legacy streams before their initialize. Real gateway, real demo children, real HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { openSse, type SseReader } from '../helpers/sse.ts';
import { ErrorCode } from '../../src/protocol/jsonrpc.ts';

afterEach(closeAll);

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

async function initialize(h: Harness, server: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${h.url}/mcp/${server}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(INIT),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const sessionCount = async (h: Harness): Promise<number> => h.gateway.sessions.countFor('demo');

describe('SessionRegistry.create: maxSessions', () => {
  for (const [kind, extra] of [
    ['a shared child', ''],
    // Each session starts a child of its own, slowly: the initializes are all in flight at once.
    ['a per-session child that is slow to start', '    sharing: per-session\n    env: { DEMO_INIT_DELAY_MS: "300" }\n'],
  ] as const) {
    it(`five concurrent initializes with maxSessions 2 (${kind}): two sessions, three 503`, async () => {
      const h = await startHarness(manifest(demoServer('demo', `    maxSessions: 2\n${extra}`)));
      const answers = await Promise.all(Array.from({ length: 5 }, () => initialize(h, 'demo')));
      const ok = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status === 503);
      expect(ok).toHaveLength(2);
      expect(refused).toHaveLength(3);
      for (const r of refused) expect(r.body).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: ErrorCode.ServerUnavailable, message: expect.stringContaining('maxSessions (2)') } });
      expect(await sessionCount(h)).toBe(2);
    });
  }

  it('gives the place of a session whose initialize failed back', async () => {
    // The child crashes on start: every initialize fails, and none may keep a place.
    const h = await startHarness(manifest('  demo:\n    command: node\n    args: ["-e", "process.exit(3)"]\n    sharing: per-session\n    maxSessions: 1\n'));
    for (let i = 0; i < 3; i++) {
      const a = await initialize(h, 'demo');
      expect(a.status).toBeGreaterThanOrEqual(500); // the child's failure, not the limit
      expect(a.body.error.message).not.toContain('maxSessions');
    }
    expect(await sessionCount(h)).toBe(0);
  });

  it('three legacy streams with maxSessions 2: two streams, one 503 with a JSON-RPC error', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    maxSessions: 2\n')));
    const url = `${h.url}/mcp/demo/legacy/sse`;
    const streams: SseReader[] = [];
    const endpoints: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await openSse(url);
      streams.push(s);
      expect(s.status).toBe(200);
      endpoints.push((await s.next((e) => e.event === 'endpoint')).data);
    }
    const third = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(third.status).toBe(503);
    expect(await third.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: ErrorCode.ServerUnavailable, message: expect.stringContaining('maxSessions (2)') } });
    // The two that hold a place initialize (an excess stream left open would have made both refused).
    for (const [i, endpoint] of endpoints.entries()) {
      const res = await fetch(`${h.url}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(INIT) });
      expect(res.status).toBe(202);
      const answer = JSON.parse((await streams[i]!.next((e) => e.event === 'message')).data) as Json;
      expect(answer).toMatchObject({ id: 1, result: { serverInfo: { name: 'demo' } } });
    }
    // A streamable initialize is refused too: legacy streams hold places like any session.
    expect((await initialize(h, 'demo')).status).toBe(503);
    // A stream that closes gives its place back.
    streams[0]!.close();
    await waitFor(async () => (await sessionCount(h)) === 1, 'the closed stream ended');
    const again = await openSse(url);
    streams.push(again);
    expect(again.status).toBe(200);
    for (const s of streams) s.close();
  });
});
