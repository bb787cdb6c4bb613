// Env files (`envFile:`, dotenv syntax): the files a manifest names, and what their variables are for.
//
//   top level   envFile: secrets.env    variables for ${VAR} in the manifest; the process environment wins
//   per server  envFile: [a.env, b.env] variables added to that server's child; the server's `env:` wins
//
// A path is relative to the manifest's folder; a list is read in order, a later file winning. A path may use
// ${VAR} from the process environment only (an env file cannot name another). Reading the files is the one
// effect here (readEnvFiles, called by the loader at the edge); the rest is pure. What the files hold is
// secret: problems name the field, the file and the line, never a value.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';
import { parseDotenv } from './dotenv.ts';
import { interpolate, type Env } from './interpolate.ts';
import { displayPath, type Segment } from './schema.ts';
import type { ConfigError } from './types.ts';

/** A file's text, or the error code reading it gave (ENOENT, EACCES, …). */
export type EnvFileRead = { readonly text: string } | { readonly error: string };

/** What was read, by absolute path. */
export type EnvFileTexts = ReadonlyMap<string, EnvFileRead>;

/** One file named by the manifest. */
export interface EnvFileRef {
  /** The server whose `envFile` names it; undefined for the top-level one. */
  readonly server: string | undefined;
  /** The field as errors name it: `envFile`, `envFile[1]`, `servers.demo.envFile`. */
  readonly field: string;
  /** Where the field's value starts in the manifest's text. */
  readonly offset: number;
  readonly path: string;
  /** How the file is named to a person: its absolute path, or as written when the path used ${VAR}. */
  readonly shown: string;
}

/** What the files named by a manifest hold, and what was wrong with them. */
export interface EnvFiles {
  /** The top-level files' variables, a later file winning: for ${VAR} (after the process environment). */
  readonly interpolation: Readonly<Record<string, string>>;
  /** Each server's files' variables, a later file winning. */
  readonly servers: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Every variable any file set, with every value it had there: secrets, to be taken out of messages. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** A file that could not be read: reported at the manifest's field that names it. */
  readonly fieldProblems: readonly { readonly offset: number; readonly message: string }[];
  /** A malformed line: reported at its own file, line and column. */
  readonly fileProblems: readonly ConfigError[];
}

/** Whether a manifest path (as a schema or the interpolation walk gives it) is an `envFile` value or one of its items. */
export function isEnvFileField(at: readonly Segment[]): boolean {
  return at[0] === 'envFile' || (at[0] === 'servers' && at[2] === 'envFile');
}

/**
 * The files the manifest names, in its order (top level first, then servers as written). Values that are
 * not a string or a list of strings, or whose ${VAR} cannot be substituted, are skipped: the loader
 * reports those where it validates and interpolates the manifest.
 */
export function envFileRefs(doc: Document, dir: string, env: Env): EnvFileRef[] {
  const refs: EnvFileRef[] = [];
  const resolve = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  const add = (node: unknown, server: string | undefined, at: Segment[], inList: boolean): void => {
    const n = resolve(node);
    if (isSeq(n) && !inList) n.items.forEach((item, i) => add(item, server, [...at, i], true));
    if (!isScalar(n) || typeof n.value !== 'string') return;
    const r = interpolate(n.value, env);
    if (!('value' in r) || r.value === '') return;
    const file = path.resolve(dir, r.value);
    const offset = (node as { range?: [number, number, number] | null }).range?.[0] ?? 0;
    refs.push({ server, field: displayPath(at), offset, path: file, shown: r.names.length > 0 ? n.value : file });
  };
  const top = resolve(doc.contents);
  if (!isMap(top)) return refs;
  const entry = (map: unknown, key: string): unknown => (isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key)?.value : undefined);
  add(entry(top, 'envFile'), undefined, ['envFile'], false);
  const servers = resolve(entry(top, 'servers'));
  if (isMap(servers)) {
    for (const pair of servers.items) {
      if (!isScalar(pair.key)) continue;
      const name = String(pair.key.value);
      add(entry(resolve(pair.value), 'envFile'), name, ['servers', name, 'envFile'], false);
    }
  }
  return refs;
}

/** Reads each file once (the effect, at the edge). A file that cannot be read is kept with its error code. */
export async function readEnvFiles(paths: readonly string[]): Promise<Map<string, EnvFileRead>> {
  const out = new Map<string, EnvFileRead>();
  await Promise.all(
    [...new Set(paths)].map(async (p) => {
      try {
        out.set(p, { text: await readFile(p, 'utf8') });
      } catch (err) {
        out.set(p, { error: (err as NodeJS.ErrnoException).code ?? String(err) });
      }
    }),
  );
  return out;
}

/**
 * The sha256 of the manifest's bytes and of each file it names (path, then bytes or the reason it could not
 * be read): what a reload compares to see whether anything changed. The same as the manifest's own hash
 * when it names no file.
 */
export function inputHash(bytes: string, refs: readonly EnvFileRef[], texts: EnvFileTexts): string {
  const h = createHash('sha256').update(bytes, 'utf8');
  for (const p of new Set(refs.map((r) => r.path))) {
    const read = texts.get(p);
    h.update(`\0${p}\0`, 'utf8');
    h.update(read === undefined ? '\0unread' : 'text' in read ? `\0text\0${read.text}` : `\0error\0${read.error}`, 'utf8');
  }
  return h.digest('hex');
}

/** Pure: what the files named by `refs` hold, from their `texts`. Each file's problems are reported once. */
export function envFilesOf(refs: readonly EnvFileRef[], texts: EnvFileTexts): EnvFiles {
  const interpolation: Record<string, string> = {};
  const servers = new Map<string, Record<string, string>>();
  const values = new Map<string, Set<string>>();
  const fieldProblems: { offset: number; message: string }[] = [];
  const fileProblems: ConfigError[] = [];
  const reported = new Set<string>();
  for (const ref of refs) {
    const read = texts.get(ref.path) ?? { error: 'NOT_READ' };
    if ('error' in read) {
      fieldProblems.push({ offset: ref.offset, message: `${ref.field}: cannot read ${ref.shown}: ${readProblem(read.error)}` });
      continue;
    }
    const parsed = parseDotenv(read.text);
    if (!parsed.ok) {
      if (!reported.has(ref.path)) for (const e of parsed.errors) fileProblems.push({ file: ref.shown, line: e.line, col: e.col, message: e.message });
      reported.add(ref.path);
      continue;
    }
    const target = ref.server === undefined ? interpolation : (servers.get(ref.server) ?? servers.set(ref.server, {}).get(ref.server)!);
    for (const [name, value] of parsed.vars) {
      target[name] = value;
      (values.get(name) ?? values.set(name, new Set()).get(name)!).add(value);
    }
  }
  return { interpolation, servers, values: new Map([...values].map(([n, vs]) => [n, [...vs]])), fieldProblems, fileProblems };
}

function readProblem(code: string): string {
  if (code === 'ENOENT') return "file not found; create it (readable only by the gateway's user: it holds secrets) or fix the path";
  if (code === 'EACCES' || code === 'EPERM') return "permission denied; make it readable by the gateway's user";
  if (code === 'EISDIR') return 'this is a directory; name a file';
  if (code === 'NOT_READ') return 'it was not read (parseManifest was given no text for it)';
  return code;
}
