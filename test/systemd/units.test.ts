// `systemd-analyze verify` on the shipped units: unknown keys, values that do not parse, bad specifiers and
// missing binaries all show up there. It checks that each Exec*= binary exists on THIS machine, and the units
// name the paths of a production host (/usr/bin/node, /usr/bin/git), so it runs on copies in a temp folder
// where a binary missing here is replaced by this node (only its existence is checked, nothing is run).
// The user unit (*.user.service) is checked as a user manager would load it (--user).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIPPED_UNITS, serviceUnit } from '../../src/cli/service-unit.ts';
import { ROOT } from '../helpers/gateway.ts';
import { SYSTEMD_TOOL, cannotVerify, verifyUnits } from '../helpers/systemd.ts';
import { needTool } from '../helpers/tools.ts';

const UNITS = path.join(ROOT, 'systemd');
const files = readdirSync(UNITS).filter((f) => /\.(service|timer|path)$/.test(f)).sort();
const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The unit text with every Exec*= binary that does not exist here replaced by this node. */
function forThisMachine(text: string): string {
  return text.replace(/^(Exec[A-Za-z]*=)([-@:+!]*)(\/\S+)/gm, (line, key: string, prefix: string, bin: string) =>
    existsSync(bin) ? line : `${key}${prefix}${process.execPath}`,
  );
}

describe('systemd units', () => {
  it('are the service, the user service, the GitOps pull service and its timer', () => {
    expect(files).toEqual(['mcp-gateway-gitops.service', 'mcp-gateway-gitops.timer', 'mcp-gateway.service', 'mcp-gateway.user.service']);
  });

  it('the service and the user service are what `service install` makes (src/cli/service-unit.ts)', () => {
    for (const { file, spec } of SHIPPED_UNITS) {
      expect(readFileSync(path.join(UNITS, file), 'utf8'), `systemd/${file} differs: run npx tsx scripts/systemd-units.ts`).toBe(serviceUnit(spec));
    }
  });

  it('pass systemd-analyze verify without a warning (the user service as a user manager loads it)', (ctx) => {
    needTool(ctx, { ...SYSTEMD_TOOL, missing: cannotVerify() });
    for (const user of [false, true]) {
      const copies = files
        .filter((f) => f.endsWith('.user.service') === user)
        .map((f) => {
          // A user manager loads the unit by its installed name.
          const copy = user ? path.join(dir, 'user', f.replace('.user.service', '.service')) : path.join(dir, f);
          mkdirSync(path.dirname(copy), { recursive: true });
          writeFileSync(copy, forThisMachine(readFileSync(path.join(UNITS, f), 'utf8')));
          return copy;
        });
      expect(copies.length).toBeGreaterThan(0);
      const r = verifyUnits(copies, user);
      // Warnings do not change the exit code: any line about our units fails the test.
      expect(r.ours).toEqual([]);
      expect(r.status).toBe(0);
    }
  });

  it('with the cgroup delegation lines uncommented (servers\' memory and cpu limits), still pass verify; the system unit then lets the gateway write its cgroup', (ctx) => {
    needTool(ctx, { ...SYSTEMD_TOOL, missing: cannotVerify() });
    for (const [file, user] of [['mcp-gateway.service', false], ['mcp-gateway.user.service', true]] as const) {
      const text = readFileSync(path.join(UNITS, file), 'utf8');
      const delegated = text.replace(/^#(Delegate=|ProtectControlGroups=no)/gm, '$1');
      expect(delegated).toMatch(/^Delegate=memory cpu$/m);
      // The last assignment wins: ProtectControlGroups=yes (read-only /sys/fs/cgroup) must be undone after it.
      const protect = [...delegated.matchAll(/^ProtectControlGroups=(\S+)$/gm)].map((m) => m[1]);
      expect(protect.at(-1) ?? 'no').toBe('no');
      const copy = path.join(dir, 'delegated', user ? 'user' : 'system', user ? 'mcp-gateway.service' : file);
      mkdirSync(path.dirname(copy), { recursive: true });
      writeFileSync(copy, forThisMachine(delegated));
      const r = verifyUnits([copy], user);
      expect(r.ours).toEqual([]);
      expect(r.status).toBe(0);
    }
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

  it('the user service runs the same command from ~/mcp-gateway, at default.target, as the user', () => {
    const unit = readFileSync(path.join(UNITS, 'mcp-gateway.user.service'), 'utf8');
    const system = readFileSync(path.join(UNITS, 'mcp-gateway.service'), 'utf8');
    const exec = (u: string): string => /^ExecStart=(.*)$/m.exec(u)?.[1] ?? '';
    expect(exec(unit)).toBe(exec(system).replaceAll('/opt/mcp-gateway/', '%h/mcp-gateway/').replace('/etc/mcp-gateway/', '%h/mcp-gateway/'));
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    expect(unit).not.toMatch(/^(DynamicUser|User)=/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
  });
});
