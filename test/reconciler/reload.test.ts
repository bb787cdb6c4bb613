import { execFileSync } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, closeAll, demoServer, manifest, servers, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { passAfter } from './passes.ts';

afterEach(closeAll);

const three = (extraB = '', argsB: string[] = []) => manifest(demoServer('a') + demoServer('b', extraB, argsB) + demoServer('c'));

async function pids(h: Harness): Promise<Record<string, number | null>> {
  const body = await servers(h.url);
  return Object.fromEntries(body.servers.filter((s) => s.state === 'running').map((s) => [s.name, s.pid]));
}

async function allRunning(h: Harness, names: string[]): Promise<Record<string, number | null>> {
  return waitFor(async () => {
    const p = await pids(h);
    return names.every((n) => p[n]) && Object.keys(p).length === names.length ? p : undefined;
  }, `${names.join(', ')} running`);
}

describe('Reconciler hot reload', () => {
  it('restarts only the server whose args changed', async () => {
    const h = await startHarness(three());
    const before = await allRunning(h, ['a', 'b', 'c']);
    h.write(three('', ['--changed']));
    const after = await waitFor(async () => {
      const p = await pids(h);
      return p.b && p.b !== before.b ? p : undefined;
    }, 'b restarted');
    expect(after.a).toBe(before.a);
    expect(after.c).toBe(before.c);
    expect(h.logs.some((l) => l.includes('"msg":"reload: restarted b (args)'))).toBe(true);
  });

  it('starts an added server and stops a removed one', async () => {
    const h = await startHarness(three());
    const before = await allRunning(h, ['a', 'b', 'c']);
    h.write(manifest(demoServer('a') + demoServer('b') + demoServer('d')));
    const after = await allRunning(h, ['a', 'b', 'd']);
    expect(after.a).toBe(before.a);
    await waitFor(() => !alive(before.c!), 'c process gone');
  });

  it('applies an atomic rename into place', async () => {
    const h = await startHarness(three());
    await allRunning(h, ['a', 'b', 'c']);
    const tmp = path.join(h.dir, '.mcp-gateway.yaml.tmp');
    writeFileSync(tmp, manifest(demoServer('a') + demoServer('z')));
    renameSync(tmp, h.file);
    await allRunning(h, ['a', 'z']);
  });

  it('applies a delete followed by a re-create', async () => {
    const h = await startHarness(three());
    await allRunning(h, ['a', 'b', 'c']);
    const seq = h.gateway.reconciler.passesStarted;
    rmSync(h.file);
    await passAfter(h.gateway.reconciler, seq, (p) => p.result === 'rejected'); // a pass has seen the file gone
    expect(Object.keys(await pids(h)).sort()).toEqual(['a', 'b', 'c']); // a missing file changes nothing
    h.write(manifest(demoServer('b')));
    await allRunning(h, ['b']);
  });

  it('applies a git checkout of another version', async () => {
    const h = await startHarness(three());
    await allRunning(h, ['a', 'b', 'c']);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: h.dir, stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-qm', 'three');
    git('checkout', '-qb', 'two');
    h.write(manifest(demoServer('a') + demoServer('b')));
    await allRunning(h, ['a', 'b']); // so that the checkout below has something to undo
    git('commit', '-qam', 'two');
    git('checkout', '-q', 'main');
    await allRunning(h, ['a', 'b', 'c']);
    git('checkout', '-q', 'two');
    await allRunning(h, ['a', 'b']);
  });

  it('keeps all servers running on an invalid edit, shows the error, then applies the fix', async () => {
    const h = await startHarness(three());
    const before = await allRunning(h, ['a', 'b', 'c']);
    h.write(three('    stopTimeout: soon\n'));
    const status = await waitFor(async () => {
      const body = await servers(h.url);
      return body.manifest.state === 'error' ? body.manifest : undefined;
    }, 'manifest error shown');
    expect(status.errors[0]).toMatch(new RegExp(`^${h.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: .*stopTimeout`));
    expect(await pids(h)).toEqual(before);
    expect(h.logs.some((l) => l.includes('manifest rejected'))).toBe(true);
    h.write(three('', ['--fixed']));
    await waitFor(async () => (await servers(h.url)).manifest.state === 'ok', 'fix applied');
    // b rolls out: its old child serves until the new one answers initialize.
    const after = await waitFor(async () => {
      const p = await pids(h);
      return p.b && p.b !== before.b ? p : undefined;
    }, 'b rolled out');
    expect(after.a).toBe(before.a);
  });

  it('skips writes that do not change the content', async () => {
    const h = await startHarness(three());
    await allRunning(h, ['a', 'b', 'c']);
    const reloadsBefore = h.logs.filter((l) => l.includes('"msg":"reload:')).length;
    const seq = h.gateway.reconciler.passesStarted;
    h.write(three());
    // The first look after the write (its event, or the periodic look) read the bytes written.
    const look = await passAfter(h.gateway.reconciler, seq, (p) => p.trigger === 'file');
    expect(look.result).toBe('unchanged');
    expect(h.logs.filter((l) => l.includes('"msg":"reload:')).length).toBe(reloadsBefore);
  });
});

describe('Scheduled restarts', () => {
  it('restarts on a cron expression with seconds; a reload that removes the schedule stops it', async () => {
    const everySecond = '    schedule: { restart: "* * * * * *" }\n';
    const h = await startHarness(manifest(demoServer('demo', everySecond)));
    const first = (await allRunning(h, ['demo'])).demo;
    await waitFor(async () => {
      const p = await pids(h);
      return p.demo && p.demo !== first;
    }, 'scheduled restart', 3000);
    // clock keeps the same schedule: its ticks are the signal that demo's would have fired by now.
    h.write(manifest(demoServer('demo') + demoServer('clock', everySecond)));
    await waitFor(async () => (await servers(h.url)).manifest.lastPlan?.includes('updated demo (schedule)'), 'schedule removed');
    const settled = (await allRunning(h, ['demo', 'clock'])).demo;
    const scheduledRestarts = (name: string): number => h.logs.filter((l) => l.includes('"msg":"scheduled restart"') && l.includes(`"server":"${name}"`)).length;
    const demoBefore = scheduledRestarts('demo');
    const clockBefore = scheduledRestarts('clock');
    await waitFor(() => scheduledRestarts('clock') >= clockBefore + 2, 'two ticks of the schedule');
    expect(scheduledRestarts('demo')).toBe(demoBefore);
    expect((await pids(h)).demo).toBe(settled);
  });
});

describe('Reconciler watch', () => {
  it('applies edits after the folder of the manifest was replaced (the watcher follows the new folder)', async () => {
    const { mkdirSync, renameSync: mv } = await import('node:fs');
    const h0 = await startHarness(manifest(''));
    const conf = path.join(h0.dir, 'conf');
    mkdirSync(conf);
    writeFileSync(path.join(conf, 'm.yaml'), manifest(demoServer('a')));
    const h = await startHarness('', { configFile: path.join(conf, 'm.yaml') });
    await allRunning(h, ['a']);
    const next = path.join(h0.dir, 'conf.new');
    mkdirSync(next);
    writeFileSync(path.join(next, 'm.yaml'), manifest(demoServer('a') + demoServer('b')));
    mv(conf, path.join(h0.dir, 'conf.old'));
    mv(next, conf);
    await allRunning(h, ['a', 'b']);
    writeFileSync(path.join(conf, 'm.yaml'), manifest(demoServer('c')));
    await allRunning(h, ['c']);
  });

  it('shows a disabled server as stopped for that reason', async () => {
    const h = await startHarness(manifest(demoServer('off', '    enabled: false\n')));
    await waitFor(async () => (await servers(h.url)).servers[0]?.reason === 'Disabled', 'Disabled');
    expect((await servers(h.url)).servers[0]).toMatchObject({ state: 'stopped', pid: null });
    const r = await fetch(`${h.url}/mcp/off/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { message: string } }).error.message).toBe('server "off" is not running: disabled in the manifest');
  });

  it('does not reject a manifest caught half-written (truncated, then written)', async () => {
    const h = await startHarness(three());
    await allRunning(h, ['a', 'b', 'c']);
    h.write('');
    await new Promise((r) => setTimeout(r, 120)); // the debounced read lands between the two writes
    h.write(manifest(demoServer('a') + demoServer('b')));
    await allRunning(h, ['a', 'b']);
    expect(h.logs.filter((l) => l.includes('manifest rejected'))).toEqual([]);
  });
});
