// What may wait for one child is bounded (count and bytes), and so is what a child has not read from its
// stdin: past either, a request is refused at once (busy) instead of filling the gateway's heap.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { MAX_QUEUED_BYTES, MAX_QUEUED_REQUESTS, MAX_STDIN_BACKLOG_BYTES } from '../../src/router/request-table.ts';
import { Router } from '../../src/router/router.ts';
import type { Caller } from '../../src/router/types.ts';
import { call, detachAll, flush, routerWithChild, track } from './fake-child.ts';

afterEach(detachAll);

const alice: Caller = { id: 'alice' };
const MiB = 1024 * 1024;
const bigCall = (id: number, bytes: number) => ({ ...call(id), params: { name: 'echo', arguments: { text: 'x'.repeat(bytes) } } });

describe('the lines for a slot and for readiness', () => {
  it('refuses a request that would take the queued bytes past the bound; a freed place is taken again', async () => {
    const { router, child } = routerWithChild({ maxInFlight: 1, queueTimeoutMs: 60_000 });
    track(router.request(call(0), { caller: alice }));
    const per = 3 * MiB;
    const fit = Math.floor(MAX_QUEUED_BYTES / (per + 200));
    const waiting = Array.from({ length: fit }, (_, i) => track(router.request(bigCall(i + 1, per), { caller: alice })));
    const refused = track(router.request(bigCall(99, per), { caller: alice }));
    await flush();
    expect(refused.result?.failure).toBe('busy');
    expect(refused.result?.response).toMatchObject({ id: 99, error: { code: -32010 } });
    expect(waiting.every((w) => w.result === undefined)).toBe(true);
    expect(router.queued).toBe(fit);
    expect(child.requests('tools/call')).toHaveLength(1);
    // One leaves the line (its client cancels): its bytes are given back.
    router.notify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, alice);
    await flush();
    const again = track(router.request(bigCall(100, per), { caller: alice }));
    await flush();
    expect(again.result).toBeUndefined();
    expect(router.queued).toBe(fit);
  });

  it('refuses the request past MAX_QUEUED_REQUESTS while the child starts', async () => {
    const { router } = routerWithChild({}, false);
    router.setAvailability({ kind: 'pending' });
    const waiting = Array.from({ length: MAX_QUEUED_REQUESTS }, (_, i) => track(router.request(call(i), { caller: alice })));
    const refused = track(router.request(call('one too many'), { caller: alice }));
    await flush();
    expect(refused.result?.failure).toBe('busy');
    expect(router.queued).toBe(MAX_QUEUED_REQUESTS);
    router.setAvailability({ kind: 'down', reason: 'test over' });
    await flush();
    expect(waiting.every((w) => w.result?.failure === 'unavailable')).toBe(true);
  });
});

describe("a child that does not read its stdin", () => {
  it('gets no more requests past MAX_STDIN_BACKLOG_BYTES: they are refused busy', async () => {
    const router = new Router({ server: 'stuck', log: createLogger({ level: 'silent' }), requestTimeoutMs: 60_000 });
    const stdin = new PassThrough(); // nobody reads it
    const stdout = new PassThrough();
    router.attach(stdin, stdout);
    router.setAvailability({ kind: 'ready' });
    const per = 4 * MiB;
    // Enough to pass the bound: each is still sent, as the backlog was under it when it went.
    const sent = Array.from({ length: Math.ceil(MAX_STDIN_BACKLOG_BYTES / per) }, (_, i) => track(router.request(bigCall(i, per), { caller: alice })));
    await flush();
    expect(stdin.writableLength).toBeGreaterThan(MAX_STDIN_BACKLOG_BYTES);
    expect(sent.every((s) => s.result === undefined)).toBe(true);
    const refused = track(router.request(call('next'), { caller: alice }));
    await flush();
    expect(refused.result?.failure).toBe('busy');
    expect(refused.result?.response).toMatchObject({ error: { message: expect.stringMatching(/has not read/) } });
    router.detach('test over');
    await flush();
    expect(sent.every((s) => s.result?.failure === 'closed')).toBe(true);
  });
});
