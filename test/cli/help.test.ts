import { describe, expect, it } from 'vitest';
import { cli } from './cli.ts';

describe('mcp-gateway --help', () => {
  for (const command of ['run', 'validate', 'plan', 'status', 'service']) {
    it(`${command} --help prints its usage and exit codes, exit 0`, async () => {
      for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
        const r = await cli(args);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^Usage: mcp-gateway ${command}`));
        expect(r.stdout).toContain('Exit codes');
      }
    });
  }

  it('prints the overview with every command; no command at all is a usage error (2)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['run', 'validate', 'plan', 'status', 'service']) expect(help.stdout).toContain(`mcp-gateway ${c}`);
    expect(help.stdout).toContain('Exit codes');
    expect((await cli([])).code).toBe(2);
    const unknown = await cli(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy"');
  });
});
