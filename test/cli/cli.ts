// Helpers for the CLI tests: the real bin (it runs dist/, so `npm run build` first), temp folders, a real
// gateway process, and a stub HTTP server on loopback. Spawns are async: a stub in this process must keep
// answering while the CLI waits on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/gateway.ts';
import { spawnGateway } from '../helpers/process-gateway.ts';

export const BIN = path.join(ROOT, 'bin', 'mcp-gateway.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const cleanups: (() => void | Promise<void>)[] = [];

/** Runs every cleanup registered since the last call (call it in afterEach). */
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** The environment of the test run without the variables the CLI reads, plus `env`. */
function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['MCP_GATEWAY_KEY', 'MCP_GATEWAY_URL', 'MCP_GATEWAY_CONFIG', 'PORT']) delete base[k];
  return { ...base, ...env };
}

export interface CliOptions {
  /** The node that runs the bin (default: this one). */
  readonly node?: string;
  /** Its working directory (default: the checkout). */
  readonly cwd?: string;
  /** Run as this user id (the test runs as root). */
  readonly uid?: number;
}

/** Runs the bin with `args`; `input`, when given, is its stdin (else stdin is /dev/null). */
export function cli(args: string[], env: Record<string, string | undefined> = {}, input?: string, options: CliOptions = {}): Promise<CliResult> {
  const proc = spawn(options.node ?? process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(env),
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  if (input !== undefined) proc.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
}

export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RunningGateway {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly out: string[];
}

/** `mcp-gateway run --config FILE` on an ephemeral port; resolves at its "listening" log line. */
export async function runGateway(file: string, env: Record<string, string> = {}): Promise<RunningGateway> {
  const g = await spawnGateway(['--config', file], { MCP_GATEWAY_KEY: undefined, MCP_GATEWAY_URL: undefined, MCP_GATEWAY_CONFIG: undefined, ...env });
  cleanups.push(async () => void (await g.stop()));
  return g;
}

export interface StubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface StubAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** An HTTP server on 127.0.0.1 (ephemeral port) that records each request and answers with `answer`. */
export async function stubServer(answer: (r: StubRequest) => StubAnswer): Promise<{ url: string; requests: StubRequest[] }> {
  const requests: StubRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r: StubRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(r);
      const a = answer(r);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** A loopback URL where nothing listens: a port that was free a moment ago. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
