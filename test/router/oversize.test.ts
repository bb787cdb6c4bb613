// A child message over the size limit is dropped as it arrives; the request it answers (found by its
// top-level id, wherever that stands) gets an error at once. A real router, a fake child.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '../../src/router/router.ts';
import type { Caller } from '../../src/router/types.ts';
import { call, detachAll, flush, routerWithChild, track } from './fake-child.ts';

afterEach(detachAll);

const alice: Caller = { id: 'alice' };
const LIMIT = 1024;
const big = (n = 4 * LIMIT) => 'x'.repeat(n);

async function twoSent(maxMessageBytes = LIMIT) {
  const h = routerWithChild({ maxMessageBytes });
  const a = track(h.router.request(call('a'), { caller: alice }));
  const b = track(h.router.request(call('b'), { caller: alice }));
  await flush();
  const [ga, gb] = h.child.requests('tools/call').map((m) => m.id as number);
  return { ...h, a, b, ga: ga!, gb: gb! };
}

describe('Router: a child message over the size limit', () => {
  it('answers the request of its top-level id, not the one an id nested in result names', async () => {
    const { child, a, b, ga, gb } = await twoSent();
    child.stdout.write(`{"jsonrpc":"2.0","result":{"id":${gb},"text":"${big()}"},"id":${ga}}\n`);
    await flush();
    expect(a.result?.response).toMatchObject({ id: 'a', error: { code: -32603 } });
    expect((a.result?.response as { error: { message: string } }).error.message).toContain(`over the gateway's limit of ${LIMIT}`);
    expect(b.result).toBeUndefined();
    child.answer(gb, { fine: true });
    await flush();
    expect(b.result?.response).toMatchObject({ id: 'b', result: { fine: true } });
  });

  it('finds an id written after a huge result at once (no wait for the timeout)', async () => {
    const { child, a, b, ga } = await twoSent();
    const text = `{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"${big(10 * LIMIT)}"}]},"id":${ga}}\n`;
    for (let i = 0; i < text.length; i += 300) child.stdout.write(text.slice(i, i + 300));
    await flush();
    expect(a.result?.response).toMatchObject({ id: 'a', error: { code: -32603 } });
    expect(b.result).toBeUndefined();
  });

  it('is not misled by escaped quotes and braces in strings before the id', async () => {
    const { child, a, b, gb } = await twoSent();
    const text = String.raw`{"jsonrpc":"2.0","result":{"t":"\"},\"id\":1,{","pad":"${big()}"},"id":${gb}}`;
    child.stdout.write(text + '\n');
    await flush();
    expect(b.result?.response).toMatchObject({ id: 'b', error: { code: -32603 } });
    expect(a.result).toBeUndefined();
  });

  it('answers nobody for a string id the gateway never sent, and goes on reading', async () => {
    const { child, a, b, ga, logs } = await twoSent();
    child.stdout.write(`{"jsonrpc":"2.0","result":{"text":"${big()}"},"id":"${ga}"}\n`);
    child.answer(ga, { next: 'line' });
    await flush();
    expect(a.result?.response).toMatchObject({ id: 'a', result: { next: 'line' } });
    expect(b.result).toBeUndefined();
    expect(logs.some((l) => l.includes('over the size limit') && l.includes('"answered":false'))).toBe(true);
  });

  it('refuses a request of the child over the limit, so the child does not wait for an answer', async () => {
    const { child, a, b } = await twoSent();
    child.stdout.write(`{"jsonrpc":"2.0","id":"ask-1","method":"sampling/createMessage","params":{"text":"${big()}"}}\n`);
    await flush();
    const refusal = child.received.find((m) => m.id === 'ask-1');
    expect(refusal).toMatchObject({ jsonrpc: '2.0', id: 'ask-1', error: { code: -32600 } });
    expect(a.result).toBeUndefined();
    expect(b.result).toBeUndefined();
  });

  it(`holds at the real limit (${MAX_MESSAGE_BYTES} bytes): the top-level id after a nested one`, async () => {
    const { child, a, b, ga, gb } = await twoSent(MAX_MESSAGE_BYTES);
    const chunk = 'y'.repeat(1024 * 1024);
    child.stdout.write(`{"jsonrpc":"2.0","result":{"id":${gb},"text":"`);
    for (let i = 0; i <= MAX_MESSAGE_BYTES / chunk.length; i++) {
      child.stdout.write(chunk);
      if (i % 8 === 0) await flush();
    }
    child.stdout.write(`"},"id":${ga}}\n`);
    await flush();
    expect(a.result?.response).toMatchObject({ id: 'a', error: { code: -32603 } });
    expect(b.result).toBeUndefined();
  });
});
