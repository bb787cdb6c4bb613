// Without keys nobody is known to the classic API, so each connection is a caller of its own: one client's
// notifications/cancelled never reaches another client's request.
import { afterEach, describe, expect, it } from 'vitest';
import { callTool, closeAll, command, demoServer, manifest, running, server, startHarness, waitFor } from '../helpers/gateway.ts';

afterEach(closeAll);

describe('classic callers without keys', () => {
  it('a cancel from another connection does not cancel the request; the request still answers', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const call = command(h.url, 'demo', callTool(5, 'slow', { ms: 600, steps: 3 }));
    // Once the slow call is in flight on its own connection, another client cancels id 5.
    await waitFor(async () => (await server(h.url, 'demo'))?.inFlight === 1, 'the call in flight');
    const cancel = await fetch(`${h.url}/mcp/demo/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5, reason: 'not yours' } }),
    });
    expect(cancel.status).toBe(202);
    const answer = await call;
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe(5);
    expect(answer.body.error).toBeUndefined();
    expect(answer.body.result.isError).not.toBe(true);
  });
});
