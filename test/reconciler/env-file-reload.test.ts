// Env files are part of what a reload reads: an edit of one alone is a change, applied like an edit of the
// manifest. A real gateway, real files, real children reporting their variables' names.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, envNames, manifest, running, servers, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { passAfter } from './passes.ts';

afterEach(closeAll);

const MARKER = 'S3CRET-RELOAD-ENVFILE-2718';

/** Writes `text` to `file` in the harness's folder and waits for a pass that applied it (however long the look takes). */
async function edit(h: Harness, file: string, text: string): Promise<void> {
  const seq = h.gateway.reconciler.passesStarted;
  writeFileSync(path.join(h.dir, file), text);
  await passAfter(h.gateway.reconciler, seq, (p) => p.result === 'applied');
}

/** Waits for `name` running under a pid other than `before`. */
async function restarted(h: Harness, name: string, before: number | null): Promise<number> {
  return waitFor(async () => {
    const s = (await servers(h.url)).servers.find((x) => x.name === name);
    return s?.state === 'running' && s.pid !== null && s.pid !== before ? s.pid : undefined;
  }, `${name} restarted`);
}

describe('Reconciler: an edit of an env file', () => {
  it('alone reloads, restarting only the server whose envFile changed, with the new variable in its child', async () => {
    const h = await startHarness(manifest(demoServer('a', '    envFile: a.env\n') + demoServer('b')), {}, { 'a.env': `TOKEN=${MARKER}\n` });
    const a = await running(h.url, 'a');
    const b = await running(h.url, 'b');
    const hash = h.gateway.reconciler.status.appliedHash;
    expect(await envNames(h.url, 'a')).not.toContain('ADDED');

    await edit(h, 'a.env', `TOKEN=${MARKER}-rotated\nADDED=1\n`);
    const pid = await restarted(h, 'a', a.pid);
    expect(pid).not.toBe(a.pid);
    expect(await envNames(h.url, 'a')).toEqual(expect.arrayContaining(['TOKEN', 'ADDED']));
    expect((await running(h.url, 'b')).pid).toBe(b.pid);
    const reload = h.logs.find((l) => l.includes('"msg":"reload: restarted a'));
    expect(reload).toContain('restarted a (env.ADDED (from envFile), env.TOKEN (from envFile)); kept b');
    // The manifest's bytes did not change: the hash it reports is the same.
    expect(h.gateway.reconciler.status.appliedHash).toBe(hash);
    expect(h.logs.join('\n')).not.toContain(MARKER);
  });

  it('outside the watched folder is seen by the periodic look', async () => {
    // The watcher sees the manifest's folder, not its subfolders: secrets/ is only read at each look.
    const h = await startHarness(manifest(demoServer('a', '    envFile: secrets/deep/a.env\n')), {}, { 'secrets/deep/a.env': 'FIRST=1\n' });
    const a = await running(h.url, 'a');
    await edit(h, 'secrets/deep/a.env', 'FIRST=1\nSECOND=2\n');
    await restarted(h, 'a', a.pid);
    expect(await envNames(h.url, 'a')).toEqual(expect.arrayContaining(['FIRST', 'SECOND']));
  });

  it('of the top-level file restarts the servers whose ${VAR} values changed, and only those', async () => {
    const h = await startHarness(
      manifest(demoServer('a', '', ['--token=${TOKEN}']) + demoServer('b', '    env: { OTHER: "${OTHER}" }\n'), 'envFile: top.env\n'),
      {},
      { 'top.env': `TOKEN=${MARKER}\nOTHER=same\n` },
    );
    const a = await running(h.url, 'a');
    const b = await running(h.url, 'b');
    await edit(h, 'top.env', `TOKEN=${MARKER}-rotated\nOTHER=same\n`);
    await restarted(h, 'a', a.pid);
    expect((await running(h.url, 'b')).pid).toBe(b.pid);
    expect(h.logs.some((l) => l.includes('"msg":"reload: restarted a (args); kept b'))).toBe(true);
    expect(h.logs.join('\n')).not.toContain(MARKER);
  });

  it('that breaks it keeps everything running and says where, without its value; the fix applies', async () => {
    const h = await startHarness(manifest(demoServer('a', '    envFile: a.env\n')), {}, { 'a.env': 'TOKEN=1\n' });
    const a = await running(h.url, 'a');
    let seq = h.gateway.reconciler.passesStarted;
    writeFileSync(path.join(h.dir, 'a.env'), `TOKEN=1\nBROKEN="${MARKER}\n`);
    await passAfter(h.gateway.reconciler, seq, (p) => p.result === 'rejected');
    const body = await servers(h.url);
    expect(body.manifest.state).toBe('error');
    expect(body.manifest.errors).toEqual([`${path.join(h.dir, 'a.env')}:2:8: BROKEN: the double quote opened here is not closed on this line; close it (write \\n inside double quotes for a line break)`]);
    expect((await running(h.url, 'a')).pid).toBe(a.pid);

    seq = h.gateway.reconciler.passesStarted;
    rmSync(path.join(h.dir, 'a.env'));
    await passAfter(h.gateway.reconciler, seq, (p) => p.result === 'rejected');
    expect((await servers(h.url)).manifest.errors).toEqual([
      `${h.file}:7:14: servers.a.envFile: cannot read ${path.join(h.dir, 'a.env')}: file not found; create it (readable only by the gateway's user: it holds secrets) or fix the path`,
    ]);

    await edit(h, 'a.env', `TOKEN=1\nFIXED="${MARKER}"\n`);
    await restarted(h, 'a', a.pid);
    expect((await servers(h.url)).manifest.state).toBe('ok');
    expect(await envNames(h.url, 'a')).toContain('FIXED');
    expect(JSON.stringify(await servers(h.url)) + h.logs.join('\n')).not.toContain(MARKER);
  });
});
