// A shared child answers every client's initialize from the one it negotiated: in the child's revision, or
// in the client's own when that is older (revisions add). Never one newer than the child's, which would
// let the client use what the child does not know.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, manifest, startHarness, type Harness, type Json } from '../helpers/gateway.ts';

afterEach(closeAll);

/** A stdio child that speaks 2025-03-26 whatever it is asked, and echoes tools/call. */
const OLD_CHILD = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
rl.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.method === 'initialize') send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-03-26', capabilities: { tools: {} }, serverInfo: { name: 'old', version: '1' } } });
  else if (m.method === 'tools/list') send({ jsonrpc: '2.0', id: m.id, result: { tools: [] } });
  else if (m.id !== undefined) send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'no' } });
});
`;

async function initialize(h: Harness, version: string): Promise<Json> {
  const res = await fetch(`${h.url}/mcp/old/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

describe('initialize through a shared child', () => {
  it("answers in the child's revision when the client asks a newer one, in the client's when it asks an older one", async () => {
    const h = await startHarness(manifest(`  old:\n    command: node\n    args: ["-e", ${JSON.stringify(OLD_CHILD)}]\n`));
    expect((await initialize(h, '2025-11-25')).result.protocolVersion).toBe('2025-03-26');
    expect((await initialize(h, '2025-06-18')).result.protocolVersion).toBe('2025-03-26');
    expect((await initialize(h, '2024-11-05')).result.protocolVersion).toBe('2024-11-05');
  });
});
