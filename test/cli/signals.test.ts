import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { DEMO, alive, waitFor, type Json } from '../helpers/gateway.ts';
import { spawnGateway } from '../helpers/process-gateway.ts';
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

describe('mcp-gateway run: a second signal', () => {
  it('kills a child that ignores SIGTERM at once and exits 1', async () => {
    const file = path.join(tempDir(), 'mcp-gateway.yaml');
    // stopTimeout 1m: without the second signal the child would outlive the test.
    writeFileSync(file, `version: 1\nservers:\n  demo: { command: node, args: [${JSON.stringify(DEMO)}], env: { DEMO_STUBBORN: "1" }, stopTimeout: 1m }\n`);
    const g = await spawnGateway(['--config', file]);
    let pid = 0;
    onTestFinished(() => {
      if (g.proc.exitCode === null) g.proc.kill('SIGKILL');
      if (pid !== 0 && alive(pid)) process.kill(-pid, 'SIGKILL');
    });
    pid = await waitFor(async () => {
      const s = (((await (await fetch(`${g.url}/mcp/servers`)).json()) as Json).servers as Json[]).find((x) => x.name === 'demo');
      return s?.state === 'running' ? (s.pid as number) : undefined;
    }, 'demo running', 10_000);
    g.proc.kill('SIGINT');
    await waitFor(() => g.out.some((l) => l.includes('"msg":"shutting down"')), 'shutting down');
    await waitFor(() => g.out.some((l) => l.includes('ignoring SIGTERM')), 'the child ignored SIGTERM', 10_000);
    g.proc.kill('SIGINT');
    expect(await g.exited).toBe(1);
    expect(g.out.find((l) => l.includes('second signal'))).toContain('"killedGroups":1');
    await waitFor(() => !alive(pid), 'the stubborn child gone');
  });
});

describe('mcp-gateway run: its last log line', () => {
  it('is "stopped", written out before the process exits even while its stdout is slow to drain', async () => {
    const file = path.join(tempDir(), 'mcp-gateway.yaml');
    // DEMO_TRACE: the child writes a stderr line per message, which the gateway logs: lines enough to fill a pipe.
    writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n  demo: { command: node, args: [${JSON.stringify(DEMO)}], env: { DEMO_TRACE: "1" } }\n`);
    const gw = await spawnGateway(['--config', file]);
    const closed = new Promise<void>((resolve) => gw.proc.once('close', () => resolve()));
    await waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 'ready');
    // Nobody reads the gateway's stdout for a while: the pipe fills and its writes wait.
    gw.proc.stdout!.pause();
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    for (let i = 0; i < 800; i++) {
      await fetch(`${gw.url}/mcp/demo/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ping) });
    }
    gw.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    gw.proc.stdout!.resume();
    await closed;
    const lines = gw.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
    // Every line, in order: none lost or overtaken by a later one while a write was in flight at exit.
    expect(lines.filter((l) => l.msg === 'child stderr' && l.stderr === 'trace: ping').length).toBe(800);
    const at = (msg: string): number => lines.findIndex((l) => l.msg === msg);
    expect(at('shutting down')).toBeGreaterThan(lines.findLastIndex((l) => l.stderr === 'trace: ping'));
    expect(at('child exited')).toBeGreaterThan(at('shutting down'));
    expect(lines.at(-1)?.msg).toBe('stopped');
    expect(await gw.exited).toBe(0);
  }, 60_000);
});
