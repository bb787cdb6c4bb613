// POST /admin/plan on a real gateway: a value made with ${VAR} (here the gateway's own environment) never
// comes back in the answer, in the running manifest or the planned one; the answer still says it changed.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, running, startHarness, type Json } from '../helpers/gateway.ts';

afterEach(closeAll);

const MARKER = 'SECRET_MARKER_7f3a';

async function planOf(url: string, text: string): Promise<{ status: number; text: string; body: Json }> {
  const res = await fetch(`${url}/admin/plan`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: text });
  const raw = await res.text();
  return { status: res.status, text: raw, body: JSON.parse(raw) };
}

describe('POST /admin/plan', () => {
  it('says that listen.host, args and env made with ${VAR} changed, and never what they hold', async () => {
    const h = await startHarness(manifest(demoServer('a') + demoServer('b', '    env: { TOKEN: "${SOME_SECRET}" }\n')), {
      env: { ...process.env, PORT: undefined, SOME_SECRET: MARKER },
    });
    await running(h.url, 'b');
    const next = manifest(
      demoServer('a', '    env: { TOKEN: "${SOME_SECRET}" }\n', ['--token=${SOME_SECRET}']) + demoServer('b', '    env: { TOKEN: rotated }\n'),
      'auth: { none: true }\n',
    ).replace('host: 127.0.0.1', 'host: "${SOME_SECRET}"');
    const r = await planOf(h.url, next);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(MARKER);
    expect(h.logs.join('\n')).not.toContain(MARKER);
    expect(r.body.plan).toEqual({
      start: [],
      stop: [],
      restart: [
        { name: 'a', changed: ['args', 'env.TOKEN'] },
        { name: 'b', changed: ['env.TOKEN'] },
      ],
      update: [],
      keep: [],
    });
    expect(r.body.notes).toEqual([
      'auth changed (besides keys)',
      'listen.host changed (a value from ${SOME_SECRET}, not shown) (applies at the next restart of the gateway)',
    ]);
  });
});
