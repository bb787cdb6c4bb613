// `systemd-analyze verify` on the shipped units: unknown keys, values that do not parse, bad specifiers and
// missing binaries all show up there. It checks that each Exec*= binary exists on THIS machine, and the units
// name the paths of a production host (/usr/bin/node, /usr/bin/git), so it runs on copies in a temp folder
// where a binary missing here is replaced by this node (only its existence is checked, nothing is run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/gateway.ts';
import { needTool } from '../helpers/tools.ts';

const UNITS = path.join(ROOT, 'systemd');
const files = readdirSync(UNITS).filter((f) => /\.(service|timer|path)$/.test(f)).sort();
const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(paths: string[]): { status: number | null; output: string; error?: Error } {
  const r = spawnSync('systemd-analyze', ['verify', ...paths], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '' } });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), error: r.error };
}

/** Why systemd-analyze cannot verify anything here (not installed, or fails on a unit that is surely fine); undefined when it can. */
function cannotVerify(): string | undefined {
  const control = path.join(dir, 'control-check.service');
  writeFileSync(control, `[Unit]\nDescription=control\n[Service]\nType=oneshot\nExecStart=${process.execPath} -e 0\n`);
  const r = verify([control]);
  rmSync(control);
  if (r.error !== undefined) return `it cannot run (${r.error.message})`;
  if (r.status !== 0) return `systemd-analyze verify fails even on a trivial unit here: ${r.output}`;
  return undefined;
}

/** The unit text with every Exec*= binary that does not exist here replaced by this node. */
function forThisMachine(text: string): string {
  return text.replace(/^(Exec[A-Za-z]*=)([-@:+!]*)(\/\S+)/gm, (line, key: string, prefix: string, bin: string) =>
    existsSync(bin) ? line : `${key}${prefix}${process.execPath}`,
  );
}

describe('systemd units', () => {
  it('are the service, the GitOps pull service and its timer', () => {
    expect(files).toEqual(['mcp-gateway-gitops.service', 'mcp-gateway-gitops.timer', 'mcp-gateway.service']);
  });

  it('pass systemd-analyze verify without a warning', (ctx) => {
    needTool(ctx, { name: 'systemd-analyze', missing: cannotVerify(), enable: 'apt-get install -y systemd' });
    const copies = files.map((f) => {
      const copy = path.join(dir, f);
      writeFileSync(copy, forThisMachine(readFileSync(path.join(UNITS, f), 'utf8')));
      return copy;
    });
    const r = verify(copies);
    // Warnings (unknown key, value that does not parse) do not change the exit code: any line about our
    // units fails the test. Lines about the host's own units are not ours to fix.
    const ours = r.output.split('\n').filter((l) => l.includes('mcp-gateway'));
    expect(ours).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('the service runs node with the V8 flags of `npm start`, and stops the gateway first', () => {
    const unit = readFileSync(path.join(UNITS, 'mcp-gateway.service'), 'utf8');
    const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const flags = start.split(' ').filter((w) => w.startsWith('--'));
    expect(flags.length).toBeGreaterThan(0);
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    expect(exec).toBe(`/usr/bin/node ${flags.join(' ')} /opt/mcp-gateway/bin/mcp-gateway.js run --config /etc/mcp-gateway/mcp-gateway.yaml`);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toMatch(/^Type=exec$/m);
  });
});
