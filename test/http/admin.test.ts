import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, running, startHarness, type Json } from '../helpers/gateway.ts';

afterEach(closeAll);

async function planOf(url: string, text: string, file?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}/admin/plan${file ? `?file=${file}` : ''}`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: text });
  return { status: res.status, body: await res.json() };
}

describe('POST /admin/plan', () => {
  it('plans a manifest against what runs, naming changed env keys but never their values', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b')));
    await running(h.url, 'a');
    const r = await planOf(h.url, manifest(demoServer('a', '    env: { TOKEN: "${SECRET_FOR_PLAN:-v4lue-marker}" }\n') + demoServer('c')));
    expect(r.status).toBe(200);
    expect(r.body.plan).toEqual({ start: ['c'], stop: ['b'], restart: [{ name: 'a', changed: ['env.TOKEN'] }], update: [], keep: [] });
    expect(JSON.stringify(r.body)).not.toContain('v4lue-marker');
    expect(r.body.notes).toEqual([]);
    const withKey = await planOf(h.url, manifest(demoServer('a') + demoServer('b')).replace('servers:', 'auth: { keys: [ { name: newkey, sha256: "' + 'a'.repeat(64) + '", servers: "*" } ] }\nservers:'));
    expect(withKey.body.notes).toEqual(['auth: key newkey added']);
    // Nothing was applied.
    expect((await running(h.url, 'b')).state).toBe('running');
  });

  it('answers 422 with file:line:col errors for a manifest that does not load', async () => {
    const h = await startHarness(manifest(demoServer('a')));
    const r = await planOf(h.url, 'version: 1\nservers:\n  a:\n    comand: node\n', 'next.yaml');
    expect(r.status).toBe(422);
    expect(r.body.errors.some((e: string) => e.startsWith('next.yaml:4:5: unknown key "comand" in server "a"; did you mean "command"?'))).toBe(true);
    expect(r.body.errors.some((e: string) => e.startsWith('next.yaml:3:3: missing required key "command"'))).toBe(true);
  });
});

describe('POST /admin/reload', () => {
  it('reloads the manifest now and reports its status', async () => {
    const h = await startHarness(manifest(demoServer('a')));
    const res = await fetch(`${h.url}/admin/reload`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).manifest.state).toBe('ok');
    expect(h.logs.some((l) => l.includes('"trigger":"api"'))).toBe(true);
  });
});
