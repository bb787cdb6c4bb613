// `mcp-gateway service install|uninstall [--user]`: writes (or removes) a systemd unit that runs this
// gateway with absolute paths: the node running this command, this package's bin, the manifest. The most
// common failure of a hand-written unit is `ExecStart=node` where systemd cannot find node (nvm, fnm and
// volta put it on a shell's PATH, which systemd never sees). It runs no systemctl command: it prints them.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadManifest } from '../config/load.ts';
import { formatConfigError } from '../config/types.ts';
import { parseOptions, type Env, type Io } from './args.ts';
import { INSTALLED_MARKER, UNIT_NAME, serviceUnit, servicePath, stopTimeoutSec, type UnitScope } from './service-unit.ts';

/** The package's folder: this file is src/cli/service.ts or dist/cli/service.js, two levels down. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const BIN = path.join(ROOT, 'bin', 'mcp-gateway.js');

/** Where a unit of `scope` goes: the system's unit folder, or the user manager's ($XDG_CONFIG_HOME/systemd/user). */
export function unitFile(scope: UnitScope, env: Env): string {
  if (scope === 'system') return path.join('/etc/systemd/system', UNIT_NAME);
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const config = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || homedir(), '.config');
  return path.join(config, 'systemd', 'user', UNIT_NAME);
}

const isRoot = (): boolean => process.getuid?.() === 0;
const systemctl = (scope: UnitScope): string => (scope === 'user' ? 'systemctl --user' : 'systemctl');
const hasMarker = (text: string): boolean => text.split('\n').includes(INSTALLED_MARKER);

export async function serviceMain(args: readonly string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'install' && action !== 'uninstall') {
    io.err(`mcp-gateway service: ${action === undefined ? 'say install or uninstall' : `unknown action "${action}"; say install or uninstall`}`);
    return 2;
  }
  const options: ParseArgsConfig['options'] = { user: { type: 'boolean' }, 'dry-run': { type: 'boolean' } };
  if (action === 'install') options.config = { type: 'string', short: 'c' };
  const parsed = parseOptions(rest, (a) => parseArgs({ args: a, options, strict: true }));
  if (!parsed.ok) {
    io.err(`mcp-gateway service ${action}: ${parsed.message}`);
    return 2;
  }
  const values = parsed.value.values as { user?: boolean; 'dry-run'?: boolean; config?: string };
  const scope: UnitScope = values.user === true ? 'user' : 'system';
  const dryRun = values['dry-run'] === true;
  return action === 'install' ? install(scope, values.config, dryRun, io) : uninstall(scope, dryRun, io);
}

async function install(scope: UnitScope, config: string | undefined, dryRun: boolean, io: Io): Promise<number> {
  const say = (line: string): void => io.err(`mcp-gateway service install: ${line}`);
  const manifest = path.resolve(config ?? io.env.MCP_GATEWAY_CONFIG ?? 'mcp-gateway.yaml');
  const loaded = await loadManifest(manifest, io.env);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.err(formatConfigError(e));
    say('the manifest does not load; the unit needs it (its path, and TimeoutStopSec from its shutdownGrace and stopTimeout)');
    // A variable the service will read from its env file: the check here needs it set too.
    if (loaded.errors.some((e) => / not set; export /.test(e.message))) say('set the variables it reads here too (any value does: only the durations are read)');
    return 1;
  }
  const { listen, servers } = loaded.desired;
  const stopTimeouts = [...servers.values()].map((s) => s.stopTimeoutMs);
  const node = process.execPath;
  const file = unitFile(scope, io.env);
  const timeoutStopSec = stopTimeoutSec(listen.shutdownGraceMs, stopTimeouts);
  const unit = serviceUnit({ scope, origin: 'installed', node, bin: BIN, manifest, root: ROOT, timeoutStopSec, path: servicePath(node) });

  const refusals = scope === 'system' ? dynamicUserProblems([{ file: node, need: 'execute' }, { file: BIN, need: 'read' }, { file: manifest, need: 'read' }]) : [];
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (existing !== undefined && !hasMarker(existing)) {
    refusals.push(`${file} exists and was not written by \`mcp-gateway service install\` (it lacks the marker line); move it away first if this unit should replace it`);
  }
  if (dryRun) {
    io.out(unit.trimEnd());
    io.err(`dry run: would write ${file}${scope === 'system' && !isRoot() ? ' (as root)' : ''}; nothing written`);
    for (const r of refusals) say(`would refuse: ${r}`);
    return refusals.length > 0 ? 1 : 0;
  }
  // Everything that stands in the way, at once: a refusal does not hide that root is needed too.
  const needsRoot = scope === 'system' && !isRoot();
  for (const r of refusals) say(r);
  if (needsRoot) {
    say(`writing ${file} needs root. Run it as root with this node (root's PATH may hold another, or none):`);
    io.err(`  sudo ${[node, BIN, 'service', 'install', '--config', manifest].map(shellWord).join(' ')}`);
    io.err('or install a unit for your own user manager: mcp-gateway service install --user');
  }
  if (refusals.length > 0 || needsRoot) return 1;
  if (existing === unit) {
    io.out(`${file} already holds this unit; nothing changed`);
    return 0;
  }
  const problem = writeUnit(file, unit);
  if (problem !== undefined) {
    say(`cannot write ${file}: ${problem}`);
    return 1;
  }
  const ctl = systemctl(scope);
  io.out(`${existing === undefined ? 'wrote' : 'replaced'} ${file}`);
  io.out(`  node      ${node} (${process.version})`);
  io.out(`  gateway   ${BIN}`);
  io.out(`  manifest  ${manifest}`);
  io.out(`  TimeoutStopSec=${timeoutStopSec}s (listen.shutdownGrace ${listen.shutdownGraceMs / 1000} s, largest stopTimeout ${Math.max(0, ...stopTimeouts) / 1000} s)`);
  io.out('Next:');
  if (existing !== undefined) io.out(`  ${ctl} daemon-reload && ${ctl} restart mcp-gateway`);
  else io.out(`  ${ctl} daemon-reload && ${ctl} enable --now mcp-gateway`);
  if (scope === 'user') io.out('  loginctl enable-linger $USER    # start it at boot, without a login');
  io.out(`  ${ctl} status mcp-gateway; journalctl ${scope === 'user' ? '--user ' : ''}-u mcp-gateway -f`);
  return 0;
}

async function uninstall(scope: UnitScope, dryRun: boolean, io: Io): Promise<number> {
  const say = (line: string): void => io.err(`mcp-gateway service uninstall: ${line}`);
  const file = unitFile(scope, io.env);
  const ctl = systemctl(scope);
  if (!existsSync(file)) {
    io.out(`no unit at ${file}; nothing to remove`);
    return 0;
  }
  if (!hasMarker(readFileSync(file, 'utf8'))) {
    say(`${file} was not written by \`mcp-gateway service install\` (it lacks the marker line): left alone; remove it yourself if it should go`);
    return 1;
  }
  // `systemctl disable` needs the unit file to find its links: with the file gone it fails, and the
  // links are left to dangle.
  const links = enableLinks(path.dirname(file));
  if (links.length > 0) {
    say(`mcp-gateway is enabled (${links.join(', ')}). Stop and disable it first, then run uninstall again:`);
    io.err(`  ${ctl} disable --now mcp-gateway`);
    return 1;
  }
  if (dryRun) {
    io.out(`dry run: would remove ${file}; nothing removed`);
    return 0;
  }
  if (scope === 'system' && !isRoot()) {
    say(`removing ${file} needs root: run it as root (sudo)`);
    return 1;
  }
  try {
    unlinkSync(file);
  } catch (err) {
    say(`cannot remove ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return 1;
  }
  io.out(`removed ${file}`);
  io.out('Next:');
  io.out(`  ${ctl} stop mcp-gateway    # if it still runs`);
  io.out(`  ${ctl} daemon-reload`);
  if (scope === 'user') io.out('  loginctl disable-linger $USER    # if no other user service needs to start at boot');
  return 0;
}

/** The links `systemctl enable` made for the unit: <unit folder>/<target>.wants/ (or .requires/) mcp-gateway.service. */
function enableLinks(dir: string): string[] {
  const links: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (!entry.endsWith('.wants') && !entry.endsWith('.requires')) continue;
    const link = path.join(dir, entry, UNIT_NAME);
    try {
      lstatSync(link);
      links.push(link);
    } catch {
      // not enabled through this target
    }
  }
  return links;
}

interface Needed {
  readonly file: string;
  readonly need: 'read' | 'execute';
}

/**
 * Why the system unit's service could not use these files: it runs as a dynamic user (no group of the
 * owner's, so only the "other" permission bits count) with a private /tmp. A node installed by nvm under
 * /root or a home folder of mode 0700 is the usual case; the unit would fail at start with "Permission denied".
 */
function dynamicUserProblems(files: readonly Needed[]): string[] {
  const problems: string[] = [];
  for (const { file, need } of files) {
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      problems.push(`${file} does not exist`);
      continue;
    }
    const shown = real === file ? file : `${file} (${real})`;
    // Every problem of a path, not the first: fixing one should not reveal the next.
    if (/^\/(var\/)?tmp(\/|$)/.test(real)) {
      problems.push(`${shown} is under /tmp: the service gets a private /tmp (PrivateTmp=yes) and would not see it`);
    }
    const closed = ancestors(real).find((dir) => (statSync(dir).mode & 0o001) === 0);
    const bit = need === 'read' ? 0o004 : 0o001;
    if (closed !== undefined) problems.push(`${shown}: the service runs as a dynamic user, and ${closed} lets no other user through (mode ${mode(closed)}); install it where every user can ${need} it (node: e.g. /usr/local), or use --user`);
    else if ((statSync(real).mode & bit) === 0) problems.push(`${shown}: the service runs as a dynamic user, and only owner and group may ${need} it (mode ${mode(real)}); chmod o+${need[0]}, or use --user`);
  }
  return problems;
}

/** "/a/b/c" → ["/", "/a", "/a/b"]. */
function ancestors(file: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    dirs.unshift(dir);
    if (dir === path.dirname(dir)) return dirs;
  }
}

const mode = (file: string): string => (statSync(file).mode & 0o7777).toString(8).padStart(4, '0');

/** Writes the unit whole or not at all (a daemon-reload never reads half of it); the error code, or undefined. */
function writeUnit(file: string, unit: string): string | undefined {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(temp, unit);
    chmodSync(temp, 0o644); // whatever the umask: a unit is not secret, and systemctl reads it as the user
    renameSync(temp, file);
    return undefined;
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // never written
    }
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** A word for a POSIX shell: single-quoted unless it is plain. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
