// The request lifecycle, unit by unit: a real router, a fake child on PassThrough streams, fake timers
// for the races. Every request is followed from arrival (queued) to its one answer.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Caller, Outcome } from '../../src/router/types.ts';
import { FakeChild, call, detachAll, flush, routerWithChild, track } from './fake-child.ts';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  detachAll();
  vi.useRealTimers();
});

/** A client connection that can go away: stands in for whenClientGoes(res). */
function client() {
  let giveUp: (() => void) | undefined;
  const c = {
    undone: false,
    onGone: (g: () => void) => {
      giveUp = g;
      return () => void (c.undone = true);
    },
    leave: () => giveUp?.(),
  };
  return c;
}

const alice: Caller = { id: 'alice' };
const bob: Caller = { id: 'bob' };

describe('Router.request: a client that leaves while its request is queued', () => {
  it('waiting for readiness: answered cancelled at once and never written to the child', async () => {
    const { router, child } = routerWithChild({}, false);
    router.setAvailability({ kind: 'pending' });
    const gone = client();
    const r = track(router.request(call(1), { caller: alice, onGone: gone.onGone }));
    await flush();
    gone.leave();
    await flush();
    expect(r.result?.failure).toBe('cancelled');
    expect(r.result?.response).toMatchObject({ id: 1, error: { code: -32800 } });
    expect(gone.undone).toBe(true);
    expect(router.queued).toBe(0);
    router.setAvailability({ kind: 'ready' });
    await flush();
    expect(child.requests('tools/call')).toEqual([]);
    expect(child.cancelled()).toEqual([]);
  });

  it('waiting for a slot: answered cancelled at once, never written, and its place goes to the next', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 5000 });
    track(router.request(call('a'), { caller: alice }));
    const gone = client();
    const b = track(router.request(call('b'), { caller: bob, onGone: gone.onGone }));
    const c = track(router.request(call('c'), { caller: alice }));
    await flush();
    expect(child.requests('tools/call')).toHaveLength(1);
    gone.leave();
    await flush();
    expect(b.result?.failure).toBe('cancelled');
    expect(router.slots.waiting).toBe(1); // c
    child.answer(child.requests('tools/call')[0].id);
    await flush();
    const sent = child.requests('tools/call');
    expect(sent).toHaveLength(2); // a, then c: b never reached the child
    child.answer(sent[1].id, { which: 'c' });
    await flush();
    expect(c.result?.response).toMatchObject({ id: 'c', result: { which: 'c' } });
    expect(child.cancelled()).toEqual([]);
    expect(router.slots.held).toBe(0);
  });
});

describe('Router.notify: a client cancel', () => {
  it('takes a queued request out without telling the child; another caller cannot', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 5000 });
    track(router.request(call(1), { caller: alice }));
    const queued = track(router.request(call(2), { caller: alice }));
    await flush();
    const cancel = (requestId: number) => ({ jsonrpc: '2.0' as const, method: 'notifications/cancelled', params: { requestId } });
    expect(router.notify(cancel(2), bob)).toBe(true); // bob's request 2 is not alice's
    expect(queued.result).toBeUndefined();
    expect(router.notify(cancel(2), alice)).toBe(true);
    await flush();
    expect(queued.result?.failure).toBe('cancelled');
    child.answer(child.requests('tools/call')[0].id);
    await flush();
    expect(child.requests('tools/call')).toHaveLength(1);
    expect(child.received.filter((m) => m.method === 'notifications/cancelled')).toEqual([]);
  });

  it('cancel vs answer: the sent request is answered cancelled once, the child hears the cancel, the late answer is dropped', async () => {
    const outcomes: Outcome[] = [];
    const { router, child } = routerWithChild({ observe: (_m, outcome) => void outcomes.push(outcome) });
    const tapped: unknown[] = [];
    router.tap((m) => void tapped.push(m));
    const r = track(router.request(call('x'), { caller: alice }));
    await flush();
    const gid = child.requests('tools/call')[0].id;
    router.notify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x', reason: 'user' } }, alice);
    child.answer(gid, { late: true }); // crossed the cancel on the wire
    await flush();
    expect(r.result?.response).toMatchObject({ id: 'x', error: { code: -32800 } });
    expect(r.settles).toBe(1);
    expect(outcomes).toEqual(['cancelled']);
    expect(tapped).toEqual([]);
    expect(child.received.find((m) => m.method === 'notifications/cancelled')?.params).toEqual({ requestId: gid, reason: 'user' });
    expect(router.inFlight).toBe(0);
  });
});

describe('Router.request timeouts', () => {
  it('timeout vs answer: times out once, the child hears the cancel, the late answer is dropped', async () => {
    const outcomes: Outcome[] = [];
    const { router, child } = routerWithChild({ observe: (_m, outcome) => void outcomes.push(outcome) });
    const r = track(router.request(call(7), { caller: alice }));
    await flush();
    const gid = child.requests('tools/call')[0].id;
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(r.result?.failure).toBe('timeout');
    expect(r.result?.response).toMatchObject({ id: 7, error: { code: -32001, message: 'server "demo": request timed out after 1000ms (requestTimeout)' } });
    expect(child.cancelled()).toEqual([gid]);
    child.answer(gid);
    await flush();
    expect(r.settles).toBe(1);
    expect(outcomes).toEqual(['timeout']);
  });

  it('an answer just before the timeout wins, and no cancel follows', async () => {
    const { router, child } = routerWithChild();
    const r = track(router.request(call(7), { caller: alice }));
    await flush();
    await vi.advanceTimersByTimeAsync(999);
    child.answer(child.requests('tools/call')[0].id, { ok: true });
    await flush();
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.result).toEqual({ response: { jsonrpc: '2.0', id: 7, result: { ok: true } } });
    expect(child.cancelled()).toEqual([]);
  });

  it('waits for readiness no longer than the request timeout', async () => {
    const { router, child } = routerWithChild({}, false);
    router.setAvailability({ kind: 'pending' });
    const r = track(router.request(call(1), { caller: alice }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.result?.failure).toBe('timeout');
    expect(r.result?.response).toMatchObject({ error: { message: 'server "demo" did not become ready within 1000ms' } });
    router.setAvailability({ kind: 'ready' });
    await flush();
    expect(child.requests()).toEqual([]);
  });
});

describe('Router.request: progress restarts the timeout, up to requestTimeoutMax', () => {
  const withToken = (id: number) => call(id, 'slow', { progressToken: 'p' });

  it('progress every 0.8× the timeout keeps a request alive past it; the caller hears it under its token', async () => {
    const { router, child } = routerWithChild({ requestTimeoutMs: 1000, requestTimeoutMaxMs: 10_000 });
    const heard: unknown[] = [];
    const caller: Caller = { id: 'alice', onNotification: (m, related) => void heard.push([m.params?.progressToken, m.params?.progress, related]) };
    const r = track(router.request(withToken(1), { caller }));
    await flush();
    const gid = child.requests('tools/call')[0].id;
    expect(child.requests('tools/call')[0].params._meta.progressToken).toBe(gid);
    for (let step = 1; step <= 4; step++) {
      await vi.advanceTimersByTimeAsync(800);
      child.progress(gid, step);
      await flush();
    }
    await vi.advanceTimersByTimeAsync(800); // 4000ms in all, 800 since the last progress
    child.answer(gid, { done: true });
    await flush();
    expect(r.result).toEqual({ response: { jsonrpc: '2.0', id: 1, result: { done: true } } });
    expect(heard).toEqual([1, 2, 3, 4].map((n) => ['p', n, 1]));
    expect(child.cancelled()).toEqual([]);
  });

  it('once progress stops, the timeout runs out from the last one', async () => {
    const { router, child } = routerWithChild({ requestTimeoutMs: 1000, requestTimeoutMaxMs: 10_000 });
    const r = track(router.request(withToken(1), { caller: alice }));
    await flush();
    const gid = child.requests('tools/call')[0].id;
    await vi.advanceTimersByTimeAsync(800);
    child.progress(gid, 1);
    await flush();
    await vi.advanceTimersByTimeAsync(999);
    expect(r.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(r.result?.failure).toBe('timeout');
    expect(r.result?.response).toMatchObject({ error: { code: -32001, message: 'server "demo": request timed out: no answer or progress for 1000ms (requestTimeout)' } });
    expect(child.cancelled()).toEqual([gid]);
  });

  it('the cap ends a request that keeps reporting progress, and says which limit it hit', async () => {
    const { router, child } = routerWithChild({ requestTimeoutMs: 1000, requestTimeoutMaxMs: 2500 });
    const r = track(router.request(withToken(1), { caller: alice }));
    await flush();
    const gid = child.requests('tools/call')[0].id;
    for (let t = 800; t < 2500; t += 800) {
      await vi.advanceTimersByTimeAsync(800);
      child.progress(gid, t);
      await flush();
    }
    await vi.advanceTimersByTimeAsync(2499 - 2400);
    expect(r.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(r.result?.failure).toBe('timeout');
    expect(r.result?.response).toMatchObject({ error: { message: 'server "demo": request timed out after 2500ms in all (requestTimeoutMax), although it reported progress' } });
    expect(child.cancelled()).toEqual([gid]);
  });

  it('a raised requestTimeoutMax applies to requests sent from then on', async () => {
    const { router, child } = routerWithChild({ requestTimeoutMs: 1000 });
    router.requestTimeoutMaxMs = 5000; // the supervisor on reload
    const r = track(router.request(withToken(1), { caller: alice }));
    await flush();
    const gid = child.requests('tools/call')[0].id;
    await vi.advanceTimersByTimeAsync(900);
    child.progress(gid, 1);
    await flush();
    await vi.advanceTimersByTimeAsync(900);
    child.answer(gid);
    await flush();
    expect(r.result?.failure).toBeUndefined();
  });
});

describe('Router.detach', () => {
  it('answers every sent request `closed` at once; nothing is left to time out', async () => {
    const { router, child } = routerWithChild();
    const rs = [1, 2, 3].map((id) => track(router.request(call(id), { caller: alice })));
    await flush();
    expect(router.inFlight).toBe(3);
    router.detach('exited with code 1');
    await flush();
    for (const [i, r] of rs.entries()) {
      expect(r.result?.failure).toBe('closed');
      expect(r.result?.response).toMatchObject({ id: i + 1, error: { code: -32000, message: 'server "demo" exited with code 1' } });
    }
    expect(router.inFlight).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(child.cancelled()).toEqual([]);
  });

  it('a request waiting for a slot when the child restarts waits for the new one, then is sent to it', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 5000 });
    const a = track(router.request(call('a'), { caller: alice }));
    const b = track(router.request(call('b'), { caller: bob }));
    await flush();
    router.setAvailability({ kind: 'pending' }); // restart: stop the old child...
    router.detach('replaced by a new process');
    await flush();
    expect(a.result?.failure).toBe('closed');
    expect(b.result).toBeUndefined();
    const next = new FakeChild(); // ...and start the new one
    router.attach(next.stdin, next.stdout);
    router.setAvailability({ kind: 'ready' });
    await flush();
    const sent = next.requests('tools/call');
    expect(sent).toHaveLength(1);
    next.answer(sent[0].id, { from: 'new' });
    await flush();
    expect(b.result?.response).toMatchObject({ id: 'b', result: { from: 'new' } });
    expect(child.requests('tools/call')).toHaveLength(1);
  });
});

describe('Router.cancelAll', () => {
  it('gives up a session’s queued and sent requests; only the sent one is cancelled at the child', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 5000 });
    const sent = track(router.request(call(1), { caller: alice }));
    const queued = track(router.request(call(2), { caller: alice }));
    const other = track(router.request(call(3), { caller: bob }));
    await flush();
    const gid = child.requests('tools/call')[0].id;
    router.cancelAll(alice, 'session ended: DELETE');
    await flush();
    expect(sent.result?.failure).toBe('cancelled');
    expect(queued.result?.failure).toBe('cancelled');
    expect(child.cancelled()).toEqual([gid]);
    // The freed slot went to bob's request, not to alice's cancelled one.
    const calls = child.requests('tools/call');
    expect(calls).toHaveLength(2);
    child.answer(calls[1].id, { who: 'bob' });
    await flush();
    expect(other.result?.response).toMatchObject({ id: 3, result: { who: 'bob' } });
  });
});

describe('Router.slots.max (a reload)', () => {
  it('raised: requests waiting in line are sent at once', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 5000 });
    for (const id of [1, 2, 3]) track(router.request(call(id), { caller: alice }));
    await flush();
    expect(child.requests('tools/call')).toHaveLength(1);
    router.slots.max = 3;
    await flush();
    expect(child.requests('tools/call')).toHaveLength(3);
    expect(router.slots.waiting).toBe(0);
  });

  it('lowered: no more than the new maximum run; freed slots are handed over only below it', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 3, queueTimeoutMs: 60_000 });
    for (const id of [1, 2, 3, 4, 5]) track(router.request(call(id), { caller: alice }));
    await flush();
    const first = child.requests('tools/call').map((m) => m.id);
    expect(first).toHaveLength(3);
    router.slots.max = 1;
    child.answer(first[0]);
    await flush();
    expect(child.requests('tools/call')).toHaveLength(3); // 2 still running, over the new max of 1
    child.answer(first[1]);
    await flush();
    expect(child.requests('tools/call')).toHaveLength(3); // 1 running: at the max
    child.answer(first[2]);
    await flush();
    expect(child.requests('tools/call')).toHaveLength(4);
    expect(router.inFlight).toBe(1);
  });

  it('a request given up on the child is cancelled there before the next one takes its slot', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 60_000 });
    track(router.request(call('a'), { caller: alice }));
    track(router.request(call('b'), { caller: alice }));
    await vi.advanceTimersByTimeAsync(1000); // a times out; b gets the slot
    await flush();
    expect(child.received.map((m) => m.method + (m.params.requestId ?? m.params.name))).toEqual(['tools/callslow', 'notifications/cancelled1', 'tools/callslow']);
  });

  it('a request that finds no slot within queueTimeout is answered busy and never sent', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 500 });
    track(router.request(call(1), { caller: alice }));
    const late = track(router.request(call(2), { caller: alice }));
    await vi.advanceTimersByTimeAsync(500);
    expect(late.result?.failure).toBe('busy');
    child.answer(child.requests('tools/call')[0].id);
    await flush();
    expect(child.requests('tools/call')).toHaveLength(1);
  });
});
