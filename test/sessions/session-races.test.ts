// A session's races, unit by unit: a real Session over a real Router, the child faked on PassThrough
// streams (test/router/fake-child.ts), the client's connections faked as sinks, timers faked. Each request
// gets exactly one answer on the sink it belongs to, whatever comes first.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { routerBinding } from '../../src/sessions/binding.ts';
import { ReplayBudget } from '../../src/sessions/event-log.ts';
import { Session } from '../../src/sessions/session.ts';
import type { Sink } from '../../src/sessions/sink.ts';
import type { JsonRpcRequest } from '../../src/protocol/jsonrpc.ts';
import { call, detachAll, flush, routerWithChild } from '../router/fake-child.ts';

// setImmediate stays real: Session.close lets settled answers out with one before closing the sinks.
beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }));
afterEach(() => {
  detachAll();
  vi.useRealTimers();
});

/** A client connection: what was sent on it, how it ended, and whether it is still open. */
class FakeSink implements Sink {
  open = true;
  readonly streaming: boolean;
  readonly sent: string[] = [];
  finished: { data: string; status: number | undefined } | undefined;
  finishes = 0;
  constructor(streaming = false) {
    this.streaming = streaming;
  }
  send(data: string): void {
    if (this.open) this.sent.push(data);
  }
  finish(data: string, _eventId?: string, status?: number): boolean {
    this.finishes++;
    if (!this.open) return false;
    this.finished = { data, status };
    this.open = false;
    return true;
  }
  close(): void {
    this.open = false;
  }
  answer(): Record<string, unknown> | undefined {
    return this.finished === undefined ? undefined : (JSON.parse(this.finished.data) as Record<string, unknown>);
  }
}

function boundSession(options: Parameters<typeof routerWithChild>[0] = {}) {
  const { router, child } = routerWithChild(options);
  const session = new Session('s1', 'demo', 'streamable', undefined, new ReplayBudget());
  const disconnect = router.connect(session);
  session.bind(routerBinding(router, { protocolVersion: '2025-11-25', capabilities: {} }, async () => disconnect()), { capabilities: { sampling: {} } });
  return { router, child, session };
}

describe('Session.request races', () => {
  it('the session ends with a request in flight: the child hears a cancel, the answer that comes later goes nowhere', async () => {
    const { child, session } = boundSession();
    const sink = new FakeSink();
    const done = session.request(call(1) as JsonRpcRequest, sink);
    await flush();
    const [sent] = child.requests('tools/call');
    await session.close('client went away');
    await flush();
    expect(child.cancelled()).toEqual([sent.id]);
    expect((await done).failure).toBe('cancelled');
    child.answer(sent.id, { late: true });
    await flush();
    expect(sink.finishes).toBe(1);
    expect(sink.answer()).toMatchObject({ id: 1, error: { code: -32800 } });
  });

  it('the child goes away with requests in flight: each is answered once, on its own sink, at once', async () => {
    const { router, child, session } = boundSession();
    const sinks = [new FakeSink(), new FakeSink()];
    const done = sinks.map((s, i) => session.request(call(i + 1) as JsonRpcRequest, s));
    await flush();
    expect(child.requests('tools/call')).toHaveLength(2);
    router.detach('exited (code 1)');
    const results = await Promise.all(done);
    expect(results.map((r) => r.failure)).toEqual(['closed', 'closed']);
    expect(sinks.map((s) => s.answer()?.id)).toEqual([1, 2]);
    expect(sinks.map((s) => s.finishes)).toEqual([1, 1]);
  });

  it('timeout against answer: whichever comes first is the one answer', async () => {
    const { child, session } = boundSession({ requestTimeoutMs: 1000 });
    const early = new FakeSink();
    const late = new FakeSink();
    const first = session.request(call('early') as JsonRpcRequest, early);
    const second = session.request(call('late') as JsonRpcRequest, late);
    await flush();
    const [a, b] = child.requests('tools/call');
    await vi.advanceTimersByTimeAsync(999);
    child.answer(a.id, { ok: 1 });
    await flush();
    await vi.advanceTimersByTimeAsync(1);
    child.answer(b.id, { ok: 2 });
    await flush();
    expect((await first).failure).toBeUndefined();
    expect(early.answer()).toMatchObject({ id: 'early', result: { ok: 1 } });
    expect((await second).failure).toBe('timeout');
    expect(late.answer()).toMatchObject({ id: 'late', error: { code: -32001 } });
    expect([early.finishes, late.finishes]).toEqual([1, 1]);
    expect(child.cancelled()).toEqual([b.id]);
  });

  it('progress keeps a request alive past requestTimeout and rides on its own sink', async () => {
    const { child, session } = boundSession({ requestTimeoutMs: 1000, requestTimeoutMaxMs: 10_000 });
    const sink = new FakeSink(true);
    const message = { ...call(9), params: { name: 'slow', arguments: {}, _meta: { progressToken: 'tok' } } } as JsonRpcRequest;
    const done = session.request(message, sink);
    await flush();
    const [sent] = child.requests('tools/call');
    for (let i = 1; i <= 4; i++) {
      await vi.advanceTimersByTimeAsync(800);
      child.progress(sent.params._meta.progressToken, i);
      await flush();
    }
    child.answer(sent.id, { done: true });
    expect((await done).failure).toBeUndefined();
    expect(sink.sent.map((d) => JSON.parse(d).params.progress)).toEqual([1, 2, 3, 4]);
    expect(sink.sent.every((d) => JSON.parse(d).params.progressToken === 'tok')).toBe(true);
    expect(sink.answer()).toMatchObject({ id: 9, result: { done: true } });
  });

  it('a request that reuses an id in flight is refused on its own sink; the first still gets its answer', async () => {
    const { child, session } = boundSession();
    const first = new FakeSink();
    const again = new FakeSink();
    const done = session.request(call(3) as JsonRpcRequest, first);
    await session.request(call(3) as JsonRpcRequest, again);
    expect(again.answer()).toMatchObject({ id: 3, error: { code: -32600 } });
    await flush();
    expect(child.requests('tools/call')).toHaveLength(1);
    child.answer(child.requests('tools/call')[0].id, { n: 3 });
    await done;
    expect(first.answer()).toMatchObject({ id: 3, result: { n: 3 } });
  });
});

describe('Session: a request from the child to the client', () => {
  it('unanswered: the child gets a timeout error once; a late client answer is dropped', async () => {
    const { child, session } = boundSession({ requestTimeoutMs: 1000, exclusive: true });
    const stream = new FakeSink(true);
    session.attachStream(stream);
    child.send({ jsonrpc: '2.0', id: 'ask-1', method: 'sampling/createMessage', params: {} });
    await flush();
    expect(stream.sent).toHaveLength(1);
    const asked = JSON.parse(stream.sent[0]!) as { id: string };
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    const replies = () => child.received.filter((m) => m.id === 'ask-1');
    expect(replies()).toHaveLength(1);
    expect(replies()[0].error.code).toBe(-32001);
    expect(session.answer({ jsonrpc: '2.0', id: asked.id, result: {} })).toBe(false);
    await flush();
    expect(replies()).toHaveLength(1);
  });

  it('the session ends while the child waits: the child gets an error at once', async () => {
    const { child, session } = boundSession({ requestTimeoutMs: 60_000, exclusive: true });
    session.attachStream(new FakeSink(true));
    child.send({ jsonrpc: '2.0', id: 7, method: 'roots/list' });
    await flush();
    await session.close('DELETE');
    await flush();
    const reply = child.received.find((m) => m.id === 7);
    expect(reply?.error).toBeDefined();
  });
});
