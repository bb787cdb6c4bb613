// A reload that leaves a token's grants as they were must not end what the
// token's principal holds on the 2026 stateless path (its calls in flight, its per-principal child), as it
// does not for a key (revoke() judges token principals by name again, with the grants of the new manifest).
import { afterEach, expect, it } from 'vitest';
import { closeAll, manifest, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { closeAuthServers, startAuthServer } from '../helpers/oidc.ts';
import { LATE, body26, last, post26, server } from '../stateless/process-helpers.ts';

afterEach(async () => {
  await closeAll();
  await closeAuthServers();
});

const KEY = 'ops-key-0123456789abcdef';

function yaml(issuer: string | undefined, extraKey: boolean): string {
  const keys = `auth:\n  keys:\n    - { name: ops, key: ${KEY}, servers: "*", admin: true }\n${extraKey ? '    - { name: other, key: other-key-0123456789abcdef, servers: [late] }\n' : ''}`;
  const oauth = issuer === undefined ? '' : `  oauth:\n    issuers:\n      - { issuer: "${issuer}" }\n    grants:\n      - { claim: scope, value: "mcp:late", servers: [late] }\n`;
  return manifest(server('late', LATE, '    sharing: per-session\n'), keys + oauth);
}

async function reload(h: Harness, text: string): Promise<void> {
  h.write(text);
  expect((await h.gateway.reconciler.reload('api')).ok).toBe(true);
}

it('an unrelated reload neither abandons a token principal\'s 2026 call nor stops its per-principal child', async () => {
  const h = await startHarness(yaml(undefined, false));
  const as = await startAuthServer({ gatewayBase: h.url, scopes: ['mcp:late'] });
  await reload(h, yaml(as.issuer, false));
  const token = await as.token({ resource: `${h.url}/mcp/late/mcp`, scope: 'mcp:late' });
  const late = h.gateway.reconciler.servers.get('late') as unknown as { sessions: number; state: string };
  await waitFor(() => late.state === 'running', 'late accepting');

  const count = async (id: number): Promise<string> => JSON.stringify(last(await post26(h.url, 'late', body26(id, 'tools/call', { name: 'count', arguments: {} }), { key: token })));
  expect(await count(1)).toContain('"text":"1"');
  const slow = post26(h.url, 'late', body26(2, 'tools/call', { name: 'slow', arguments: { ms: 1500 } }), { key: token });
  await new Promise((r) => setTimeout(r, 300));
  await reload(h, yaml(as.issuer, true)); // adds a key; the token's grants are the same
  const answer = last(await slow);
  expect.soft(JSON.stringify(answer), 'the call in flight was abandoned by a reload that changed nothing for it').toContain('done');
  expect.soft(await count(3), 'the per-principal child was stopped: a fresh one counts from 1').toContain('"text":"3"');
});
