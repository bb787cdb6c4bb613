// Plumbing the commands share: where output goes, option parsing, the gateway's URL and admin key, and
// one HTTP call to a running gateway with errors put in words an operator can act on.
import { readFile } from 'node:fs/promises';

export type Env = Readonly<Record<string, string | undefined>>;

/** Output and environment of one command run; tests pass their own. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly env: Env;
}

export const processIo: Io = { out: (l) => console.log(l), err: (l) => console.error(l), env: process.env };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * Runs node:util's parseArgs (strict: unknown options are errors) and turns its throw into a message.
 * `--key VALUE` is refused by name: a secret on the command line is visible to every user in `ps`.
 */
export function parseOptions<T>(args: readonly string[], parse: (args: string[]) => T): Parsed<T> {
  if (args.some((a) => a === '--key' || a.startsWith('--key='))) {
    return { ok: false, message: 'there is no --key option: a key on the command line shows in `ps`; use --key-file FILE or MCP_GATEWAY_KEY' };
  }
  try {
    return { ok: true, value: parse([...args]) };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

export const DEFAULT_URL = 'http://127.0.0.1:3001';

/** The gateway's base URL without trailing slashes (a path prefix behind a proxy is kept). */
export function baseUrl(given: string | undefined, env: Env): Parsed<string> {
  const raw = given ?? (env.MCP_GATEWAY_URL || DEFAULT_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: `"${raw}" is not a URL; write e.g. ${DEFAULT_URL}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: `"${raw}": only http:// and https:// URLs are supported` };
  return { ok: true, value: raw.replace(/\/+$/, '') };
}

export interface Key {
  readonly value: string;
  /** Where it came from, for messages (never the key itself). */
  readonly source: string;
}

/** The admin key from --key-file (first line, trimmed) or MCP_GATEWAY_KEY; none is fine until a gateway asks. */
export async function readKey(keyFile: string | undefined, env: Env): Promise<Parsed<Key | undefined>> {
  if (keyFile !== undefined) {
    let text: string;
    try {
      text = await readFile(keyFile, 'utf8');
    } catch (err) {
      return { ok: false, message: `cannot read the key file ${keyFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
    }
    const value = (text.split(/\r?\n/, 1)[0] ?? '').trim();
    if (value === '') return { ok: false, message: `the key file ${keyFile} is empty` };
    return { ok: true, value: { value, source: `the key file ${keyFile}` } };
  }
  const value = env.MCP_GATEWAY_KEY?.trim();
  return { ok: true, value: value ? { value, source: 'MCP_GATEWAY_KEY' } : undefined };
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export interface Call {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly key: Key | undefined;
  readonly body?: string;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

/** One request; a network failure or timeout comes back as a message, never as a throw. */
export async function call(c: Call): Promise<Parsed<Answer>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (c.key !== undefined) headers.authorization = `Bearer ${c.key.value}`;
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  const timeoutMs = c.timeoutMs ?? 15_000;
  try {
    const res = await fetch(c.url, { method: c.method, headers, body: c.body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { ok: true, value: { status: res.status, text, json } };
  } catch (err) {
    return { ok: false, message: `cannot reach the gateway at ${c.url}: ${networkProblem(err, timeoutMs)}` };
  }
}

function networkProblem(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused; is it running, and on this address?';
  if (cause?.code === 'ENOTFOUND') return 'unknown host name';
  return cause?.message ?? e.message;
}

/** `{ error: { message } }` or `{ message }` from an error answer, made safe to print; else the status. */
export function answerProblem(a: Answer): string {
  const j = a.json as { error?: { message?: unknown } | string; message?: unknown } | undefined;
  const m = typeof j?.error === 'object' ? j.error.message : (j?.error ?? j?.message);
  return typeof m === 'string' && m !== '' ? `HTTP ${a.status}: ${printable(m, 200)}` : `HTTP ${a.status}`;
}

/**
 * Text from the network or a child's stderr, safe for a terminal: control characters (ANSI escapes could
 * rewrite the screen) become spaces, runs of spaces one, and it is cut at `max` characters.
 */
export function printable(s: unknown, max: number): string {
  // Typed answers are not checked field by field: anything that is not a string is printed as one.
  const flat = String(s).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
