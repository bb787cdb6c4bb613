// A gateway in a process of its own (`node bin/mcp-gateway.js run`), for tests that need its own pid:
// memory, signals, exit codes. Stopped by the returned stop() (SIGKILL as a last resort).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, waitFor } from './gateway.ts';

export interface GatewayProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly out: string[];
  readonly exited: Promise<number | null>;
  rssBytes(): number;
  stop(): Promise<number | null>;
}

/** The node flags `npm start` runs the gateway with (package.json), so tests measure what ships. */
export const START_FLAGS: string[] = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(' ')
  .filter((w) => w.startsWith('--'));

/** What a process writes, as it comes: stdout line by line, stderr chunk by chunk, in one list. */
export function outputLines(proc: ChildProcess): string[] {
  const out: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      out.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  proc.stderr!.on('data', (c: Buffer) => out.push(c.toString()));
  return out;
}

/** `env` goes over the test's own environment (PORT=0 first); a key set to undefined is removed. */
export async function spawnGateway(args: string[], env: Record<string, string | undefined> = {}, nodeFlags: string[] = START_FLAGS): Promise<GatewayProcess> {
  const merged: NodeJS.ProcessEnv = { ...process.env, PORT: '0', ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const proc = spawn(process.execPath, [...nodeFlags, path.join(ROOT, 'bin', 'mcp-gateway.js'), 'run', ...args], {
    cwd: ROOT,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = outputLines(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const line = await waitFor(() => out.find((l) => l.includes('"msg":"listening"')), 'listening log line', 15_000);
  return {
    proc,
    url: JSON.parse(line).url as string,
    out,
    exited,
    rssBytes: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) * 1024,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
