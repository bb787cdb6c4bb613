// Review fixture: a minimal 2025 stdio server. LIST_NULL=1 answers tools/list with `"result": null`
// (a buggy server); FAIL_IF=<file> exits at once while that file exists (a start that fails, then works);
// EXTRA_TOOL=<name> lists one more tool.
const fs = require('node:fs');
if (process.env.FAIL_IF && fs.existsSync(process.env.FAIL_IF)) process.exit(3);
const rl = require('node:readline').createInterface({ input: process.stdin });
const tools = [{ name: 'base', inputSchema: { type: 'object' } }];
if (process.env.EXTRA_TOOL) tools.push({ name: process.env.EXTRA_TOOL, inputSchema: { type: 'object' } });
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
rl.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined) return;
  let result;
  switch (m.method) {
    case 'initialize': result = { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'fx', version: '1' } }; break;
    case 'ping': result = {}; break;
    case 'tools/list': result = process.env.LIST_NULL ? null : { tools }; break;
    case 'tools/call': result = { content: [{ type: 'text', text: `called ${m.params.name} pid ${process.pid}` }] }; break;
    default: return send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found' } });
  }
  send({ jsonrpc: '2.0', id: m.id, result });
});
rl.on('close', () => process.exit(0));
