// subscriptions/listen (2026-07-28, basic/patterns/subscriptions) in plain HTTP against the conformance
// fixture: the acknowledgement comes first and carries the honoured filter; a change notification carries
// the listen request's id as io.modelcontextprotocol/subscriptionId; a stream gets only the kinds it asked
// for (and never request-scoped messages); closing the stream releases it in the gateway; a server that goes
// away ends the subscription with a completion result.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { readSse, type SseStream } from '../helpers/sse.ts';
import { KEY_B, allRunning, callParams, conformanceServer, heard, keyedManifest, meta, modern, modernFetch, textOf } from './helpers.ts';

const SUB = 'io.modelcontextprotocol/subscriptionId';

let h: Harness;
let dir: string;
let tapA: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-listen-'));
  tapA = path.join(dir, 'a.stdin.jsonl');
  h = await startHarness(keyedManifest(conformanceServer('a', { tapLog: tapA }) + conformanceServer('b') + conformanceServer('p', { sharing: 'per-session' })));
  await allRunning(h, ['a', 'b']);
}, 30_000);
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A listen stream: its JSON-RPC messages as they come (the SSE reader's events, parsed). */
interface Listen extends SseStream<Json> {
  readonly messages: Json[];
}

/** Opens a subscriptions/listen stream and reads it as it comes. */
async function listen(server: string, id: string | number, notifications: unknown, key = KEY_B): Promise<Listen> {
  const controller = new AbortController();
  const res = await modernFetch(h, server, 'subscriptions/listen', { notifications }, { id, key, signal: controller.signal });
  const stream = readSse(res, controller, (e) => JSON.parse(e.data) as Json);
  return { ...stream, messages: stream.events };
}

const method = (name: string) => (m: Json) => m.method === name;
const trigger = async (server: string, tool: 'test_trigger_tool_change' | 'test_trigger_prompt_change') => {
  const a = await modern(h, server, 'tools/call', callParams(tool));
  expect(a.status, a.text).toBe(200);
  expect(textOf(a.response.result)).toMatch(/(added|removed); list_changed sent/);
};

describe('subscriptions/listen', () => {
  it('acknowledges first, with the filter it honours', async () => {
    const all = await listen('a', 'listen-all', { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true, resourceSubscriptions: ['test://watched-resource'], somethingElse: true });
    expect(all.status).toBe(200);
    expect(all.contentType).toMatch(/^text\/event-stream/);
    const ack = await all.next(() => true);
    expect(ack).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: {
        notifications: { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true, resourceSubscriptions: ['test://watched-resource'] },
        _meta: { [SUB]: 'listen-all' },
      },
    });
    // What was not asked for (false, or left out) is not honoured.
    const some = await listen('a', 7, { toolsListChanged: false, promptsListChanged: true });
    expect(await some.next(() => true)).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { promptsListChanged: true }, _meta: { [SUB]: 7 } } });
    expect(Object.keys(some.messages[0].params.notifications)).toEqual(['promptsListChanged']);
    all.close();
    some.close();
  });

  it('refuses a filter that is not an object, with the request id', async () => {
    const a = await modern(h, 'a', 'subscriptions/listen', { notifications: ['toolsListChanged'] }, { id: 'bad-filter' });
    expect(a.status).toBe(400);
    expect(a.response).toMatchObject({ id: 'bad-filter', error: { code: -32602 } });
  });

  it('tags tools/list_changed with the listen request id (shared child, string id)', async () => {
    const l = await listen('a', 'listen-tools', { toolsListChanged: true });
    await l.next(method('notifications/subscriptions/acknowledged'));
    await trigger('a', 'test_trigger_tool_change');
    const n = await l.next(method('notifications/tools/list_changed'));
    expect(n.params._meta[SUB]).toBe('listen-tools');
    expect(n.id).toBeUndefined();
    l.close();
  });

  it('tags tools/list_changed with the listen request id (the principal’s own child, numeric id)', async () => {
    const l = await listen('p', 4242, { toolsListChanged: true });
    await l.next(method('notifications/subscriptions/acknowledged'));
    await trigger('p', 'test_trigger_tool_change');
    const n = await l.next(method('notifications/tools/list_changed'));
    expect(n.params._meta[SUB]).toBe(4242);
    l.close();
  });

  it('gives a stream filtered to prompts no tools/list_changed, and no request-scoped messages', async () => {
    const prompts = await listen('a', 'prompts-only', { promptsListChanged: true });
    const tools = await listen('a', 'tools-only', { toolsListChanged: true });
    await prompts.next(method('notifications/subscriptions/acknowledged'));
    await tools.next(method('notifications/subscriptions/acknowledged'));
    await trigger('a', 'test_trigger_tool_change');
    await tools.next(method('notifications/tools/list_changed'));
    // A tool that logs and reports progress while it runs: neither belongs on a listen stream.
    const logged = await modern(h, 'a', 'tools/call', callParams('test_tool_with_progress'), { meta: meta({}, { 'io.modelcontextprotocol/logLevel': 'debug', progressToken: 'p1' }) });
    expect(logged.status).toBe(200);
    expect(logged.messages.filter((m) => m.method === 'notifications/progress').length, 'progress went to the call itself').toBeGreaterThan(0);
    const logging = await modern(h, 'a', 'tools/call', callParams('test_tool_with_logging'), { meta: meta({}, { 'io.modelcontextprotocol/logLevel': 'debug' }) });
    expect(logging.status).toBe(200);
    await trigger('a', 'test_trigger_prompt_change');
    // The child writes its notifications in order: once the prompts change is here, the tools one would be too.
    const p = await prompts.next(method('notifications/prompts/list_changed'));
    expect(p.params._meta[SUB]).toBe('prompts-only');
    expect(prompts.messages.map((m) => m.method)).toEqual(['notifications/subscriptions/acknowledged', 'notifications/prompts/list_changed']);
    for (const m of tools.messages) expect(['notifications/subscriptions/acknowledged', 'notifications/tools/list_changed']).toContain(m.method);
    prompts.close();
    tools.close();
  });

  it('releases a stream the client closes', async () => {
    await waitFor(() => h.gateway.stateless.listenStreams === 0, 'earlier streams released');
    const l = await listen('a', 'to-close', { toolsListChanged: true });
    await l.next(method('notifications/subscriptions/acknowledged'));
    const p = await listen('p', 'to-close-too', { toolsListChanged: true });
    await p.next(method('notifications/subscriptions/acknowledged'));
    expect(h.gateway.stateless.listenStreams).toBe(2);
    l.close();
    await waitFor(() => h.gateway.stateless.listenStreams === 1, 'the closed stream released');
    p.close();
    await waitFor(() => h.gateway.stateless.listenStreams === 0, 'both released');
    // A change after the close reaches nobody and breaks nothing.
    await trigger('a', 'test_trigger_tool_change');
  });

  it('subscribes the child to a listened resource, and unsubscribes it when the stream closes', async () => {
    const uri = 'test://watched-resource';
    const heardOf = (m: string) => heard(tapA).filter((x) => x.method === m && x.params?.uri === uri).length;
    await waitFor(() => h.gateway.stateless.listenStreams === 0, 'earlier streams released');
    const [subscribes, unsubscribes] = [heardOf('resources/subscribe'), heardOf('resources/unsubscribe')];
    const l = await listen('a', 'watch', { resourceSubscriptions: [uri] });
    try {
      expect((await l.next(() => true)).params.notifications).toEqual({ resourceSubscriptions: [uri] });
      await waitFor(() => heardOf('resources/subscribe') === subscribes + 1, `the child hears resources/subscribe (${JSON.stringify(heard(tapA).filter((x) => String(x.method).startsWith('resources/')))})`);
    } finally {
      l.close();
    }
    await waitFor(() => heardOf('resources/unsubscribe') === unsubscribes + 1, 'the child hears resources/unsubscribe');
  });

  it('does not acknowledge a resource subscription the child refused', async () => {
    // The fixture refuses a subscription to a resource it does not have (-32002); the acknowledgement is
    // "the subset the server agreed to honor".
    const l = await listen('a', 'watch-nothing', { resourceSubscriptions: ['test://no-such-resource'], toolsListChanged: true });
    const ack = await l.next(() => true);
    l.close();
    expect(ack.params.notifications.resourceSubscriptions ?? [], JSON.stringify(ack)).not.toContain('test://no-such-resource');
  });

  it('ends the subscription with a completion result when its server leaves the manifest', async () => {
    const l = await listen('b', 'on-b', { toolsListChanged: true });
    await l.next(method('notifications/subscriptions/acknowledged'));
    h.write(keyedManifest(conformanceServer('a') + conformanceServer('p', { sharing: 'per-session' })));
    const done = await l.next((m) => m.id === 'on-b', 10_000);
    expect(done).toEqual({ jsonrpc: '2.0', id: 'on-b', result: { resultType: 'complete', _meta: { [SUB]: 'on-b' } } });
    await l.ended;
    await waitFor(() => h.gateway.stateless.listenStreams === 0, 'the stream released');
  });
});
