// Test harness: a real gateway on an ephemeral loopback port, a manifest in a temp folder, and the log
// kept in memory so tests can read what was logged. Every harness is closed in afterEach.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO = path.join(ROOT, 'examples', 'servers', 'demo.js');

export interface Harness {
  readonly gateway: Gateway;
  readonly url: string;
  readonly dir: string;
  readonly file: string;
  readonly logs: string[];
  write(yaml: string): void;
  close(): Promise<void>;
}

const open = new Set<Harness>();

/** Servers block for the demo server under `name`, with optional extra YAML lines (indented 4) and args. */
export function demoServer(name: string, extra = '', args: string[] = []): string {
  return `  ${name}:\n    command: node\n    args: ${JSON.stringify([DEMO, ...args])}\n${extra}`;
}

export function manifest(servers: string, head = ''): string {
  return `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\n${head}servers:\n${servers || '  {}'}\n`;
}

/** Hex sha256 of `text`: how a manifest stores an API key. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * A key of a test manifest: `key`, the secret the test sends (the manifest holds its sha256), or `keyEnv`,
 * the variable the gateway reads the key from (`key: "${VAR}"`).
 */
export type TestKey = {
  readonly name: string;
  /** YAML: a list such as `[a, b]`, or `*` (written quoted) for every server. */
  readonly servers: string;
  readonly admin?: boolean;
  /** A rate limit tests never reach (the default one can be, by a test that sends many requests). */
  readonly unlimited?: boolean;
  /** More entries of the key's mapping, e.g. `tools: { deny: [x] }`. */
  readonly extra?: string;
} & ({ readonly key: string } | { readonly keyEnv: string });

/** The `auth.keys` block with `keys`, in order: a head for `manifest`. */
export function authKeys(keys: readonly TestKey[]): string {
  const line = (k: TestKey): string => {
    const secret = 'key' in k ? `sha256: ${sha256Hex(k.key)}` : `key: "\${${k.keyEnv}}"`;
    const entries = [`name: ${k.name}`, secret, `servers: ${k.servers === '*' ? '"*"' : k.servers}`];
    if (k.admin) entries.push('admin: true');
    if (k.unlimited) entries.push('rateLimit: { rps: 1000000, burst: 1000000 }');
    if (k.extra !== undefined) entries.push(k.extra);
    return `    - { ${entries.join(', ')} }\n`;
  };
  return `auth:\n  keys:\n${keys.map(line).join('')}`;
}

/** `files`: more files to write beside the manifest before the gateway starts (path relative to its folder → text). */
export async function startHarness(yaml: string, options: Partial<GatewayOptions> = {}, files: Readonly<Record<string, string>> = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-'));
  const file = path.join(dir, 'mcp-gateway.yaml');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  writeFileSync(file, yaml);
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  const gateway = await startGateway({ configFile: file, log, port: 0, env: { ...process.env, PORT: undefined }, ...options });
  const h: Harness = {
    gateway,
    url: gateway.url,
    dir,
    file,
    logs,
    write: (text) => writeFileSync(file, text),
    async close() {
      open.delete(h);
      await gateway.close(0);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  open.add(h);
  return h;
}

export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((h) => h.close()));
}

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export interface ServerRow {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  reason: string | null;
  lastError: string | null;
  sseClients: number;
  inFlight: number;
}

export async function servers(url: string): Promise<{ servers: ServerRow[]; manifest: { state: string; errors: string[]; lastPlan: string | null } }> {
  const res = await fetch(`${url}/mcp/servers`);
  return (await res.json()) as never;
}

export async function server(url: string, name: string): Promise<ServerRow | undefined> {
  return (await servers(url)).servers.find((s) => s.name === name);
}

export async function running(url: string, name: string, timeoutMs = 5000): Promise<ServerRow> {
  return waitFor(async () => {
    const s = await server(url, name);
    return s?.state === 'running' ? s : undefined;
  }, `${name} running`, timeoutMs);
}

export async function command(url: string, name: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/mcp/${name}/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export function callTool(id: number | string, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Test-side JSON: answers are checked by assertions, not by the type system. */
// biome-ignore lint: tests read arbitrary JSON answers
export type Json = any;

export async function getJson(url: string, init?: RequestInit): Promise<Json> {
  return (await fetch(url, init)).json();
}

export async function post(url: string): Promise<Json> {
  return getJson(url, { method: 'POST' });
}

/** The names of the environment variables of `name`'s child (the demo's env_names tool), once it answers. */
export async function envNames(url: string, name: string): Promise<string[]> {
  const r = await waitFor(async () => {
    const answer = await command(url, name, callTool(1, 'env_names', {}));
    return answer.status === 200 ? (answer.body as Json) : undefined;
  }, `${name} answers env_names`);
  return String(r.result.content[0].text).split(',');
}
