import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor } from '../helpers/gateway.ts';
import { startBridge } from '../helpers/mcp-remote.ts';

afterEach(closeAll);

describe('mcp-remote (the stdio bridge desktop clients use)', () => {
  it('lists and calls tools through the gateway', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const bridge = startBridge(`${h.url}/mcp/demo/mcp`);
    const { answers, send } = bridge;
    try {
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'desktop', version: '1' } } });
      const init = await bridge.answer(1, 'initialize through mcp-remote');
      expect(init.result.serverInfo.name).toBe('demo');
      expect(init.result.protocolVersion).toBe('2025-06-18');
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'via mcp-remote' } } });
      const list = await waitFor(() => answers.get(2), 'tools/list');
      expect(list.result.tools.map((t: { name: string }) => t.name)).toContain('echo');
      const call = await waitFor(() => answers.get(3), 'tools/call');
      expect(call.result.content[0].text).toBe('via mcp-remote');
    } finally {
      bridge.stop();
    }
  });
});
