import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, closeAll, demoServer, manifest, startHarness, waitFor, type Json } from '../helpers/gateway.ts';

afterEach(closeAll);

describe('mcp-remote (the stdio bridge desktop clients use)', () => {
  it('lists and calls tools through the gateway', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    const home = mkdtempSync(path.join(tmpdir(), 'mcp-remote-home-'));
    const bridge = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'mcp-remote', 'dist', 'proxy.js'), `${h.url}/mcp/demo/mcp`], {
      env: { ...process.env, HOME: home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const answers = new Map<number, Json>();
    let buf = '';
    bridge.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) {
          const m = JSON.parse(line) as Json;
          if (m.id !== undefined) answers.set(m.id, m);
        }
      }
    });
    const send = (m: object) => bridge.stdin.write(`${JSON.stringify(m)}\n`);
    try {
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'desktop', version: '1' } } });
      const init = await waitFor(() => answers.get(1), 'initialize through mcp-remote', 15_000);
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
      bridge.kill();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
