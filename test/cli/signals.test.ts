import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO } from '../helpers/gateway.ts';
import { BIN, cleanup, tempDir } from './cli.ts';

afterEach(cleanup);

/** Starts `run` and sends `signal` the moment the "listening" line arrives (before the file watch is up). */
function signalAtListening(signal: NodeJS.Signals, then?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const file = path.join(tempDir(), 'mcp-gateway.yaml');
  writeFileSync(file, `version: 1\nservers:\n  demo: { command: node, args: [${JSON.stringify(DEMO)}] }\n`);
  const proc = spawn(process.execPath, [BIN, 'run', '--config', file], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let sent = false;
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (!sent && out.includes('"msg":"listening"')) {
      sent = true;
      proc.kill(signal);
      if (then !== undefined) setTimeout(() => proc.kill(then), 1500);
    }
  });
  return new Promise((resolve) => proc.once('close', (code, sig) => resolve({ code, signal: sig, out })));
}

describe('mcp-gateway run: signals while it boots', () => {
  it('a SIGHUP at once is a reload, not the end of the process', async () => {
    const r = await signalAtListening('SIGHUP', 'SIGTERM');
    expect(r.out).toContain('"trigger":"signal"');
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it('a SIGTERM at once stops the gateway and its children, exit 0', async () => {
    const r = await signalAtListening('SIGTERM');
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.out).toContain('"msg":"stopped"');
  });
});
