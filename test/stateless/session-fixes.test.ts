// The 2025 session path (Streamable HTTP 2025-03-26 … 2025-11-25) on the same URL as the 2026 stateless path,
// in plain HTTP: an unknown Mcp-Session-Id is 404 whatever the method (initialize included), errors echo the
// request's id, and SSE streams (a POST answer given as SSE, the GET stream) begin with a priming event (an
// event id, empty data) with `retry:`, from which a client whose connection broke can resume.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoServer, startHarness, type Harness, type Json } from '../helpers/gateway.ts';
import { ACCEPT_BOTH, KEY_A, KEY_B, V2026, allRunning, conformanceServer, keyedManifest, readAnswer, textOf, type Answer } from './helpers.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness(keyedManifest(conformanceServer('a') + conformanceServer('b') + demoServer('d')));
  await allRunning(h, ['a', 'b', 'd']);
}, 30_000);
afterAll(() => h?.close());

const SSE_FIRST = 'text/event-stream, application/json';
const INIT = { jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'session-fixes', version: '1' } } };

function post(server: string, body: unknown, headers: Record<string, string> = {}, key = KEY_B, signal?: AbortSignal): Promise<Response> {
  return fetch(`${h.url}/mcp/${server}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, authorization: `Bearer ${key}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}

async function openSession(server = 'a', key = KEY_B): Promise<string> {
  const res = await post(server, INIT, {}, key);
  expect(res.status).toBe(200);
  await res.text();
  const sid = res.headers.get('mcp-session-id')!;
  expect(sid).toBeTruthy();
  await (await post(server, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, key)).text();
  return sid;
}

const inSession = (sid: string, more: Record<string, string> = {}) => ({ 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', ...more });

// ---------------------------------------------------------------- SSE, field by field

interface Event {
  readonly id?: string;
  readonly retry?: string;
  readonly event?: string;
  /** undefined: the event had no data line; '' for a priming event. */
  readonly data?: string;
}

function parseBlock(block: string): Event | undefined {
  const e: { id?: string; retry?: string; event?: string; data?: string } = {};
  let any = false;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i === -1 ? line : line.slice(0, i);
    const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
    any = true;
    if (field === 'data') e.data = e.data === undefined ? value : `${e.data}\n${value}`;
    else if (field === 'id' || field === 'retry' || field === 'event') e[field] = value;
  }
  return any ? e : undefined;
}

/** Reads SSE events from `res` until `enough(events)` holds (or the stream ends); then stops reading. */
async function readEvents(res: Response, enough: (events: Event[]) => boolean, timeoutMs = 8000): Promise<Event[]> {
  expect(res.headers.get('content-type') ?? '').toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Event[] = [];
  let buf = '';
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!enough(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let sep: RegExpExecArray | null;
      while ((sep = /\r?\n\r?\n/.exec(buf)) !== null) {
        const e = parseBlock(buf.slice(0, sep.index));
        buf = buf.slice(sep.index + sep[0].length);
        if (e !== undefined) events.push(e);
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return events;
}

const json = (e: Event | undefined): Json => (e?.data ? JSON.parse(e.data) : undefined);
/** "id:what" for each event, for assertion messages: `2:priming 1:response(13) 3:notifications/progress`. */
const summary = (events: Event[]): string =>
  events.map((e) => `${e.id ?? '-'}:${e.data === '' ? 'priming' : json(e)?.method ?? (json(e) ? `response(${json(e).id})` : '?')}`).join(' ');
const responseTo = (id: unknown) => (events: Event[]) => events.some((e) => json(e)?.id === id && ('result' in json(e) || 'error' in json(e)));

function expectPriming(e: Event | undefined): string {
  expect(e, 'a first event').toBeDefined();
  expect(e!.id, 'the priming event has an id').toMatch(/^\S+$/);
  expect(e!.data, 'the priming event has empty data').toBe('');
  expect(e!.retry, 'the priming event tells the client when to reconnect').toMatch(/^\d+$/);
  return e!.id!;
}

function getStream(sid: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${h.url}/mcp/a/mcp`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${KEY_B}`, ...inSession(sid), ...headers }, ...(signal === undefined ? {} : { signal }) });
}

/** Opens the session's GET stream, reads its priming event and breaks the connection; its id, once the stream is gone. */
async function primeThenBreak(sid: string): Promise<string> {
  const c = new AbortController();
  const [first] = await readEvents(await getStream(sid, {}, c.signal), (e) => e.length >= 1);
  const primer = expectPriming(first);
  c.abort();
  await waitForNoStream(sid);
  return primer;
}

/** A tools/call of test_trigger_tool_change in the session (the child adds or removes a tool and says so). */
const triggerToolChange = async (sid: string, id: number): Promise<Answer> =>
  readAnswer(await post('a', { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'test_trigger_tool_change', arguments: {} } }, inSession(sid)));
const listChanged = (events: Event[]) => events.some((x) => json(x)?.method === 'notifications/tools/list_changed');

// ---------------------------------------------------------------- tests

describe('an unknown Mcp-Session-Id', () => {
  const UNKNOWN = 'no-such-session-0000000000000000';

  it('is 404 for every method, initialize included, with the request id echoed', async () => {
    const bodies: [string, Json, string | number | null][] = [
      ['initialize', INIT, 'init'],
      ['tools/list', { jsonrpc: '2.0', id: 2, method: 'tools/list' }, 2],
      ['tools/call', { jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } }, 'c'],
      ['ping', { jsonrpc: '2.0', id: 0, method: 'ping' }, 0],
      ['a notification', { jsonrpc: '2.0', method: 'notifications/initialized' }, null],
      ['a response', { jsonrpc: '2.0', id: 'gw-1', result: {} }, 'gw-1'],
    ];
    // (A version a session cannot speak, such as 2026-07-28, is refused with 400 before the session is looked up.)
    for (const version of ['2025-11-25', '2025-03-26', undefined]) {
      for (const [what, body, id] of bodies) {
        const headers: Record<string, string> = { 'mcp-session-id': UNKNOWN, ...(version === undefined ? {} : { 'mcp-protocol-version': version }) };
        const a = await readAnswer(await post('a', body, headers));
        expect(a.status, `${what} (${version}): ${a.text}`).toBe(404);
        expect(a.messages[0], `${what} (${version})`).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32001 } });
      }
    }
    const get = await fetch(`${h.url}/mcp/a/mcp`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${KEY_B}`, 'mcp-session-id': UNKNOWN } });
    expect(get.status).toBe(404);
    expect(((await get.json()) as Json).error.code).toBe(-32001);
    const del = await fetch(`${h.url}/mcp/a/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY_B}`, 'mcp-session-id': UNKNOWN } });
    expect(del.status).toBe(404);
    expect(h.gateway.sessions.get(UNKNOWN)).toBeUndefined();
  });

  it('is 404 for a session of another key, of another server, and for an ended one', async () => {
    const sid = await openSession('a', KEY_B);
    const list = { jsonrpc: '2.0', id: 5, method: 'tools/list' };
    const otherKey = await readAnswer(await post('a', list, inSession(sid), KEY_A));
    expect(otherKey.status).toBe(404);
    expect(otherKey.messages[0]).toMatchObject({ id: 5, error: { code: -32001 } });
    const otherServer = await readAnswer(await post('b', list, inSession(sid)));
    expect(otherServer.status).toBe(404);
    expect(otherServer.messages[0]).toMatchObject({ id: 5, error: { code: -32001 } });
    // The owner still has it …
    expect((await readAnswer(await post('a', list, inSession(sid)))).response.result.tools.length).toBeGreaterThan(0);
    // … until it ends.
    await fetch(`${h.url}/mcp/a/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY_B}`, 'mcp-session-id': sid } });
    const ended = await readAnswer(await post('a', { ...INIT, id: 6 }, inSession(sid)));
    expect(ended.status).toBe(404);
    expect(ended.messages[0]).toMatchObject({ id: 6, error: { code: -32001 } });
  });
});

describe('MCP-Protocol-Version in a session (2025-11-25: "invalid or unsupported" → 400)', () => {
  it('refuses a request of a session that names a version nobody speaks', async () => {
    const sid = await openSession();
    for (const version of ['garbage', '2099-01-01']) {
      const a = await readAnswer(await post('a', { jsonrpc: '2.0', id: `v-${version}`, method: 'tools/list' }, inSession(sid, { 'mcp-protocol-version': version })));
      expect(a.status, `${version}: ${a.text.slice(0, 200)}`).toBe(400);
      expect(a.messages[0]?.id, version).toBe(`v-${version}`);
      expect(a.messages[0]?.result, version).toBeUndefined();
    }
    // The session itself is fine: with its own version it is answered.
    const ok = await readAnswer(await post('a', { jsonrpc: '2.0', id: 'v-ok', method: 'tools/list' }, inSession(sid)));
    expect(ok.status).toBe(200);
    expect(ok.response.result.tools.length).toBeGreaterThan(0);
  });
});

describe('2025 errors echo the request id', () => {
  it('for a missing session, a bad Accept, an invalid message and a second initialize', async () => {
    const noSession = await readAnswer(await post('a', { jsonrpc: '2.0', id: 'x1', method: 'tools/list' }));
    expect(noSession.status).toBe(400);
    expect(noSession.messages[0]).toMatchObject({ id: 'x1', error: { code: -32000 } });

    const badAccept = await readAnswer(await post('a', { jsonrpc: '2.0', id: 'x2', method: 'tools/list' }, { accept: 'application/json', 'mcp-protocol-version': '2025-11-25' }));
    expect(badAccept.status).toBe(406);
    expect(badAccept.messages[0]).toMatchObject({ id: 'x2', error: {} });

    const sid = await openSession();
    const invalid = await readAnswer(await post('a', { jsonrpc: '1.0', id: 77, method: 'tools/list' }, inSession(sid)));
    expect(invalid.status).toBe(400);
    expect(invalid.messages[0]).toMatchObject({ id: 77, error: { code: -32600 } });

    const again = await readAnswer(await post('a', { ...INIT, id: 'again' }, inSession(sid)));
    expect(again.status).toBe(400);
    expect(again.messages[0]).toMatchObject({ id: 'again', error: { code: -32600 } });
  });
});

describe('SSE priming on the 2025 path', () => {
  it('starts a POST answer given as SSE (text/event-stream preferred) with a priming event, then the response', async () => {
    const sid = await openSession();
    const res = await post('a', { jsonrpc: '2.0', id: 11, method: 'tools/list' }, inSession(sid, { accept: SSE_FIRST }));
    const events = await readEvents(res, responseTo(11));
    expectPriming(events[0]);
    expect(json(events.find((e) => json(e)?.id === 11)).result.tools.length).toBeGreaterThan(0);
  });

  it('numbers a POST answer given as SSE in order: the priming event first, with the lowest id', async () => {
    const sid = await openSession();
    const res = await post('a', { jsonrpc: '2.0', id: 13, method: 'tools/list' }, inSession(sid, { accept: SSE_FIRST }));
    const events = await readEvents(res, responseTo(13));
    const primer = expectPriming(events[0]);
    const answer = events.find((e) => json(e)?.id === 13)!;
    // Last-Event-ID names a point in the stream: an event after the priming event must have a later id.
    expect(Number(answer.id), summary(events)).toBeGreaterThan(Number(primer));
  });

  it('starts a POST answer that turned into SSE (progress before the result) with a priming event', async () => {
    const sid = await openSession();
    const body = { jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'pt-12' } } };
    const res = await post('a', body, inSession(sid));
    const events = await readEvents(res, responseTo(12));
    expectPriming(events[0]);
    expect(json(events[1]).method).toBe('notifications/progress');
    expect(textOf(json(events.find((e) => json(e)?.id === 12)).result)).toMatch(/^Done/);
  });

  it('starts the GET stream with a priming event', async () => {
    const sid = await openSession();
    const controller = new AbortController();
    const res = await getStream(sid, {}, controller.signal);
    expect(res.status).toBe(200);
    const events = await readEvents(res, (e) => e.length >= 1);
    expectPriming(events[0]);
    controller.abort();
  });

  it('resumes a POST answer from its priming event id (GET with Last-Event-ID)', async () => {
    // The demo's `big` reports progress at once and answers after `ms`: the stream is open long before the answer.
    const sid = await openSession('d');
    const controller = new AbortController();
    const body = { jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'big', arguments: { bytes: 5, ms: 1500 }, _meta: { progressToken: 'p-slow' } } };
    const res = await post('d', body, inSession(sid), KEY_B, controller.signal);
    const [first] = await readEvents(res, (e) => e.length >= 1);
    const primer = expectPriming(first);
    controller.abort(); // the connection breaks before the answer
    const resumed = await fetch(`${h.url}/mcp/d/mcp`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${KEY_B}`, ...inSession(sid), 'last-event-id': primer } });
    expect(resumed.status).toBe(200);
    // A resumed stream is primed with the id it resumes from; then everything after that id: the
    // progress notification, then the answer.
    const [again, ...events] = await readEvents(resumed, responseTo('slow'));
    expect(expectPriming(again)).toBe(primer);
    expect(events.map((e) => json(e)?.method ?? (json(e)?.id === 'slow' ? 'answer' : 'other')), `first stream ${primer}:priming; resumed ${summary(events)}`).toEqual(['notifications/progress', 'answer']);
    expect(textOf(json(events.at(-1)).result)).toBe('xxxxx');
  });

  it('resumes the GET stream from its priming event id: what was sent while it was down comes then', async () => {
    const sid = await openSession();
    const primer = await primeThenBreak(sid);
    const trigger = await triggerToolChange(sid, 21);
    expect(textOf(trigger.response.result)).toMatch(/test_dynamic_tool (added|removed)/);
    const c2 = new AbortController();
    const events = await readEvents(await getStream(sid, { 'last-event-id': primer }, c2.signal), listChanged);
    c2.abort();
    expect(events.map((e) => json(e)?.method ?? (e.data === '' ? 'priming' : '?'))).toContain('notifications/tools/list_changed');
  });

  it('numbers a resumed GET stream in order, so a break right after its priming event loses nothing', async () => {
    const sid = await openSession();
    const primer1 = await primeThenBreak(sid);
    await triggerToolChange(sid, 31);
    // Second connection: the client reads only the priming event, then the connection breaks.
    const c2 = new AbortController();
    const second = await readEvents(await getStream(sid, { 'last-event-id': primer1 }, c2.signal), listChanged);
    c2.abort();
    const ids = second.filter((e) => e.id !== undefined).map((e) => Number(e.id));
    // Event ids along one stream only grow: Last-Event-ID names a point after everything before it.
    expect.soft(ids, summary(second)).toEqual([...ids].sort((x, y) => x - y));
    // So a client that saw only the priming event of that stream and resumes from it still gets the change.
    await waitForNoStream(sid);
    const c3 = new AbortController();
    const third = await readEvents(await getStream(sid, { 'last-event-id': second[0]!.id! }, c3.signal), listChanged, 3000);
    c3.abort();
    expect(third.map((e) => json(e)?.method).filter(Boolean), `resumed from ${second[0]!.id}: ${summary(third)}`).toContain('notifications/tools/list_changed');
  });
});

async function waitForNoStream(sid: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (h.gateway.sessions.get(sid)?.hasStream === true && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(h.gateway.sessions.get(sid)?.hasStream).toBe(false);
}
