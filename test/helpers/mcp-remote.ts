// mcp-remote (the stdio bridge desktop clients use) as a child process, for tests: JSON-RPC lines in,
// answers and notifications out. Its HOME is a temp folder of its own (it keeps state there).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, waitFor, type Json } from './gateway.ts';

export interface Bridge {
  /** Responses by id. */
  readonly answers: Map<number, Json>;
  readonly notifications: Json[];
  send(message: object): void;
  /** The response to `id`, waited for up to 15 s. */
  answer(id: number, what: string): Promise<Json>;
  stop(): void;
}

const bridges = new Set<Bridge>();

/** mcp-remote on `url` (a gateway's Streamable HTTP URL). */
export function startBridge(url: string): Bridge {
  const home = mkdtempSync(path.join(tmpdir(), 'mcp-remote-home-'));
  const proc: ChildProcessWithoutNullStreams = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'mcp-remote', 'dist', 'proxy.js'), url], {
    env: { ...process.env, HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const answers = new Map<number, Json>();
  const notifications: Json[] = [];
  let buf = '';
  proc.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const m = JSON.parse(line) as Json;
      if (m.id !== undefined && m.method === undefined) answers.set(m.id, m);
      else if (m.method !== undefined && m.id === undefined) notifications.push(m);
    }
  });
  const b: Bridge = {
    answers,
    notifications,
    send: (m) => void proc.stdin.write(`${JSON.stringify(m)}\n`),
    answer: (id, what) => waitFor(() => answers.get(id), what, 15_000),
    stop() {
      bridges.delete(b);
      proc.kill();
      rmSync(home, { recursive: true, force: true });
    },
  };
  bridges.add(b);
  return b;
}

/** Stops every bridge a test left running. */
export function stopBridges(): void {
  for (const b of [...bridges]) b.stop();
}
