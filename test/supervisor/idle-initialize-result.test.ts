// Review: an idle on-demand server keeps its last child's InitializeResult to answer initialize without a
// process. When the manifest changes its process (another command), that answer no longer holds; the
// supervisor forgets it, but the router kept answering from its own copy.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor } from '../helpers/gateway.ts';
import { closeClients, connect } from '../helpers/mcp-client.ts';
import { callTool, inState, statusOf } from './helpers.ts';

afterEach(async () => {
  await closeClients();
  await closeAll();
});

/** A minimal MCP server that calls itself "other". */
const OTHER = `const rl=require('readline').createInterface({input:process.stdin});rl.on('line',l=>{const m=JSON.parse(l);if(m.id===undefined)return;let r={};if(m.method==='initialize')r={protocolVersion:m.params.protocolVersion,capabilities:{tools:{}},serverInfo:{name:'other',version:'2'}};else if(m.method==='tools/list')r={tools:[]};process.stdout.write(JSON.stringify({jsonrpc:'2.0',id:m.id,result:r})+'\\n')});rl.on('close',()=>process.exit(0))`;

describe('an idle server whose command changed', () => {
  it('does not answer initialize with the old child\'s serverInfo', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    start: on-demand\n    idleStop: 300ms\n')));
    await callTool(h, 'demo', 'pid');
    await inState(h, 'demo', 'idle');
    h.write(manifest(`  demo:\n    command: node\n    args: ${JSON.stringify(['-e', OTHER])}\n    start: on-demand\n    idleStop: 300ms\n`));
    await waitFor(async () => { const s = await statusOf(h, 'demo'); return s.revision.wanted !== s.revision.running; }, 'the reload applied');
    const c = await connect(`${h.url}/mcp/demo/mcp`);
    expect(c.client.getServerVersion()?.name).toBe('other');
  });
});
