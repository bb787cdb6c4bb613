// Review probes on the 2026 stateless aggregate: the manifest's filters on every path a 2026 caller has
// (calls, reads, templates, completions, listen subscriptions, MRTR retries), and a listen stream that
// outlives a member's per-principal child.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Json } from '../helpers/gateway.ts';
import { conformanceServer } from '../stateless/helpers.ts';
import { ALL, SCOPED, keyed, listen26, post26, type OpenListen } from './wire-helpers.ts';

const listens = new Set<OpenListen>();
afterEach(async () => {
  for (const l of listens) l.close();
  listens.clear();
  await closeAll();
});

const listChanged = (l: OpenListen): number => l.messages.filter((m) => m.method === 'notifications/tools/list_changed').length;

describe('filters on every 2026 path of /mcp', () => {
  it('a hidden tool, prompt, resource and template stay hidden: by name, by URI, by completion ref, by listen', async () => {
    const filtered = [
      '    tools: { deny: ["test_tool_with_progress", "test_input_required_*"] }',
      '    prompts: { deny: ["test_prompt_with_arguments"] }',
      '    resources: { deny: ["test://static-text", "test://template/*"] }',
      '',
    ].join('\n');
    const h = await startHarness(keyed(conformanceServer('b', { clientCapabilities: ['elicitation'] }) + filtered + demoServer('a'), '[a, b]'));
    const ok = (r: { status: number; message: Json }): boolean => r.status === 200 && r.message?.result !== undefined && r.message.result.resultType !== 'input_required';
    // What stays visible works (control).
    expect(ok(await post26(h, '/mcp', SCOPED, 'tools/call', { name: 'b__test_simple_text', arguments: {} }))).toBe(true);
    expect(ok(await post26(h, '/mcp', SCOPED, 'resources/read', { uri: 'test://static-binary' }))).toBe(true);

    const refused = async (method: string, params: Record<string, unknown>): Promise<void> => {
      const r = await post26(h, '/mcp', SCOPED, method, params);
      expect(r.message?.error, `${method} ${JSON.stringify(params)} answered ${JSON.stringify(r.message)}`).toBeDefined();
    };
    await refused('tools/call', { name: 'b__test_tool_with_progress', arguments: {} });
    await refused('tools/call', { name: 'b__test_input_required_result_elicitation', arguments: {} });
    await refused('prompts/get', { name: 'b__test_prompt_with_arguments', arguments: { arg1: 'x', arg2: 'y' } });
    await refused('resources/read', { uri: 'test://static-text' });
    await refused('resources/read', { uri: 'test://template/1/data' });
    await refused('completion/complete', { ref: { type: 'ref/prompt', name: 'b__test_prompt_with_arguments' }, argument: { name: 'arg1', value: 't' } });
    await refused('completion/complete', { ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '1' } });

    // Lists do not show them.
    const tools = (await post26(h, '/mcp', SCOPED, 'tools/list', {})).message.result.tools.map((t: Json) => t.name);
    expect(tools).not.toContain('b__test_tool_with_progress');
    const templates = (await post26(h, '/mcp', SCOPED, 'resources/templates/list', {})).message.result;
    expect(JSON.stringify(templates)).not.toMatch(/test:\/\/template/);

    // A listen stream's subscription to a hidden URI is not accepted.
    const l = await listen26(h, '/mcp', SCOPED, { resourceSubscriptions: ['test://static-text', 'test://watched-resource'] });
    listens.add(l);
    const ack = await waitFor(() => l.messages.find((m) => m.method === 'notifications/subscriptions/acknowledged'), 'the acknowledgement');
    expect(ack.params.notifications.resourceSubscriptions).toEqual(['test://watched-resource']);
  });
});

describe('a 2026 listen on /mcp over a per-session member', () => {
  it("still hears the member after the member's per-principal child restarted", async () => {
    const h = await startHarness(manifest(demoServer('c', '    sharing: per-session\n')));
    const l = await listen26(h, '/mcp', undefined, { toolsListChanged: true });
    listens.add(l);
    await waitFor(() => l.messages.some((m) => m.method === 'notifications/subscriptions/acknowledged'), 'the acknowledgement');
    await post26(h, '/mcp', undefined, 'tools/call', { name: 'c__changed', arguments: {} });
    await waitFor(() => listChanged(l) === 1, "the child's list_changed (control)");

    // The principal's child of c ends; the next call starts another.
    await post26(h, '/mcp', undefined, 'tools/call', { name: 'c__crash', arguments: {} }, 'crash');
    await new Promise((r) => setTimeout(r, 300));
    await post26(h, '/mcp', undefined, 'tools/call', { name: 'c__changed', arguments: {} }, 'again');
    const heard = await waitFor(() => (listChanged(l) >= 2 ? 'yes' : undefined), 'list_changed from the new child', 3000).catch(() => 'no');
    expect(heard, `list_changed on the stream: ${listChanged(l)}; stream open: ${h.gateway.stateless.listenStreams}`).toBe('yes');
  });
});

describe('MRTR requestState minted on /mcp, replayed elsewhere', () => {
  it('continues only for the same key and a path that shows the same tool', async () => {
    const conf = conformanceServer('conf', { clientCapabilities: ['elicitation'] });
    const h = await startHarness(keyed(demoServer('a') + conf, '[a]', 'endpoints:\n  only-a: { servers: [a] }\n'));
    const elicit = { elicitation: {} };
    const name = 'conf__test_input_required_result_elicitation';
    const first = await post26(h, '/mcp', ALL, 'tools/call', { name, arguments: {} }, 'm1', elicit);
    const result = first.message.result;
    expect(result.resultType).toBe('input_required');
    const [inputKey] = Object.keys(result.inputRequests);
    const retry = (n: string) => ({ name: n, arguments: {}, requestState: result.requestState, inputResponses: { [inputKey!]: { action: 'accept', content: { name: 'Ada' } } } });

    // Another key: on /mcp (no such tool for it), on the member's URL (not its server), on a bundle.
    expect((await post26(h, '/mcp', SCOPED, 'tools/call', retry(name), 'm2', elicit)).message.error).toBeDefined();
    expect((await post26(h, '/mcp/conf/mcp', SCOPED, 'tools/call', retry('test_input_required_result_elicitation'), 'm3', elicit)).status).toBe(403);
    // The same key on a bundle without conf.
    expect((await post26(h, '/mcp/@only-a', ALL, 'tools/call', retry(name), 'm4', elicit)).message.error).toBeDefined();
    // Other arguments: another request.
    expect((await post26(h, '/mcp', ALL, 'tools/call', { ...retry(name), arguments: { x: 1 } }, 'm5', elicit)).message.error?.message).toMatch(/another request/);
    // The same key and call, on /mcp: it completes.
    const done = await post26(h, '/mcp', ALL, 'tools/call', retry(name), 'm6', elicit);
    expect(JSON.stringify(done.message.result?.content)).toMatch(/Ada/);
  });
});

describe('a 2026 listen on /mcp that ends', () => {
  it('lets its per-principal children idle out, also when its client left while they started', async () => {
    const h = await startHarness(manifest(demoServer('c', '    sharing: per-session\n    sessionIdleTimeout: 1s\n    env: { DEMO_INIT_DELAY_MS: "800" }\n')));
    const c = h.gateway.reconciler.servers.get('c')! as unknown as { sessions: number };
    // Left while c's child started.
    const early = await listen26(h, '/mcp', undefined, { toolsListChanged: true }, 'early');
    await new Promise((r) => setTimeout(r, 200));
    early.close();
    // Opened, acknowledged, then closed.
    const l = await listen26(h, '/mcp', undefined, { toolsListChanged: true }, 'late');
    await waitFor(() => l.messages.some((m) => m.method === 'notifications/subscriptions/acknowledged'), 'the acknowledgement', 5000);
    l.close();
    await waitFor(() => h.gateway.stateless.listenStreams === 0, 'no listen stream left', 5000);
    await waitFor(() => c.sessions === 0, 'the per-principal child of c idled out', 5000);
  });
});
