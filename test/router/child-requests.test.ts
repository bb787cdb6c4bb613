import { describe, expect, it } from 'vitest';
import { chooseRecipient, type RouterView } from '../../src/router/child-requests.ts';
import type { Caller } from '../../src/router/types.ts';

const client = (id: string, caps: string[] = []): Caller => ({ id, capabilities: new Set(caps), onRequest: async () => ({ jsonrpc: '2.0', id: 0, result: {} }) });
const view = (over: Partial<RouterView>): RouterView => ({ exclusive: false, offered: new Set(['sampling']), connected: [], pending: [], ...over });

describe('chooseRecipient', () => {
  const alice = client('alice', ['sampling']);
  const bob = client('bob', ['sampling']);

  it('sends to the one caller with requests in flight, related to its request when it has one', () => {
    expect(chooseRecipient('sampling/createMessage', view({ pending: [{ caller: alice, originalId: 7 }] }))).toEqual({ caller: alice, relatedId: 7 });
    const two = [{ caller: alice, originalId: 1 }, { caller: alice, originalId: 2 }];
    expect(chooseRecipient('sampling/createMessage', view({ pending: two }))).toEqual({ caller: alice, relatedId: undefined });
  });

  it('refuses when several callers or none are in flight, when not offered, or not declared', () => {
    const refusal = (r: ReturnType<typeof chooseRecipient>) => ('refusal' in r ? r.refusal : '');
    expect(refusal(chooseRecipient('sampling/createMessage', view({ pending: [{ caller: alice, originalId: 1 }, { caller: bob, originalId: 1 }] })))).toContain('2 clients');
    expect(refusal(chooseRecipient('sampling/createMessage', view({})))).toContain('no client request in flight');
    expect(refusal(chooseRecipient('roots/list', view({ pending: [{ caller: alice, originalId: 1 }] })))).toContain('not offered');
    expect(refusal(chooseRecipient('sampling/createMessage', view({ pending: [{ caller: client('plain'), originalId: 1 }] })))).toContain('did not declare');
    expect(refusal(chooseRecipient('sampling/createMessage', view({ pending: [{ caller: undefined, originalId: 0 }] })))).toContain('no client request in flight');
  });

  it('sends everything to the session of a per-session child', () => {
    expect(chooseRecipient('anything/else', view({ exclusive: true, offered: new Set(), connected: [bob] }))).toEqual({ caller: bob, relatedId: undefined });
    expect(chooseRecipient('roots/list', view({ exclusive: true, connected: [] }))).toEqual({ refusal: 'no client session is connected to answer "roots/list"' });
  });
});
