// What a session keeps for replay, seen from a real client: answers written in full are not kept, an
// answer whose stream broke waits for the client's Last-Event-ID, one too large for the session budget
// does not, and an ended session gives its share of the budget back. Real gateway, demo child, HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { SESSION_REPLAY_BYTES } from '../../src/sessions/event-log.ts';

afterEach(closeAll);

/** text/event-stream listed first: every answer comes as SSE, with an event id. */
const SSE_FIRST = 'text/event-stream, application/json';
const INIT = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

async function open(h: Harness): Promise<string> {
  const res = await fetch(`${h.url}/mcp/demo/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: SSE_FIRST }, body: JSON.stringify(INIT) });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

function bigCall(sid: string, h: Harness, id: number, args: Record<string, number>, progress = false): Promise<Response> {
  return fetch(`${h.url}/mcp/demo/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: SSE_FIRST, 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'big', arguments: args, ...(progress ? { _meta: { progressToken: `p${id}` } } : {}) } }),
  });
}

/** The data of each SSE event in `text`, parsed. */
function events(text: string): { id: string | undefined; data: Json }[] {
  return text
    .split('\n\n')
    .filter((b) => /^data: .+$/m.test(b)) // not the priming event (an id and empty data)
    .map((b) => ({ id: /^id: (.*)$/m.exec(b)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as Json }));
}

/** Reads a POST's SSE answer until its first event with an id, then breaks the connection. */
async function breakAfterFirstEvent(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  // Past the priming event (an id, empty data): the first event that carries a message.
  const first = /^id: (\d+)\ndata: .+$/m;
  while (!first.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  return first.exec(text)![1]!;
}

const textLength = (answer: Json): number => (answer.result.content[0].text as string).length;

describe('session replay log', () => {
  it('keeps nothing of answers written in full, however large', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const sid = await open(h);
    for (let i = 1; i <= 5; i++) {
      const res = await bigCall(sid, h, i, { bytes: 1_000_000 });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const [answer] = events(await res.text());
      expect(answer!.id).toMatch(/^\d+$/);
      expect(answer!.data.id).toBe(i);
      expect(textLength(answer!.data)).toBe(1_000_000);
    }
    // Progress before the answer is dropped with it once the answer is written.
    const withProgress = events(await (await bigCall(sid, h, 6, { bytes: 10, ms: 50 }, true)).text());
    expect(withProgress.map((e) => e.data.method ?? 'answer')).toEqual(['notifications/progress', 'answer']);
    expect(h.gateway.sessions.replay.used).toBe(0);
  });

  it('keeps an answer whose stream broke and replays it on GET with Last-Event-ID', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const sid = await open(h);
    const lastId = await breakAfterFirstEvent(await bigCall(sid, h, 1, { bytes: 3_000_000, ms: 300 }, true));
    await waitFor(() => h.gateway.sessions.replay.used > 6_000_000, 'the answer kept for replay');
    const resumed = await fetch(`${h.url}/mcp/demo/mcp`, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': lastId } });
    const replay = events(await resumed.text());
    expect(replay).toHaveLength(1);
    expect(replay[0]!.data.id).toBe(1);
    expect(textLength(replay[0]!.data)).toBe(3_000_000);
    // The session's end gives its share of the gateway's budget back.
    await fetch(`${h.url}/mcp/demo/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    expect(h.gateway.sessions.replay.used).toBe(0);
  });

  it('keeps a small error in place of an answer larger than the session budget, which a resuming client gets', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const sid = await open(h);
    const bytes = SESSION_REPLAY_BYTES / 2 + 1000; // two bytes a character: over the budget
    await breakAfterFirstEvent(await bigCall(sid, h, 1, { bytes, ms: 200 }, true));
    await waitFor(async () => ((await (await fetch(`${h.url}/mcp/servers`)).json()) as Json).servers[0].inFlight === 0, 'the answer arrived');
    const session = h.gateway.sessions.get(sid)!;
    const kept = session.events.after(0, 'req:n1').filter((e) => e.data !== '').map((e) => JSON.parse(e.data) as Json);
    expect(kept).toHaveLength(2);
    expect(kept[0].method).toBe('notifications/progress');
    expect(kept[1]).toMatchObject({ id: 1, error: { code: -32603, message: expect.stringMatching(/larger than a session keeps/) } });
    expect(h.gateway.sessions.replay.used).toBeLessThan(2000);
    // The client resumes from the progress event and gets that error as its answer.
    const progressId = session.events.after(0, 'req:n1').find((e) => e.data !== '')!.seq;
    const resumed = await fetch(`${h.url}/mcp/demo/mcp`, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': String(progressId) } });
    const replay = events(await resumed.text());
    expect(replay.map((e) => e.data)).toEqual([expect.objectContaining({ id: 1, error: expect.objectContaining({ code: -32603 }) })]);
  });
});
