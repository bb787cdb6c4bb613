// Review: idleStop must not stop a child that someone holds a resource subscription on: the child is the
// one that would send resources/updated. A direct 2025 session keeps it up through its open stream, but
// an aggregate session's stream and a 2026 subscriptions/listen stream were not counted.
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, type Json } from '../helpers/gateway.ts';
import { closeClients, connect } from '../helpers/mcp-client.ts';
import { readSse } from '../helpers/sse.ts';
import { modernFetch } from '../stateless/helpers.ts';
import { statusOf } from './helpers.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('idleStop with a resource subscription held', () => {
  it('by an aggregate (/mcp) session: the member keeps running', async () => {
    const h = await startHarness(manifest(demoServer('a', '    start: on-demand\n    idleStop: 300ms\n')));
    const c = await connect(`${h.url}/mcp`);
    c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => {});
    await c.client.subscribeResource({ uri: 'demo://notes/hello' });
    expect((await statusOf(h, 'a')).state).toBe('running');
    await pause(1200);
    expect((await statusOf(h, 'a')).state).toBe('running');
    // Let go: now it may idle.
    await c.client.unsubscribeResource({ uri: 'demo://notes/hello' });
    await pause(1200);
    expect((await statusOf(h, 'a')).state).toBe('idle');
  });

  it('by a 2026 subscriptions/listen stream: the server keeps running', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    idleStop: 300ms\n')));
    const controller = new AbortController();
    const res = await modernFetch(h, 'demo', 'subscriptions/listen', { notifications: { resourceSubscriptions: ['demo://notes/hello'] } }, { id: 'listen-1', signal: controller.signal });
    const stream = readSse(res, controller, (e) => JSON.parse(e.data) as Json);
    const ack = await stream.next(() => true, 5000);
    expect(ack.params.notifications.resourceSubscriptions).toEqual(['demo://notes/hello']);
    await pause(1200);
    const state = (await statusOf(h, 'demo')).state;
    stream.close();
    expect(state).toBe('running');
  });
});
