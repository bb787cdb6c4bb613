// The aggregate endpoint /mcp, what the members hear and what the caller gets back: a shared child's
// sampling request reaches the session that called (and its answer the child), completions go by ref,
// subscriptions by URI, prompts by qualified name, a cancel reaches the child that runs the call; mcp-remote
// and the SDK client side by side; and a key scoped to one server cannot reach another by any spelling,
// not even after a reload that changes what the key may use; a member's own pages (an empty one too) and a
// cancel that comes before the endpoint has chosen the member.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { authKeys, closeAll, demoServer, getJson, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { textOf } from '../helpers/mcp-client.ts';
import { startBridge, stopBridges } from '../helpers/mcp-remote.ts';
import { conformanceServer } from '../stateless/helpers.ts';

/** Every server, and admin (the stderr of a child is an admin route). */
const ALL = 'aggregate-routing-key-for-everything';
/** Server `a` only (unless a test's manifest says otherwise). */
const ONLY_A = 'aggregate-routing-key-for-a-only';
const DEMO_TOOLS = ['echo', 'pid', 'add', 'greet', 'slow', 'fail', 'crash', 'ping_client', 'sample', 'list_roots', 'changed', 'touch', 'env_names', 'big', 'log'];

/** `onlyA`: the servers key ONLY_A may use (YAML). */
function manifestWith(servers: string, onlyA = '[a]'): string {
  const keys = authKeys([
    { name: 'all', key: ALL, servers: '*', admin: true },
    { name: 'only-a', key: ONLY_A, servers: onlyA },
  ]);
  return manifest(servers, keys);
}

const traced = (name: string, extra = ''): string => demoServer(name, `    env: { DEMO_TRACE: "1" }\n${extra}`);

const clients = new Set<Client>();
const tempDirs: string[] = [];
afterEach(async () => {
  stopBridges();
  await Promise.all([...clients].map((c) => c.close().catch(() => {})));
  clients.clear();
  await closeAll();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface ConnectOptions {
  readonly capabilities?: Record<string, object>;
  readonly setup?: (c: Client) => void;
}

/** The SDK client on /mcp; `key` undefined: no Authorization header (a manifest without keys). */
async function connect(h: Harness, key: string | undefined, o: ConnectOptions = {}): Promise<Client> {
  const client = new Client({ name: 'aggregate-routing-test', version: '1' }, { capabilities: o.capabilities ?? {} });
  o.setup?.(client);
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), { requestInit: { headers } }));
  clients.add(client);
  return client;
}

/** Every item of a paginated list, following the endpoint's cursors to the end. */
async function every<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const p = await page(cursor);
    out.push(...p.items);
    cursor = p.nextCursor;
    if (++pages > 50) throw new Error('more than 50 pages: a cursor loop?');
  } while (cursor !== undefined);
  return out;
}

const allTools = (c: Client): Promise<string[]> =>
  every(async (cursor) => {
    const r = await c.listTools(cursor === undefined ? {} : { cursor });
    return { items: r.tools.map((t) => t.name), nextCursor: r.nextCursor };
  });
const allPrompts = (c: Client): Promise<string[]> =>
  every(async (cursor) => {
    const r = await c.listPrompts(cursor === undefined ? {} : { cursor });
    return { items: r.prompts.map((p) => p.name), nextCursor: r.nextCursor };
  });
const allResources = (c: Client): Promise<string[]> =>
  every(async (cursor) => {
    const r = await c.listResources(cursor === undefined ? {} : { cursor });
    return { items: r.resources.map((x) => x.uri), nextCursor: r.nextCursor };
  });
const allTemplates = (c: Client): Promise<string[]> =>
  every(async (cursor) => {
    const r = await c.listResourceTemplates(cursor === undefined ? {} : { cursor });
    return { items: r.resourceTemplates.map((t) => t.uriTemplate), nextCursor: r.nextCursor };
  });

const auth = { headers: { authorization: `Bearer ${ALL}` } };

async function serverRows(h: Harness): Promise<{ name: string; pid: number | null; inFlight: number }[]> {
  return (await getJson(`${h.url}/mcp/servers`, auth)).servers;
}

/** What a DEMO_TRACE child logged it received (GET /mcp/<server>/stderr, an admin route). */
async function traces(h: Harness, server: string): Promise<string[]> {
  return ((await getJson(`${h.url}/mcp/${server}/stderr`, auth)).lines as string[]).filter((l) => l.startsWith('trace: '));
}

/** A file the stdin tap copies what a conformance child hears into, and its messages. */
function tapFile(): { file: string; heard: () => Json[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-tap-'));
  tempDirs.push(dir);
  const file = path.join(dir, 'heard.jsonl');
  const heard = (): Json[] => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json);
  };
  return { file, heard };
}

/** A cursor of the aggregate's form (base64url of JSON [server] or [server, its own cursor]), made up. */
const craftedCursor = (parts: string[]): string => Buffer.from(JSON.stringify(parts)).toString('base64url');

/** The outcome of a call as text: its result's text, or the error's message. Never throws. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    return `result: ${textOf(await p)}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

describe('the aggregate endpoint routes server-to-client requests', () => {
  it('sends a shared child\'s sampling request to the session whose call caused it, and its answer back to the child', async () => {
    const sampling = '    clientCapabilities: [sampling]\n';
    const h = await startHarness(manifestWith(demoServer('a', sampling) + demoServer('b', sampling) + demoServer('c', '    sharing: per-session\n')));
    const asked = { caller: [] as string[], bystander: [] as string[] };
    const answering = (who: keyof typeof asked) => (c: Client) =>
      c.setRequestHandler(CreateMessageRequestSchema, async (req) => {
        const content = req.params.messages[0]!.content as { type: string; text?: string };
        asked[who].push(String(content.text));
        return { role: 'assistant', model: `${who}-model`, content: { type: 'text', text: `${who} says: ${content.text}` } };
      });
    const caller = await connect(h, ALL, { capabilities: { sampling: {} }, setup: answering('caller') });
    const bystander = await connect(h, ALL, { capabilities: { sampling: {} }, setup: answering('bystander') });

    expect(textOf(await caller.callTool({ name: 'a__sample', arguments: { prompt: 'first' } }))).toBe('caller says: first');
    expect(asked).toEqual({ caller: ['first'], bystander: [] });
    // Another shared member, from the other session: the question goes to that session only.
    expect(textOf(await bystander.callTool({ name: 'b__sample', arguments: { prompt: 'second' } }))).toBe('bystander says: second');
    expect(asked).toEqual({ caller: ['first'], bystander: ['second'] });
    // A per-session member (the session's own child) asks its session too.
    expect(textOf(await caller.callTool({ name: 'c__sample', arguments: { prompt: 'third' } }))).toBe('caller says: third');
    expect(asked).toEqual({ caller: ['first', 'third'], bystander: ['second'] });

    // A session that did not declare sampling: the child hears a refusal, and nobody else is asked.
    const plain = await connect(h, ALL);
    const refused = await plain.callTool({ name: 'a__sample', arguments: { prompt: 'fourth' } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/sampling failed: .*did not declare the "sampling" capability/);
    expect(asked).toEqual({ caller: ['first', 'third'], bystander: ['second'] });
  });
});

describe('the aggregate endpoint routes completions, resources and prompts of a real SDK server', () => {
  it('routes completion/complete by ref: a qualified prompt name, or a template\'s URI', async () => {
    const tap = tapFile();
    const h = await startHarness(manifestWith(demoServer('a') + conformanceServer('b', { tapLog: tap.file })));
    const client = await connect(h, ALL);
    expect(client.getServerCapabilities()?.completions).toBeDefined();

    // First thing in the session, before any list: the endpoint learns whose template it is.
    const byTemplate = await client.complete({ ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '1' } });
    expect(byTemplate.completion.values).toEqual(['1', '123']);
    const byPrompt = await client.complete({ ref: { type: 'ref/prompt', name: 'b__test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'te' } });
    expect(byPrompt.completion.values).toEqual(['test', 'testing', 'tested']);
    const arg2 = await client.complete({ ref: { type: 'ref/prompt', name: 'b__test_prompt_with_arguments' }, argument: { name: 'arg2', value: 'wor' } });
    expect(arg2.completion.values).toEqual(['world', 'work', 'word']);

    // The child heard its own names, never the qualified ones.
    const completions = tap.heard().filter((m) => m.method === 'completion/complete');
    expect(completions.map((m) => m.params.ref)).toEqual([
      { type: 'ref/resource', uri: 'test://template/{id}/data' },
      { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
    ]);

    // Refs that name no member: the unqualified name, a member without that prompt, a URI nobody serves.
    await expect(client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: '' } })).rejects.toThrow(/names no \w+ of this endpoint|is not one of this endpoint/);
    await expect(client.complete({ ref: { type: 'ref/resource', uri: 'nowhere://x/{id}' }, argument: { name: 'id', value: '' } })).rejects.toThrow(/Resource not found/);
    // a is the demo server (no completions): its own error comes back, b is not asked.
    const before = tap.heard().length;
    await expect(client.complete({ ref: { type: 'ref/prompt', name: 'a__test_prompt_with_arguments' }, argument: { name: 'arg1', value: '' } })).rejects.toThrow(/method not found: completion\/complete/);
    expect(tap.heard().slice(before).filter((m) => m.method === 'completion/complete')).toEqual([]);
  });

  it('routes resources/subscribe and unsubscribe by URI (updates follow), and merges resources and templates lists', async () => {
    const tap = tapFile();
    const h = await startHarness(manifestWith(traced('a') + conformanceServer('b', { tapLog: tap.file })));
    const updates: string[] = [];
    const client = await connect(h, ALL, { setup: (c) => c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri)) });
    expect(client.getServerCapabilities()?.resources).toMatchObject({ subscribe: true, listChanged: true });

    // Lists across both members (a has no templates: skipped, not an error).
    expect(await allResources(client)).toEqual(expect.arrayContaining(['demo://notes/hello', 'test://static-text', 'test://static-binary', 'test://watched-resource']));
    expect(await allTemplates(client)).toEqual(['test://template/{id}/data']);

    // a's resource: a hears the subscribe, its update reaches the session; after unsubscribe, none does.
    await client.subscribeResource({ uri: 'demo://notes/hello' });
    await waitFor(async () => (await traces(h, 'a')).includes('trace: resources/subscribe'), 'subscribe at a');
    await client.callTool({ name: 'a__touch', arguments: { uri: 'demo://notes/hello' } });
    await waitFor(() => updates.length === 1, 'the update of demo://notes/hello');
    expect(updates).toEqual(['demo://notes/hello']);
    await client.unsubscribeResource({ uri: 'demo://notes/hello' });
    await waitFor(async () => (await traces(h, 'a')).includes('trace: resources/unsubscribe'), 'unsubscribe at a');
    await client.callTool({ name: 'a__touch', arguments: { uri: 'demo://notes/hello' } });
    await client.callTool({ name: 'a__echo', arguments: { text: 'after' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(updates).toEqual(['demo://notes/hello']);

    // b's resources, listed and by template: b hears them with the URI as given; a hears none of them.
    await client.subscribeResource({ uri: 'test://watched-resource' });
    await client.subscribeResource({ uri: 'test://template/42/data' });
    await client.unsubscribeResource({ uri: 'test://watched-resource' });
    const heard = tap.heard().filter((m) => m.method === 'resources/subscribe' || m.method === 'resources/unsubscribe');
    expect(heard.map((m) => [m.method, m.params.uri])).toEqual([
      ['resources/subscribe', 'test://watched-resource'],
      ['resources/subscribe', 'test://template/42/data'],
      ['resources/unsubscribe', 'test://watched-resource'],
    ]);
    const atA = await traces(h, 'a');
    expect(atA.filter((t) => t === 'trace: resources/subscribe')).toHaveLength(1);
    // A URI no member lists or templates: the gateway says so, no child is asked.
    await expect(client.subscribeResource({ uri: 'test://nowhere' })).rejects.toThrow(/Resource not found/);
    await expect(client.readResource({ uri: 'elsewhere://x' })).rejects.toThrow(/Resource not found/);

    // A session that ends holds no subscription: a hears the unsubscribe of what it still held.
    await client.subscribeResource({ uri: 'demo://notes/hello' });
    await waitFor(async () => (await traces(h, 'a')).filter((t) => t === 'trace: resources/subscribe').length === 2, 'the second subscribe at a');
    await (client.transport as StreamableHTTPClientTransport).terminateSession();
    await waitFor(async () => (await traces(h, 'a')).filter((t) => t === 'trace: resources/unsubscribe').length === 2, 'unsubscribe at a when the session ended');
  });

  it('lists prompts as <server>__<name> and gets them from their server under their own name', async () => {
    const tap = tapFile();
    const h = await startHarness(manifestWith(demoServer('a') + conformanceServer('b', { tapLog: tap.file })));
    const client = await connect(h, ALL);
    expect(client.getServerCapabilities()?.prompts).toMatchObject({ listChanged: true });
    const prompts = await allPrompts(client);
    expect(prompts).toEqual(expect.arrayContaining(['b__test_simple_prompt', 'b__test_prompt_with_arguments', 'b__test_prompt_with_embedded_resource', 'b__test_prompt_with_image']));
    expect(prompts.every((p) => p.startsWith('b__'))).toBe(true);

    const withArgs = await client.getPrompt({ name: 'b__test_prompt_with_arguments', arguments: { arg1: 'x', arg2: 'y' } });
    expect(withArgs.messages[0]!.content).toEqual({ type: 'text', text: "Prompt with arguments: arg1='x', arg2='y'" });
    const simple = await client.getPrompt({ name: 'b__test_simple_prompt' });
    expect(simple.messages[0]!.content).toMatchObject({ text: 'This is a simple prompt for testing.' });
    expect(tap.heard().filter((m) => m.method === 'prompts/get').map((m) => m.params.name)).toEqual(['test_prompt_with_arguments', 'test_simple_prompt']);

    await expect(client.getPrompt({ name: 'test_simple_prompt' })).rejects.toThrow(/names no \w+ of this endpoint|is not one of this endpoint/);
    // a (demo) has no prompts: its own error, b never asked.
    await expect(client.getPrompt({ name: 'a__test_simple_prompt' })).rejects.toThrow(/method not found: prompts\/get/);
    expect(tap.heard().filter((m) => m.method === 'prompts/get')).toHaveLength(2);
  });
});

describe('the aggregate endpoint passes cancels to the member that runs the call', () => {
  it('a call the SDK client aborts is cancelled at its child (and only there); the session goes on', async () => {
    const h = await startHarness(manifestWith(traced('a') + traced('b')));
    const client = await connect(h, ALL);
    const abort = new AbortController();
    let progressed = 0;
    const call = client.callTool({ name: 'a__slow', arguments: { ms: 20_000, steps: 200 } }, undefined, { signal: abort.signal, onprogress: () => void progressed++ });
    await waitFor(() => progressed > 0, 'the first progress of a__slow');
    expect((await serverRows(h)).find((r) => r.name === 'a')?.inFlight).toBe(1);
    abort.abort('the user gave up');
    await expect(call).rejects.toThrow();
    await waitFor(async () => (await traces(h, 'a')).includes('trace: notifications/cancelled'), 'notifications/cancelled at a', 5000);
    await waitFor(async () => (await serverRows(h)).find((r) => r.name === 'a')?.inFlight === 0, 'nothing in flight on a');
    // b ran nothing and heard no cancel.
    expect(await traces(h, 'b')).not.toContain('trace: notifications/cancelled');
    expect(textOf(await client.callTool({ name: 'a__echo', arguments: { text: 'still here' } }))).toBe('still here');
  });
});

describe('mcp-remote and the SDK client on /mcp', () => {
  it('both connect to the aggregate endpoint, list across pages and call tools of either member', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b')));
    const bridge = startBridge(`${h.url}/mcp`);
    bridge.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'desktop', version: '1' } } });
    const init = await bridge.answer(1, 'initialize through mcp-remote');
    expect(init.result.serverInfo.name).toBe('mcp-gateway');
    expect(init.result.protocolVersion).toBe('2025-06-18');
    bridge.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const names: string[] = [];
    let cursor: string | undefined;
    for (let id = 2; id < 10; id++) {
      bridge.send({ jsonrpc: '2.0', id, method: 'tools/list', params: cursor === undefined ? {} : { cursor } });
      const page = await bridge.answer(id, `tools/list page ${id - 1} through mcp-remote`);
      names.push(...page.result.tools.map((t: Json) => t.name));
      cursor = page.result.nextCursor;
      if (cursor === undefined) break;
    }
    expect(cursor).toBeUndefined();
    expect(names).toEqual(expect.arrayContaining([...DEMO_TOOLS.map((t) => `a__${t}`), ...DEMO_TOOLS.map((t) => `b__${t}`)]));
    bridge.send({ jsonrpc: '2.0', id: 20, method: 'tools/call', params: { name: 'b__echo', arguments: { text: 'via mcp-remote' } } });
    expect((await bridge.answer(20, 'tools/call b__echo')).result.content[0].text).toBe('via mcp-remote');

    // The SDK client at the same time, on its own session.
    const sdk = await connect(h, undefined);
    expect(new Set(await allTools(sdk))).toEqual(new Set(names));
    const pids = await serverRows(h);
    expect(textOf(await sdk.callTool({ name: 'a__pid', arguments: {} }))).toBe(String(pids.find((r) => r.name === 'a')?.pid));
    bridge.send({ jsonrpc: '2.0', id: 21, method: 'tools/call', params: { name: 'a__pid', arguments: {} } });
    expect((await bridge.answer(21, 'tools/call a__pid')).result.content[0].text).toBe(String(pids.find((r) => r.name === 'a')?.pid));
  });
});

describe('a key scoped to one server, through /mcp', () => {
  // a_b and a__b are other servers whose names start with a's; b is the SDK server (prompts, templates).
  const PREFIXED = demoServer('a') + demoServer('a_b') + demoServer('a__b') + conformanceServer('b');

  it('cannot reach another server by any spelling of a name, URI, completion ref or cursor', async () => {
    const h = await startHarness(manifestWith(PREFIXED));
    const all = await connect(h, ALL);
    const onlyA = await connect(h, ONLY_A);
    const rows = await waitFor(async () => {
      const r = await serverRows(h);
      return r.every((s) => s.pid !== null) ? r : undefined;
    }, 'every child up');
    const pidOf = (n: string): string => String(rows.find((r) => r.name === n)!.pid);
    const hiddenPids = ['a_b', 'a__b', 'b'].map(pidOf);

    // What A sees: a's tools and resources, nothing else.
    expect((await allTools(onlyA)).sort()).toEqual(DEMO_TOOLS.map((t) => `a__${t}`).sort());
    expect(await allPrompts(onlyA)).toEqual([]);
    expect(await allResources(onlyA)).toEqual(['demo://notes/hello']);
    expect(await allTemplates(onlyA)).toEqual([]);
    // The key with every server sees the longest server name win: a__b__pid is a__b's pid tool.
    expect(textOf(await all.callTool({ name: 'a__b__pid', arguments: {} }))).toBe(pidOf('a__b'));
    expect(textOf(await all.callTool({ name: 'a_b__pid', arguments: {} }))).toBe(pidOf('a_b'));

    // Spellings of the hidden servers' tools: none answers with a hidden child's pid.
    const spellings = ['b__pid', 'a_b__pid', 'a__b__pid', 'a___b__pid', 'a__a_b__pid', 'A_B__pid', 'A__pid', '__a_b__pid', 'a_b___pid', 'a_b____pid', ' a_b__pid', 'a_b__pid ', 'a\u200b_b__pid', 'a%5Fb__pid', 'a_b/pid', 'a_b.pid', 'a_b:pid', '@__a_b__pid', 'b', 'a__'];
    for (const name of spellings) {
      const got = await outcome(onlyA.callTool({ name, arguments: {} }));
      for (const pid of hiddenPids) expect(got, `${JSON.stringify(name)} → ${got}`).not.toContain(pid);
      expect(got, `${JSON.stringify(name)} → ${got}`).toMatch(/^error: /);
    }
    // a__b__pid is a's tool "b__pid" for A (a__b is not A's): a's own "unknown tool", from a.
    expect(await outcome(onlyA.callTool({ name: 'a__b__pid', arguments: {} }))).toMatch(/unknown tool: b__pid/);
    expect(await outcome(onlyA.callTool({ name: 'a__pid', arguments: {} }))).toBe(`result: ${pidOf('a')}`);

    // b's prompts, resources, templates and completion refs.
    await expect(onlyA.getPrompt({ name: 'b__test_simple_prompt' })).rejects.toThrow(/names no \w+ of this endpoint|is not one of this endpoint/);
    for (const uri of ['test://static-text', 'test://watched-resource', 'test://template/1/data']) {
      await expect(onlyA.readResource({ uri }), uri).rejects.toThrow(/Resource not found/);
      await expect(onlyA.subscribeResource({ uri }), uri).rejects.toThrow(/Resource not found/);
    }
    await expect(onlyA.complete({ ref: { type: 'ref/prompt', name: 'b__test_prompt_with_arguments' }, argument: { name: 'arg1', value: 't' } })).rejects.toThrow(/names no \w+ of this endpoint|is not one of this endpoint/);
    await expect(onlyA.complete({ ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '1' } })).rejects.toThrow(/Resource not found/);
    // The same URIs work for the key with every server (they are real).
    expect((await all.readResource({ uri: 'test://static-text' })).contents[0]).toMatchObject({ text: 'This is the content of the static text resource.' });

    // Cursors naming a hidden server, made up or given to another key's session.
    // A cursor naming a server the caller does not see goes on with the next one it sees (in name order),
    // as after a reload took that server away: it never shows anything of the hidden one.
    const onlyOwn = (items: { name?: string; uri?: string; uriTemplate?: string }[], what: string): void => {
      for (const item of items) {
        if (item.name !== undefined && (what === 'tools' || what === 'prompts')) expect(item.name.startsWith('a__') && !item.name.startsWith('a__b__'), `${what} ${item.name}`).toBe(true);
      }
    };
    for (const parts of [['b'], ['a_b'], ['a__b'], ['b', 'x'], ['a_b', ''], ['@']]) {
      const cursor = craftedCursor(parts);
      const pages = [
        ['tools', await onlyA.listTools({ cursor }).then((r) => r.tools, (e: Error) => e)],
        ['prompts', await onlyA.listPrompts({ cursor }).then((r) => r.prompts, (e: Error) => e)],
        ['resources', await onlyA.listResources({ cursor }).then((r) => r.resources, (e: Error) => e)],
      ] as const;
      for (const [what, page] of pages) {
        if (page instanceof Error) expect(page.message, JSON.stringify(parts)).toMatch(/cursor/);
        else onlyOwn(page as { name?: string }[], what);
      }
      // A's own server sorts before every one of these: nothing is left after them.
      const later = await onlyA.listTools({ cursor }).catch(() => ({ tools: [] }));
      if (parts[0]! > 'a') expect(later.tools, JSON.stringify(parts)).toEqual([]);
    }
    const real = (await all.listTools()).nextCursor;
    expect(real).toBeDefined();
    const fromAll = await onlyA.listTools({ cursor: real }).catch(() => ({ tools: [] }));
    onlyOwn(fromAll.tools, 'tools');
    // The cursor of A's own (only) server is fine, and stays on it.
    const fromA = await onlyA.listTools({ cursor: craftedCursor(['a']) });
    expect(fromA.tools.every((t) => t.name.startsWith('a__') && !t.name.startsWith('a__b__'))).toBe(true);

    // Another key's aggregate session, named by its id: it does not exist for A, on /mcp or elsewhere.
    const allSession = (all.transport as StreamableHTTPClientTransport).sessionId!;
    const post = (url: string, key: string, body: object): Promise<Response> =>
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'mcp-session-id': allSession, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(body) });
    const callB = { jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'b__pid', arguments: {} } };
    expect((await post(`${h.url}/mcp`, ONLY_A, callB)).status).toBe(404);
    expect((await post(`${h.url}/mcp/a/mcp`, ONLY_A, { ...callB, params: { name: 'pid', arguments: {} } })).status).toBe(404);
    // Nor is an aggregate session one of a server's sessions, for its own key either.
    expect((await post(`${h.url}/mcp/b/mcp`, ALL, { ...callB, params: { name: 'pid', arguments: {} } })).status).toBe(404);
    const get = await fetch(`${h.url}/mcp`, { headers: { authorization: `Bearer ${ONLY_A}`, 'mcp-session-id': allSession, accept: 'text/event-stream' } });
    expect(get.status).toBe(404);
    await get.body?.cancel();
    const del = await fetch(`${h.url}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${ONLY_A}`, 'mcp-session-id': allSession } });
    expect(del.status).toBe(404);
    expect(textOf(await all.callTool({ name: 'a_b__echo', arguments: { text: 'untouched' } }))).toBe('untouched');
  });

  it('a session of key A follows a reload that gives A another server: list_changed, then the new server', async () => {
    const h = await startHarness(manifestWith(demoServer('a') + demoServer('b'), '[a]'));
    const changed = { tools: 0, prompts: 0, resources: 0 };
    const old = await connect(h, ONLY_A, {
      setup: (c) => {
        c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed.tools++);
        c.setNotificationHandler(PromptListChangedNotificationSchema, () => void changed.prompts++);
        c.setNotificationHandler(ResourceListChangedNotificationSchema, () => void changed.resources++);
      },
    });
    expect(new Set((await allTools(old)).map((n) => n.split('__')[0]))).toEqual(new Set(['a']));

    h.write(manifestWith(demoServer('a') + demoServer('b'), '[a, b]'));
    // The reload is applied: a new session of the same key sees both servers.
    await waitFor(async () => {
      const fresh = await connect(h, ONLY_A);
      const servers = new Set((await allTools(fresh)).map((n) => n.split('__')[0]));
      await fresh.close();
      clients.delete(fresh);
      return servers.has('b');
    }, 'a new session of key A sees b', 10_000);
    // The session opened before hears so, and sees b too.
    await waitFor(() => changed.tools > 0, 'tools/list_changed to the old session of key A', 3000);
    expect(new Set((await allTools(old)).map((n) => n.split('__')[0]))).toEqual(new Set(['a', 'b']));
    expect(textOf(await old.callTool({ name: 'b__echo', arguments: { text: 'now mine' } }))).toBe('now mine');
  });

  it('a session of key A loses a server at once when a reload takes it from A: list_changed, and its calls are refused', async () => {
    const h = await startHarness(manifestWith(demoServer('a') + demoServer('b'), '[a, b]'));
    let changed = 0;
    const old = await connect(h, ONLY_A, { setup: (c) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++) });
    expect(new Set((await allTools(old)).map((n) => n.split('__')[0]))).toEqual(new Set(['a', 'b']));
    expect(textOf(await old.callTool({ name: 'b__echo', arguments: { text: 'mine for now' } }))).toBe('mine for now');

    h.write(manifestWith(demoServer('a') + demoServer('b'), '[a]'));
    await waitFor(async () => {
      const fresh = await connect(h, ONLY_A);
      const servers = new Set((await allTools(fresh)).map((n) => n.split('__')[0]));
      await fresh.close();
      clients.delete(fresh);
      return !servers.has('b');
    }, 'a new session of key A no longer sees b', 10_000);
    // The session opened before the reload must not keep what the key lost.
    expect(await outcome(old.callTool({ name: 'b__echo', arguments: { text: 'leak' } }))).toMatch(/^error: .*(names no \w+ of this endpoint|is not one of this endpoint)/);
    expect(new Set((await allTools(old)).map((n) => n.split('__')[0]))).toEqual(new Set(['a']));
    await waitFor(() => changed > 0, 'tools/list_changed to the old session of key A', 3000);
  });
});

// A member whose list comes in pages, the first one empty (the spec allows any page size, 0 too).
const PAGER = `
import { createInterface } from 'node:readline';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.id === undefined || m.method === undefined) return;
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'pager', version: '1' } } });
  if (m.method === 'tools/list') {
    const c = m.params?.cursor;
    if (c === undefined) return send({ jsonrpc: '2.0', id: m.id, result: { tools: [], nextCursor: 'p2' } });
    if (c === 'p2') return send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'on_page_two', inputSchema: { type: 'object' } }], nextCursor: 'p3' } });
    if (c === 'p3') return send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'on_page_three', inputSchema: { type: 'object' } }] } });
    return send({ jsonrpc: '2.0', id: m.id, error: { code: -32602, message: 'bad cursor' } });
  }
  if (m.method === 'ping') return send({ jsonrpc: '2.0', id: m.id, result: {} });
  send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found: ' + m.method } });
});
lines.on('close', () => process.exit(0));
`;

describe('the aggregate endpoint\'s pages', () => {
  it('follows a member\'s own cursor past an empty page of that member', async () => {
    const pager = `  p:\n    command: node\n    args: ["pager.mjs"]\n`;
    const h = await startHarness(manifestWith(demoServer('a') + pager + demoServer('q')), {}, { 'pager.mjs': PAGER });
    const client = await connect(h, ALL);
    const names = await allTools(client);
    expect(names).toEqual(expect.arrayContaining(['p__on_page_two', 'p__on_page_three', 'a__echo', 'q__echo']));
  });
});

// A member whose resources/list takes a while (the aggregate lists to learn whose a URI is), and which
// says on stderr what it hears of reads and cancels.
const SLOW_LIST = `
import { createInterface } from 'node:readline';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.method === 'notifications/cancelled') process.stderr.write('heard: notifications/cancelled\\n');
  if (m.id === undefined || m.method === undefined) return;
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { resources: {} }, serverInfo: { name: 'slow-list', version: '1' } } });
  if (m.method === 'resources/list') return void setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: { resources: [{ uri: 'slow://x', name: 'x' }] } }), 1000);
  if (m.method === 'resources/read') {
    process.stderr.write('heard: resources/read\\n');
    return send({ jsonrpc: '2.0', id: m.id, result: { contents: [{ uri: 'slow://x', text: 'x' }] } });
  }
  if (m.method === 'ping') return send({ jsonrpc: '2.0', id: m.id, result: {} });
  send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found: ' + m.method } });
});
lines.on('close', () => process.exit(0));
`;

describe('the aggregate endpoint\'s cancels before a member is chosen', () => {
  it('a request cancelled while the endpoint still learns whose URI it is never reaches the child uncancelled', async () => {
    const slow = `  s:\n    command: node\n    args: ["slow-list.mjs"]\n`;
    const h = await startHarness(manifestWith(slow, '[s]'), {}, { 'slow-list.mjs': SLOW_LIST });
    const client = await connect(h, ALL);
    const abort = new AbortController();
    // The first read of the session: the endpoint lists s's resources (1 s) before it knows the URI is s's.
    const read = client.readResource({ uri: 'slow://x' }, { signal: abort.signal });
    await new Promise((r) => setTimeout(r, 300));
    abort.abort('the user gave up');
    await expect(read).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 1500));
    const heard = ((await getJson(`${h.url}/mcp/s/stderr`, auth)).lines as string[]).filter((l) => l.startsWith('heard: '));
    // Either the read was never sent, or its cancel followed it.
    if (heard.includes('heard: resources/read')) expect(heard).toEqual(['heard: resources/read', 'heard: notifications/cancelled']);
    else expect(heard).toEqual([]);
  });
});
