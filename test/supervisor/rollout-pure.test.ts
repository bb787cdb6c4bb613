// The pure pieces a rollout decides with: which spec a child runs, and which lists changed.
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/config/load.ts';
import type { ServerSpec } from '../../src/config/types.ts';
import type { JsonRpcResponse } from '../../src/protocol/jsonrpc.ts';
import { changedLists, listDiffers, readList, sameProcess, specRevision, type ListSource } from '../../src/supervisor/rollout.ts';

function spec(yaml: string): ServerSpec {
  const r = parseManifest('/srv/m.yaml', `version: 1\nservers:\n  a:\n${yaml}`, {});
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.desired.servers.get('a')!;
}

/** A child answering list pages from `pages` (method → pages), counting what it was asked. */
function child(capabilities: Record<string, object>, pages: Record<string, unknown[][]>): ListSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    initializeResult: { capabilities },
    async send(method, params): Promise<JsonRpcResponse> {
      asked.push(`${method} ${String(params.cursor ?? '')}`);
      const all = pages[method];
      if (all === undefined) return { jsonrpc: '2.0', id: 0, error: { code: -32601, message: 'no' } };
      const n = params.cursor === undefined ? 0 : Number(params.cursor);
      const key = method.split('/')[0]!;
      return { jsonrpc: '2.0', id: 0, result: { [key]: all[n], ...(n + 1 < all.length ? { nextCursor: String(n + 1) } : {}) } };
    },
  };
}

describe('specRevision and sameProcess', () => {
  it('names the process fields only: a timeout change keeps the revision, an env value change does not', () => {
    const base = spec('    command: node\n    env: { TOKEN: one }\n');
    expect(specRevision(spec('    command: node\n    env: { TOKEN: one }\n    requestTimeout: 5s\n'))).toBe(specRevision(base));
    expect(sameProcess(base, spec('    command: node\n    env: { TOKEN: one }\n    liveness: false\n'))).toBe(true);
    const other = spec('    command: node\n    env: { TOKEN: two }\n');
    expect(specRevision(other)).not.toBe(specRevision(base));
    expect(sameProcess(base, other)).toBe(false);
    expect(specRevision(base)).toMatch(/^[0-9a-f]{12}$/);
  });

  it('counts limits as the process', () => {
    expect(sameProcess(spec('    command: node\n'), spec('    command: node\n    limits: { files: 64 }\n'))).toBe(false);
  });
});

describe('listDiffers', () => {
  it('compares items whatever their key order, and declared against undeclared', () => {
    expect(listDiffers([{ name: 'a', description: 'x' }], [{ description: 'x', name: 'a' }])).toBe(false);
    expect(listDiffers([{ name: 'a' }], [{ name: 'b' }])).toBe(true);
    expect(listDiffers('undeclared', 'undeclared')).toBe(false);
    expect(listDiffers('undeclared', [])).toBe(true);
    expect(listDiffers('unreadable', 'unreadable')).toBe(true);
  });
});

describe('readList and changedLists', () => {
  it('reads every page, and gives up past ten', async () => {
    const c = child({ tools: {} }, { 'tools/list': [[{ name: 'a' }], [{ name: 'b' }], [{ name: 'c' }]] });
    expect(await readList(c, 'tools/list', 'tools')).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(c.asked).toEqual(['tools/list ', 'tools/list 1', 'tools/list 2']);
    const endless = child({ tools: {} }, { 'tools/list': Array.from({ length: 50 }, (_, i) => [{ name: `t${i}` }]) });
    expect(await readList(endless, 'tools/list', 'tools')).toBe('unreadable');
    expect(endless.asked).toHaveLength(10);
  });

  it('asks nothing of a list the child does not declare, and names each list that differs', async () => {
    const before = child({ tools: {}, resources: {} }, { 'tools/list': [[{ name: 'a' }]], 'resources/list': [[{ uri: 'x://1' }]] });
    const after = child({ tools: {}, prompts: {}, resources: {} }, { 'tools/list': [[{ name: 'a' }]], 'prompts/list': [[]], 'resources/list': [[{ uri: 'x://2' }]] });
    expect(await changedLists(before, after)).toEqual(['notifications/prompts/list_changed', 'notifications/resources/list_changed']);
    expect(before.asked.some((a) => a.startsWith('prompts/list'))).toBe(false);
  });

  it('an error reading a list counts as a change', async () => {
    const before = child({ tools: {} }, { 'tools/list': [[{ name: 'a' }]] });
    const after = child({ tools: {} }, {});
    expect(await changedLists(before, after)).toEqual(['notifications/tools/list_changed']);
  });
});
