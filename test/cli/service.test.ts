// `mcp-gateway service install|uninstall`, run as the real bin by a node that is not /usr/bin/node (a link
// or copy of this one in a temp folder, as nvm, fnm or volta would put it), checked by the real
// systemd-analyze. Only user units are written, into a temp HOME / XDG_CONFIG_HOME: the system unit is
// checked with --dry-run, and its write refused as a user who is not root.
import { copyFileSync, chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HEAP_FLAGS } from '../../bin/heap-flags.js';
import { INSTALLED_MARKER } from '../../src/cli/service-unit.ts';
import { DEMO, ROOT } from '../helpers/gateway.ts';
import { SYSTEMD_TOOL, cannotVerify, verifyUnits } from '../helpers/systemd.ts';
import { needTool } from '../helpers/tools.ts';
import { BIN, cleanup, cli, tempDir, type CliResult } from './cli.ts';

afterEach(cleanup);
// Each case runs the CLI a few times; from the sources (no dist/ built) a run takes a few seconds.
const SLOW = { timeout: 90_000 };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp folder under `parent` (the checkout's .cache for the system unit: its service gets a private /tmp). */
function folder(parent: string, prefix: string): string {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(path.join(parent, prefix));
  dirs.push(dir);
  return dir;
}

/** This node under `dir`/bin (a hard link, or a copy across file systems), as a version manager installs one. */
function nodeIn(dir: string): string {
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const node = path.join(dir, 'bin', 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  return node;
}

function manifestIn(dir: string, head = ''): string {
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0${head} }\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n`);
  return file;
}

const setting = (unit: string, key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
const quoted = (p: string): string => (p.includes(' ') ? `"${p}"` : p);

/** Every folder from / down to `file`'s lets other users through: the system unit's dynamic user can reach it. */
const openToOthers = (file: string): boolean =>
  file
    .split('/')
    .slice(0, -1)
    .map((_, i, parts) => parts.slice(0, i + 1).join('/') || '/')
    .every((d) => (statSync(d).mode & 0o001) !== 0);

/** Verifies `unit` as systemd would load it from `dir`/mcp-gateway.service. */
function verify(unit: string, dir: string, user: boolean): string[] {
  const file = path.join(dir, 'mcp-gateway.service');
  writeFileSync(file, unit);
  const r = verifyUnits([file], user);
  expect(r.status, r.output).toBe(0);
  return r.ours;
}

describe('mcp-gateway service install --dry-run', SLOW, () => {
  it('--user: a unit that passes systemd-analyze verify --user, with this node by its absolute path; nothing written', async (ctx) => {
    needTool(ctx, { ...SYSTEMD_TOOL, missing: cannotVerify() });
    // Spaces in the paths, as in "~/My Projects": the unit must quote them.
    const versions = folder(tmpdir(), 'mcp-gw-node versions-');
    const node = nodeIn(versions);
    const config = folder(tmpdir(), 'mcp-gw-config dir-');
    const manifest = manifestIn(config);
    const home = tempDir();
    const r = await cli(['service', 'install', '--user', '--dry-run', '--config', 'mcp-gateway.yaml'], { HOME: home, XDG_CONFIG_HOME: undefined }, undefined, { node, cwd: config });
    expect(r.code, r.stderr).toBe(0);
    const unit = r.stdout;
    expect(setting(unit, 'ExecStart')).toBe(`${quoted(node)} ${HEAP_FLAGS.join(' ')} ${quoted(BIN)} run --config ${quoted(manifest)}`);
    expect(setting(unit, 'Environment')).toBe(`"PATH=${path.dirname(node)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"`);
    expect(setting(unit, 'WantedBy')).toBe('default.target');
    expect(setting(unit, 'TimeoutStopSec')).toBe('45s');
    expect(unit).not.toMatch(/^(DynamicUser|User)=/m);
    expect(unit.split('\n')[0]).toBe(INSTALLED_MARKER);
    const target = path.join(home, '.config', 'systemd', 'user', 'mcp-gateway.service');
    expect(r.stderr).toContain(`would write ${target}`);
    expect(existsSync(path.join(home, '.config'))).toBe(false);
    expect(verify(unit, folder(tmpdir(), 'mcp-gw-verify-'), true)).toEqual([]);
  });

  it('system: a unit that passes systemd-analyze verify, TimeoutStopSec from the manifest; nothing written', async (ctx) => {
    needTool(ctx, { ...SYSTEMD_TOOL, missing: cannotVerify() });
    // Not under /tmp: the service gets a private /tmp, and install refuses paths there.
    const cache = path.join(ROOT, '.cache', 'test-service');
    const node = nodeIn(folder(cache, 'node-'));
    chmodSync(path.dirname(path.dirname(node)), 0o755); // mkdtemp makes 0700 folders
    const manifest = manifestIn(folder(cache, 'config-'), ', shutdownGrace: 60s');
    chmodSync(path.dirname(manifest), 0o755);
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('    command: node', '    stopTimeout: 20s\n    command: node'));
    const r = await cli(['service', 'install', '--dry-run', '--config', manifest], {}, undefined, { node });
    // The dynamic user must reach node, the bin and the manifest: a checkout under a closed home is refused.
    // A checkout under /tmp (a CI clone, say) is refused too: the system service gets a private /tmp.
    expect(r.code, r.stderr).toBe(openToOthers(BIN) && !/^\/(var\/)?tmp\//.test(BIN) ? 0 : 1);
    const unit = r.stdout;
    expect(setting(unit, 'ExecStart')).toBe(`${node} ${HEAP_FLAGS.join(' ')} ${BIN} run --config ${manifest}`);
    expect(setting(unit, 'TimeoutStopSec')).toBe('152s'); // 1.5 × (60 s + 1 s + 2 × 20 s)
    expect(setting(unit, 'DynamicUser')).toBe('yes');
    expect(setting(unit, 'WantedBy')).toBe('multi-user.target');
    expect(r.stderr).toContain('would write /etc/systemd/system/mcp-gateway.service');
    expect(verify(unit, folder(tmpdir(), 'mcp-gw-verify-'), false)).toEqual([]);
  });

  it('system: refuses a node the dynamic user cannot reach (under /tmp, or in a folder closed to others)', async () => {
    const manifest = manifestIn(tempDir());
    const inTmp = nodeIn(folder(tmpdir(), 'mcp-gw-node-'));
    const r = await cli(['service', 'install', '--dry-run', '--config', manifest], {}, undefined, { node: inTmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${inTmp} is under /tmp: the service gets a private /tmp (PrivateTmp=yes)`);
    const closed = folder(path.join(ROOT, '.cache', 'test-service'), 'closed-'); // mkdtemp: mode 0700
    const hidden = nodeIn(closed);
    const c = await cli(['service', 'install', '--dry-run', '--config', manifest], {}, undefined, { node: hidden });
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(`${hidden}: the service runs as a dynamic user, and ${closed} lets no other user through (mode 0700)`);
  });
});

describe('mcp-gateway service install', SLOW, () => {
  it('system: needs root, and says how to run it with this node', async (ctx) => {
    const uid = process.getuid?.();
    // As root, the test runs it as nobody, who must be able to read the checkout.
    if (uid === 0) {
      needTool(ctx, {
        name: 'a checkout other users can read (the test runs the CLI as nobody)',
        missing: openToOthers(BIN) ? undefined : `a folder above ${BIN} is closed to other users`,
        enable: 'chmod o+x on the folders above the checkout, or run the tests as a user who is not root',
      });
    }
    // Not under /tmp: that would be refused first (the system service gets a private /tmp).
    const home = folder(path.join(ROOT, '.cache', 'test-service'), 'home-');
    chmodSync(home, 0o777);
    const manifest = manifestIn(home);
    chmodSync(manifest, 0o644);
    const r = await cli(['service', 'install', '--config', manifest], { HOME: home }, undefined, { cwd: home, ...(uid === 0 ? { uid: 65534 } : {}) });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('writing /etc/systemd/system/mcp-gateway.service needs root');
    expect(r.stderr).toContain(`sudo ${process.execPath} ${BIN} service install --config ${manifest}`);
    expect(r.stdout).toBe('');
  });

  it('a manifest that does not load: its errors, exit 1, nothing written', async () => {
    const home = tempDir();
    const env = { HOME: home, XDG_CONFIG_HOME: undefined };
    const missing = await cli(['service', 'install', '--user', '--config', path.join(home, 'none.yaml')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${path.join(home, 'none.yaml')}:1:1: file not found`);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'mcp-gateway.yaml'), 'version: 1\nservers:\n  a:\n    command: node\n    env: { TOKEN: "${MCP_GW_TEST_UNSET}" }\n');
    const unset = await cli(['service', 'install', '--user'], { ...env, MCP_GW_TEST_UNSET: undefined }, undefined, { cwd: dir });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('variable MCP_GW_TEST_UNSET is not set');
    expect(unset.stderr).toContain('set the variables it reads here too');
    expect(existsSync(path.join(home, '.config'))).toBe(false);
  });
});

describe('mcp-gateway service install --user / uninstall --user', SLOW, () => {
  const run = (args: string[], env: Record<string, string | undefined>): Promise<CliResult> => cli(['service', ...args], { XDG_CONFIG_HOME: undefined, ...env });

  it('writes the unit under HOME/.config (or XDG_CONFIG_HOME), prints what to run next; uninstall removes it', async () => {
    const manifest = manifestIn(tempDir());
    const home = tempDir();
    const installed = await run(['install', '--user', '--config', manifest], { HOME: home });
    expect(installed.code, installed.stderr).toBe(0);
    const file = path.join(home, '.config', 'systemd', 'user', 'mcp-gateway.service');
    expect(installed.stdout).toContain(`wrote ${file}`);
    expect(installed.stdout).toContain('systemctl --user daemon-reload && systemctl --user enable --now mcp-gateway');
    expect(installed.stdout).toContain('loginctl enable-linger $USER');
    const unit = readFileSync(file, 'utf8');
    expect(unit.split('\n')[0]).toBe(INSTALLED_MARKER);
    expect(setting(unit, 'ExecStart')).toBe(`${process.execPath} ${HEAP_FLAGS.join(' ')} ${BIN} run --config ${manifest}`);
    expect(statSync(file).mode & 0o777).toBe(0o644);

    const again = await run(['install', '--user', '--config', manifest], { HOME: home });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already holds this unit; nothing changed');

    const removed = await run(['uninstall', '--user'], { HOME: home });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`removed ${file}`);
    expect(removed.stdout).toContain('systemctl --user daemon-reload');
    expect(existsSync(file)).toBe(false);
    const none = await run(['uninstall', '--user'], { HOME: home });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('nothing to remove');

    const xdg = path.join(tempDir(), 'config');
    const elsewhere = await run(['install', '--user', '--config', manifest], { HOME: home, XDG_CONFIG_HOME: xdg });
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(existsSync(path.join(xdg, 'systemd', 'user', 'mcp-gateway.service'))).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect((await run(['uninstall', '--user'], { HOME: home, XDG_CONFIG_HOME: xdg })).code).toBe(0);
    expect(existsSync(path.join(xdg, 'systemd', 'user', 'mcp-gateway.service'))).toBe(false);
  });

  it('replaces a unit it wrote when the manifest changed (and says to restart)', async () => {
    const manifest = manifestIn(tempDir());
    const home = tempDir();
    expect((await run(['install', '--user', '--config', manifest], { HOME: home })).code).toBe(0);
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('port: 0', 'port: 0, shutdownGrace: 2m'));
    const replaced = await run(['install', '--user', '--config', manifest], { HOME: home });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toContain('replaced ');
    expect(replaced.stdout).toContain('systemctl --user daemon-reload && systemctl --user restart mcp-gateway');
    const unit = readFileSync(path.join(home, '.config', 'systemd', 'user', 'mcp-gateway.service'), 'utf8');
    expect(setting(unit, 'TimeoutStopSec')).toBe('197s'); // 1.5 × (120 s + 1 s + 2 × 5 s)
  });

  it('neither overwrites nor removes a unit it did not write (no marker line)', async () => {
    const manifest = manifestIn(tempDir());
    const home = tempDir();
    const file = path.join(home, '.config', 'systemd', 'user', 'mcp-gateway.service');
    mkdirSync(path.dirname(file), { recursive: true });
    const own = readFileSync(path.join(ROOT, 'systemd', 'mcp-gateway.user.service'), 'utf8');
    writeFileSync(file, own);
    const uninstall = await run(['uninstall', '--user'], { HOME: home });
    expect(uninstall.code).toBe(1);
    expect(uninstall.stderr).toContain(`${file} was not written by \`mcp-gateway service install\``);
    const install = await run(['install', '--user', '--config', manifest], { HOME: home });
    expect(install.code).toBe(1);
    expect(install.stderr).toContain(`${file} exists and was not written by \`mcp-gateway service install\``);
    const dry = await run(['install', '--user', '--dry-run', '--config', manifest], { HOME: home });
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('would refuse');
    expect(readFileSync(file, 'utf8')).toBe(own);
  });

  it('uninstall refuses while the unit is enabled, and names the command that disables it', async () => {
    const manifest = manifestIn(tempDir());
    const home = tempDir();
    expect((await run(['install', '--user', '--config', manifest], { HOME: home })).code).toBe(0);
    const dir = path.join(home, '.config', 'systemd', 'user');
    // What `systemctl --user enable` makes for WantedBy=default.target.
    mkdirSync(path.join(dir, 'default.target.wants'));
    symlinkSync(path.join(dir, 'mcp-gateway.service'), path.join(dir, 'default.target.wants', 'mcp-gateway.service'));
    const r = await run(['uninstall', '--user'], { HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('systemctl --user disable --now mcp-gateway');
    expect(existsSync(path.join(dir, 'mcp-gateway.service'))).toBe(true);
  });

  it('a unit folder that cannot be made: the reason, exit 1', async () => {
    const manifest = manifestIn(tempDir());
    const notADir = path.join(tempDir(), 'file');
    writeFileSync(notADir, '');
    const r = await run(['install', '--user', '--config', manifest], { XDG_CONFIG_HOME: notADir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot write ${path.join(notADir, 'systemd', 'user', 'mcp-gateway.service')}: ENOTDIR`);
  });

  it('usage errors: no action, an unknown one, an option the action lacks', async () => {
    expect((await cli(['service'])).code).toBe(2);
    expect((await cli(['service', 'start'])).stderr).toContain('unknown action "start"');
    const r = await cli(['service', 'uninstall', '--config', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--config'");
  });
});
