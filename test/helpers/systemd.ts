// systemd-analyze verify, for the shipped units (test/systemd) and the ones `service install` writes
// (test/cli/service.test.ts). It works offline, without a running systemd; --user needs a runtime folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Verified {
  readonly status: number | null;
  readonly output: string;
  readonly error?: Error;
  /** Lines about our units: warnings (unknown key, value that does not parse) leave the exit code 0. */
  readonly ours: string[];
}

/** `systemd-analyze verify [--user] paths…`; `user` as a user manager would load them. */
export function verifyUnits(paths: readonly string[], user = false): Verified {
  const runtime = user ? mkdtempSync(path.join(tmpdir(), 'mcp-gw-verify-run-')) : undefined;
  try {
    const env = { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', ...(runtime === undefined ? {} : { XDG_RUNTIME_DIR: runtime }) };
    const r = spawnSync('systemd-analyze', ['verify', ...(user ? ['--user'] : []), ...paths], { encoding: 'utf8', env });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    // Lines about the host's own units are not ours to fix.
    const ours = output.split('\n').filter((l) => l.includes('mcp-gateway') || paths.some((p) => l.includes(path.basename(p))));
    return { status: r.status, output, error: r.error, ours };
  } finally {
    if (runtime !== undefined) rmSync(runtime, { recursive: true, force: true });
  }
}

/** Why systemd-analyze cannot verify anything here (not installed, or fails on a unit that is surely fine); undefined when it can. */
export function cannotVerify(): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-verify-'));
  try {
    const control = path.join(dir, 'control-check.service');
    writeFileSync(control, `[Unit]\nDescription=control\n[Service]\nType=oneshot\nExecStart=${process.execPath} -e 0\n`);
    for (const user of [false, true]) {
      const r = verifyUnits([control], user);
      if (r.error !== undefined) return `it cannot run (${r.error.message})`;
      if (r.status !== 0) return `systemd-analyze verify${user ? ' --user' : ''} fails even on a trivial unit here: ${r.output}`;
    }
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const SYSTEMD_TOOL = { name: 'systemd-analyze', enable: 'apt-get install -y systemd' } as const;
