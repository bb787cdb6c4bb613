// envFile: real files beside a manifest in a temp folder, read by loadManifest as the gateway reads them,
// and one real gateway whose child reports the names of its environment variables.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest, parseManifest } from '../../src/config/load.ts';
import type { Desired, LoadResult } from '../../src/config/types.ts';
import { closeAll, demoServer, envNames, manifest, running, startHarness } from '../helpers/gateway.ts';

const MARKER = 'S3CRET-ENVFILE-31337';

let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gateway-envfile-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(closeAll);

/** A fresh folder holding the manifest and `files`; the manifest's path. */
async function folder(yaml: string, files: Record<string, string> = {}): Promise<string> {
  const at = path.join(dir, `m${++n}`);
  await mkdir(at, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(at, name)), { recursive: true });
    await writeFile(path.join(at, name), text);
  }
  const file = path.join(at, 'mcp-gateway.yaml');
  await writeFile(file, yaml);
  return file;
}

function ok(r: LoadResult): Desired {
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`).join('\n'));
  return r.desired;
}

function errors(r: LoadResult): string[] {
  return r.ok ? [] : r.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`);
}

describe('loadManifest: the top-level envFile', () => {
  it('gives ${VAR} its variables, a later file winning; the Desired names the variable, as for the process env', async () => {
    const file = await folder(
      'version: 1\nenvFile: [base.env, secrets/override.env]\nservers:\n  a:\n    command: node\n    args: ["--token=${TOKEN}", "${PLAIN}"]\n    env: { API: "${TOKEN}" }\n',
      { 'base.env': 'TOKEN=old\nPLAIN=plain-value\n', 'secrets/override.env': `export TOKEN="${MARKER}"\n` },
    );
    const d = ok(await loadManifest(file, {}));
    const a = d.servers.get('a')!;
    expect(a.args).toEqual([`--token=${MARKER}`, 'plain-value']);
    expect(a.env).toEqual({ API: MARKER });
    expect(d.interpolated.get('servers.a.args[0]')).toEqual(['TOKEN']);
    expect(d.interpolated.get('servers.a.env.API')).toEqual(['TOKEN']);
    // Its variables are for the manifest only: no child gets them unless the manifest passes one on.
    expect(a.envFromFile).toEqual({});
  });

  it('lets the process environment win over the file, as Compose does for .env', async () => {
    const file = await folder('version: 1\nenvFile: top.env\nservers:\n  a: { command: node, args: ["${TOKEN}", "${ONLY_FILE}"] }\n', { 'top.env': 'TOKEN=from-file\nONLY_FILE=file\n' });
    expect(ok(await loadManifest(file, { TOKEN: 'from-process' })).servers.get('a')!.args).toEqual(['from-process', 'file']);
    // Set but empty in the process environment is still set: ${VAR:-default} takes the default.
    const empty = await folder('version: 1\nenvFile: top.env\nservers:\n  a: { command: node, args: ["${TOKEN:-dflt}"] }\n', { 'top.env': 'TOKEN=from-file\n' });
    expect(ok(await loadManifest(empty, { TOKEN: '' })).servers.get('a')!.args).toEqual(['dflt']);
  });

  it('says a missing variable may come from the envFile too', async () => {
    const file = await folder('version: 1\nenvFile: top.env\nservers:\n  a: { command: node, args: ["${NOWHERE}"] }\n', { 'top.env': 'OTHER=1\n' });
    expect(errors(await loadManifest(file, {}))).toEqual([
      `${file}:4:30: servers.a.args[0]: variable NOWHERE is not set in the environment or envFile; export it or add it to the envFile, or write \${NOWHERE:-default}`,
    ]);
  });

  it('takes ${VAR} in an envFile path from the process environment only', async () => {
    const file = await folder('version: 1\nenvFile: ["${SECRETS_DIR}/top.env", "${FROM_FILE}.env"]\nservers:\n  a: { command: node, args: ["${TOKEN}"] }\n', {
      'creds/top.env': `TOKEN=${MARKER}\nFROM_FILE=other\n`,
    });
    const r = await loadManifest(file, { SECRETS_DIR: path.join(path.dirname(file), 'creds') });
    expect(errors(r)).toEqual([`${file}:2:37: envFile[1]: variable FROM_FILE is not set; export it or write \${FROM_FILE:-default}`]);
  });
});

describe('loadManifest: a server envFile', () => {
  it("adds its variables to the server's, a later file winning and the server's env winning over both", async () => {
    const file = await folder(
      'version: 1\nservers:\n  a:\n    command: node\n    envFile: [a.env, a.local.env]\n    env: { MODE: manifest }\n  b: { command: node, envFile: b.env }\n  c: { command: node }\n',
      { 'a.env': `TOKEN=first\nMODE=file\nA_ONLY='x y'\n`, 'a.local.env': `TOKEN=${MARKER}\n`, 'b.env': 'B_TOKEN=b\n' },
    );
    const d = ok(await loadManifest(file, {}));
    expect(d.servers.get('a')!.envFromFile).toEqual({ TOKEN: MARKER, A_ONLY: 'x y' });
    expect(d.servers.get('a')!.env).toEqual({ MODE: 'manifest' });
    expect(d.servers.get('b')!.envFromFile).toEqual({ B_TOKEN: 'b' });
    expect(d.servers.get('c')!.envFromFile).toEqual({});
    // Not for ${VAR}: a server's file is that server's alone.
    const other = await folder('version: 1\nservers:\n  a: { command: node, envFile: a.env, args: ["${TOKEN}"] }\n', { 'a.env': 'TOKEN=x\n' });
    expect(errors(await loadManifest(other, {}))).toEqual([`${other}:3:46: servers.a.args[0]: variable TOKEN is not set; export it or write \${TOKEN:-default}`]);
  });
});

describe('loadManifest: problems with env files', () => {
  it('names a missing file and the field that names it, at that field', async () => {
    const file = await folder('version: 1\nenvFile: missing.env\nservers:\n  a:\n    command: node\n    envFile: [ok.env, nested/gone.env]\n', { 'ok.env': 'A=1\n' });
    const at = path.dirname(file);
    expect(errors(await loadManifest(file, {}))).toEqual([
      `${file}:2:10: envFile: cannot read ${path.join(at, 'missing.env')}: file not found; create it (readable only by the gateway's user: it holds secrets) or fix the path`,
      `${file}:6:23: servers.a.envFile[1]: cannot read ${path.join(at, 'nested', 'gone.env')}: file not found; create it (readable only by the gateway's user: it holds secrets) or fix the path`,
    ]);
  });

  it('names a missing file made with ${VAR} as written, never the value', async () => {
    const file = await folder('version: 1\nenvFile: "${HIDDEN_DIR}/x.env"\nservers: {}\n');
    expect(errors(await loadManifest(file, { HIDDEN_DIR: `/nonexistent/${MARKER}` }))).toEqual([
      `${file}:2:10: envFile: cannot read \${HIDDEN_DIR}/x.env: file not found; create it (readable only by the gateway's user: it holds secrets) or fix the path`,
    ]);
  });

  it('reports a malformed line at the env file, line and column, as named beside the manifest, with no value', async () => {
    const file = await folder('version: 1\nenvFile: top.env\nservers:\n  a: { command: node, envFile: a.env }\n  b: { command: node, envFile: a.env }\n  c: { comand: node }\n', {
      'top.env': `# ok\n${MARKER}\n`,
      'a.env': `GOOD=1\nBAD="${MARKER}\n`,
    });
    const given = path.relative(process.cwd(), file);
    const beside = (name: string): string => path.join(path.dirname(given), name);
    expect(errors(await loadManifest(given, {}))).toEqual([
      `${given}:6:3: missing required key "command" in server "c"; add e.g. "command: node"`,
      `${given}:6:8: unknown key "comand" in server "c"; did you mean "command"? allowed: command, args, env, envFile, cwd, restart, startTimeout, stopTimeout, requestTimeout, requestTimeoutMax, stderrLines, schedule, enabled, sharing, clientCapabilities, sessionIdleTimeout, maxSessions, inheritEnv, maxInFlight, queueTimeout, prefix, tools, prompts, resources, rollout, drainTimeout, liveness, start, idleStop, limits, callerEnv`,
      // a.env is named by two servers: its problem is reported once.
      `${beside('a.env')}:2:5: BAD: the double quote opened here is not closed on this line; close it (write \\n inside double quotes for a line break)`,
      `${beside('top.env')}:2:1: no "=" on this line; write KEY=value, or start the line with # for a comment`,
    ]);
  });

  it('checks the shape: a path or a list of paths, never empty, not in defaults', async () => {
    const file = await folder('version: 1\nenvFile: 5\ndefaults: { envFile: x.env }\nservers:\n  a: { command: node, envFile: [""] }\n  b: { command: node, envFile: "" }\n');
    const r = errors(await loadManifest(file, {}));
    expect(r).toContain(`${file}:2:10: envFile: must be a string or a list`);
    expect(r).toContain(`${file}:5:33: servers.a.envFile[0]: must not be empty`);
    expect(r).toContain(`${file}:6:32: servers.b.envFile: must not be empty`);
    expect(r.some((e) => e.startsWith(`${file}:3:13: unknown key "envFile" in defaults;`))).toBe(true);
  });

  it('reports a file named but not given to the pure parseManifest', () => {
    const r = parseManifest('/srv/gw/mcp-gateway.yaml', 'version: 1\nenvFile: top.env\nservers: {}\n', {});
    expect(errors(r)).toEqual(['/srv/gw/mcp-gateway.yaml:2:10: envFile: cannot read /srv/gw/top.env: it was not read (parseManifest was given no text for it)']);
  });
});

describe('loadManifest: what a reload compares', () => {
  it("keeps the manifest's own hash, and changes inputHash with an env file's bytes", async () => {
    const file = await folder('version: 1\nservers:\n  a: { command: node, envFile: a.env }\n', { 'a.env': 'T=1\n' });
    const first = ok(await loadManifest(file, {}));
    await writeFile(path.join(path.dirname(file), 'a.env'), 'T=2\n');
    const second = ok(await loadManifest(file, {}));
    expect(second.hash).toBe(first.hash);
    expect(second.inputHash).not.toBe(first.inputHash);
    await rm(path.join(path.dirname(file), 'a.env'));
    const gone = await loadManifest(file, {});
    expect(gone.ok).toBe(false);
    if (!gone.ok) expect([gone.hash, gone.inputHash]).toEqual([first.hash, expect.not.stringMatching(`^(${first.inputHash}|${second.inputHash})$`)]);
    // Without env files, the two are the same.
    const plain = ok(await loadManifest(await folder('version: 1\nservers: {}\n'), {}));
    expect(plain.inputHash).toBe(plain.hash);
  });
});

describe('a server envFile, through a real gateway', () => {
  it("reaches that server's child, and only that one; the top-level file reaches none", async () => {
    const h = await startHarness(
      manifest(demoServer('a', '    envFile: secrets/a.env\n    env: { OWN: "1" }\n') + demoServer('b'), 'envFile: top.env\n'),
      {},
      { 'secrets/a.env': `A_TOKEN=${MARKER}\nexport A_OTHER='two words'\n`, 'top.env': `TOP_ONLY=${MARKER}\n` },
    );
    await running(h.url, 'a');
    const a = await envNames(h.url, 'a');
    expect(a).toEqual(expect.arrayContaining(['A_TOKEN', 'A_OTHER', 'OWN', 'PATH']));
    expect(a).not.toContain('TOP_ONLY');
    const b = await envNames(h.url, 'b');
    expect(b).not.toContain('A_TOKEN');
    expect(b).not.toContain('TOP_ONLY');
    expect(h.logs.join('\n')).not.toContain(MARKER);
  });
});
