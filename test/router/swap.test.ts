// A rollout's swap as the router sees it: two fake children, the old one answering what it was sent
// before the swap after it. The router is the real one.
import { afterEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/router/types.ts';
import { FakeChild, detachAll, flush, routerWithChild, track } from './fake-child.ts';

afterEach(() => detachAll());

const subscribe = (id: number, uri: string) => ({ jsonrpc: '2.0' as const, id, method: 'resources/subscribe', params: { uri } });

describe('the swap to a new child', () => {
  it('renews on the new child the subscriptions it knows, and one the old child accepts after the swap', async () => {
    const { router, child: old } = routerWithChild();
    const alice: Caller = { id: 'alice', onNotification: () => {} };
    const bob: Caller = { id: 'bob', onNotification: () => {} };
    router.connect(alice);
    router.connect(bob);

    // alice's subscription is settled before the swap; bob's is still with the old child at the swap.
    const a = track(router.request(subscribe(1, 'file:///a'), { caller: alice }));
    await flush();
    old.answer(old.requests('resources/subscribe')[0].id);
    await flush();
    expect(a.result?.response).toMatchObject({ result: {} });
    const b = track(router.request(subscribe(2, 'file:///b'), { caller: bob }));
    await flush();
    const inFlight = old.requests('resources/subscribe')[1];
    expect(inFlight.params.uri).toBe('file:///b');

    const fresh = new FakeChild();
    const link = router.add(fresh.stdin, fresh.stdout);
    router.promote(link);
    router.setAvailability({ kind: 'ready' });
    await flush();
    expect(fresh.requests('resources/subscribe').map((m) => m.params.uri)).toEqual(['file:///a']);

    old.answer(inFlight.id); // the old child, draining, accepts bob's subscribe
    await flush();
    expect(b.result?.response).toMatchObject({ id: 2, result: {} });
    expect(fresh.requests('resources/subscribe').map((m) => m.params.uri)).toEqual(['file:///a', 'file:///b']);
    expect(old.requests('resources/subscribe')).toHaveLength(2); // nothing more for the old one
  });
});
