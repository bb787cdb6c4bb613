// Manifest text → LoadResult: parse YAML keeping positions, interpolate ${VAR}, validate, resolve.
// Every problem is reported at once, at the line and column a person must edit, sorted by position.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLError } from 'yaml';
import { envFileRefs, envFilesOf, inputHash, isEnvFileField, readEnvFiles, type EnvFileTexts } from './env-files.ts';
import { interpolate, type Env } from './interpolate.ts';
import { portFromEnv, resolveManifest, type ManifestV1 } from './resolve.ts';
import { checkRules } from './rules.ts';
import { checkManifest, displayPath, type Segment, type SchemaProblem } from './schema.ts';
import type { ConfigError, LoadResult } from './types.ts';

/**
 * YAML problems after which the document is still what the author wrote, so validation goes on and
 * its errors are reported too. After any other syntax error the structure is a guess, and errors
 * found in it would mostly be echoes of the syntax error: those are reported alone.
 */
const STRUCTURE_INTACT = new Set<string>(['DUPLICATE_KEY']);

const YAML_HINTS: Readonly<Record<string, string>> = {
  TAB_AS_INDENT: 'indent with spaces',
  BAD_INDENT: 'check the indentation: items of one map or list start in the same column',
  TAG_RESOLVE_FAILED: 'remove the tag (the word starting with "!")',
};

/**
 * Reads `file` (following symlinks) and the env files it names, and parses them. Errors name the manifest
 * as given, and an env file in its folder (or below) by the same way to it.
 */
export async function loadManifest(file: string, env: Env = process.env): Promise<LoadResult> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    return { ok: false, hash: undefined, inputHash: undefined, errors: [{ file, line: 1, col: 1, message: readProblem(err) }] };
  }
  return asGiven(await loadManifestText(abs, text, env), abs, file);
}

/**
 * `result` of the manifest at `abs` with its errors naming the manifest as `given` (a relative path, say),
 * and an env file in its folder or below the same way: `given`'s folder, then the file.
 */
export function asGiven(result: LoadResult, abs: string, given: string): LoadResult {
  return result.ok ? result : { ...result, errors: result.errors.map((e) => ({ ...e, file: givenName(e.file, abs, given) })) };
}

function givenName(shown: string, abs: string, given: string): string {
  if (shown === abs) return given;
  const rel = path.relative(path.dirname(abs), shown);
  return path.isAbsolute(shown) && !rel.startsWith('..') && !path.isAbsolute(rel) ? path.join(path.dirname(given), rel) : shown;
}

/**
 * `text` as the manifest at `file` (absolute: env files and relative paths resolve against its folder),
 * with the env files it names read now. For a manifest that is not on disk (POST /admin/plan, the older
 * side of `plan --against FILE`) as much as for one that is.
 */
export async function loadManifestText(file: string, text: string, env: Env): Promise<LoadResult> {
  // Most manifests name no env file: no second YAML parse for them on every look.
  const named = text.includes('envFile') ? envFileRefs(parseDocument(text), path.dirname(file), env).map((r) => r.path) : [];
  return parseManifest(file, text, env, await readEnvFiles(named));
}

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found; check the path, or create the manifest there';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied; make the file readable by the gateway';
  if (code === 'EISDIR') return 'this is a directory; give the path of the manifest file';
  return `cannot read the file (${code ?? String(err)})`;
}

/**
 * Pure: the same file name, text, environment and env files' texts always give the same result. `file`
 * is the manifest's absolute path: it names the file in errors and anchors relative `cwd` and `envFile`
 * values. `envFiles` holds what was read of the files the manifest names (loadManifestText reads them);
 * a file named but not given is an error.
 */
export function parseManifest(file: string, bytes: string, env: Env, envFiles: EnvFileTexts = new Map()): LoadResult {
  const hash = createHash('sha256').update(bytes, 'utf8').digest('hex');
  let inputs = hash;
  const lines = new LineCounter();
  const errors: ConfigError[] = [];
  const report = (offset: number, message: string): void => {
    const { line, col } = lines.linePos(offset);
    errors.push({ file, line, col, message });
  };
  // The manifest's problems first, then each env file's, each by position.
  const order = (a: ConfigError, b: ConfigError): number =>
    Number(a.file !== file) - Number(b.file !== file) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col;
  const fail = (): LoadResult => ({ ok: false, hash, inputHash: inputs, errors: errors.sort(order) });

  const doc = parseDocument(bytes, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const broken = doc.errors.filter((e) => !STRUCTURE_INTACT.has(e.code));
  if (broken.length > 0) {
    // One syntax error usually sets off a stream of "unexpected token" ones: the first is the one to fix.
    const first = broken.reduce((a, b) => (b.pos[0] < a.pos[0] ? b : a));
    report(first.pos[0], yamlMessage(first, doc, lineOf(bytes, lines, first.pos[0])));
    return fail();
  }
  for (const e of [...doc.errors, ...doc.warnings]) report(e.pos[0], yamlMessage(e, doc, ''));
  if (doc.contents === null) {
    report(0, 'the manifest is empty; start with "version: 1" and a "servers:" map');
    return fail();
  }

  // Env files are read before anything is interpolated: the top-level ones hold variables for ${VAR}.
  const refs = envFileRefs(doc, path.dirname(file), env);
  inputs = inputHash(bytes, refs, envFiles);
  const files = envFilesOf(refs, envFiles);
  for (const p of files.fieldProblems) report(p.offset, p.message);
  errors.push(...files.fileProblems);
  // For ${VAR}, the process environment wins over the top-level env files (as with Compose's .env).
  const varEnv: Record<string, string | undefined> = { ...files.interpolation };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) varEnv[name] = value;
  const hasTopFile = refs.some((r) => r.server === undefined);

  // Interpolation rule, simple to state: every string VALUE is interpolated, wherever it is; keys never
  // are. It runs before validation, so a value from the environment is checked like a written one.
  // Substituted text is always a string: YAML has already decided the types. An envFile path takes
  // ${VAR} from the process environment only: the files it names cannot name themselves.
  const failed = new WeakSet<Node>();
  const substituted = new WeakSet<Node>();
  /** Scalars written with ${VAR}, and the variables each read. */
  const fromEnv = new Map<Node, readonly string[]>();
  const secretEnvNames = new Set<string>();
  forEachString(doc.contents, [], (node, at) => {
    if (!node.value.includes('$')) return;
    // A key given as ${VAR}: that variable holds a secret the children must never inherit.
    if (at[0] === 'auth' && at[1] === 'keys' && at[3] === 'key') {
      for (const m of node.value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) secretEnvNames.add(m[1]!);
    }
    const r = interpolate(node.value, isEnvFileField(at) ? env : varEnv);
    const offset = node.range?.[0] ?? 0;
    if ('value' in r) {
      if (r.value !== node.value) substituted.add(node);
      if (r.names.length > 0) fromEnv.set(node, r.names);
      node.value = r.value;
    } else if ('missing' in r) {
      failed.add(node);
      const [first = 'VAR'] = r.missing;
      const names = r.missing.join(', ');
      const one = r.missing.length === 1;
      const [it, is] = one ? ['it', `variable ${names} is not set`] : ['them', `variables ${names} are not set`];
      // Where it may come from: an envFile path's variables come from the process environment only.
      const verb = hasTopFile && !isEnvFileField(at) ? `${is} in the environment or envFile; export ${it} or add ${it} to the envFile,` : `${is}; export ${it}`;
      report(offset, `${displayPath(at)}: ${verb} or write \${${first}:-default}`);
    } else {
      failed.add(node);
      report(offset, `${displayPath(at)}: ${r.error}`);
    }
  });

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    report(0, `cannot read the document: ${(err as Error).message}`);
    return fail();
  }

  const problems = checkManifest(data);
  for (const p of problems) {
    const { offset, node } = position(doc, p);
    if (node !== undefined && failed.has(node)) continue; // already reported: its variable is missing
    const hint = p.keyword === 'type' && node !== undefined && substituted.has(node) ? '; a value written with ${...} is always a string' : '';
    report(offset, p.message + hint);
  }
  // Relations between fields only make sense once every field has the right shape.
  if (problems.length === 0) for (const p of checkRules(data as ManifestV1)) report(position(doc, p).offset, p.message);

  const port = portFromEnv(env);
  if ('error' in port) report(0, port.error);

  if (errors.length > 0) return fail();
  return {
    ok: true,
    desired: resolveManifest(data as ManifestV1, {
      file,
      hash,
      inputHash: inputs,
      envFromFiles: files.servers,
      envFileValues: files.values,
      ...('port' in port && port.port !== undefined ? { portOverride: port.port } : {}),
      secretEnvNames: [...secretEnvNames],
      interpolated: interpolatedPaths(doc, fromEnv),
    }),
  };
}

/**
 * Every path at which the data holds a value written with ${VAR}, through aliases too: `*token` used in
 * another server's args carries the same value there, so that path is listed as well. Runs on a valid
 * manifest only, whose depth the schema bounds (an alias cannot make it loop).
 */
function interpolatedPaths(doc: Document, fromEnv: ReadonlyMap<Node, readonly string[]>): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  if (fromEnv.size === 0) return out;
  const visit = (node: unknown, at: Segment[]): void => {
    const n = isAlias(node) ? node.resolve(doc) : node;
    if (isMap(n)) for (const pair of n.items) visit(pair.value, [...at, keyName(pair.key)]);
    else if (isSeq(n)) n.items.forEach((item, i) => visit(item, [...at, i]));
    else if (isScalar(n)) {
      const names = fromEnv.get(n);
      if (names !== undefined) out.set(displayPath(at), names);
    }
  };
  visit(doc.contents, []);
  return out;
}

function yamlMessage(e: YAMLError, doc: Document, line: string): string {
  if (e.code === 'DUPLICATE_KEY') {
    const key = keyAt(doc.contents, e.pos[0]);
    return `duplicate key${key === undefined ? '' : ` ${JSON.stringify(key)}`}; each key may appear only once in a map, remove or rename one`;
  }
  if (e.code === 'MULTIPLE_DOCS') return 'YAML syntax: more than one document; a manifest is one YAML document, remove this "---" line';
  const text = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  // In { } and [ ], YAML reads the braces of an unquoted ${VAR} as its own: a common surprise.
  const hint = /[{[].*\$\{/.test(line) ? 'inside { } or [ ], put values that use ${...} in quotes, e.g. "${PORT}"' : YAML_HINTS[e.code];
  return `YAML syntax: ${text}${hint === undefined ? '' : `; ${hint}`}`;
}

function lineOf(text: string, lines: LineCounter, offset: number): string {
  const { line } = lines.linePos(offset);
  return text.slice(lines.lineStarts[line - 1] ?? 0, lines.lineStarts[line] ?? text.length);
}

function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** The name of the map key starting at `offset`, searched through the whole document. */
function keyAt(node: unknown, offset: number): string | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) return keyName(pair.key);
      const inner = keyAt(pair.value, offset);
      if (inner !== undefined) return inner;
    }
  } else if (isSeq(node)) {
    for (const item of node.items) {
      const inner = keyAt(item, offset);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

type StringScalar = Node & { value: string; range?: [number, number, number] | null };

function forEachString(node: unknown, at: Segment[], fn: (node: StringScalar, at: Segment[]) => void): void {
  if (isMap(node)) for (const pair of node.items) forEachString(pair.value, [...at, keyName(pair.key)], fn);
  else if (isSeq(node)) node.items.forEach((item, i) => forEachString(item, [...at, i], fn));
  else if (isScalar(node) && typeof node.value === 'string') fn(node as StringScalar, at);
  // Aliases are skipped: the anchored node they point to is visited where it is written.
}

interface Found {
  /** The deepest node reached along the path (the whole path when `complete`). */
  node: Node | undefined;
  /** The key of the pair whose value is `node`, when `node` is a map value. */
  key: Node | undefined;
  complete: boolean;
}

/** Follows an ajv instance path through the YAML tree, through aliases, as far as it exists. */
function find(doc: Document, at: readonly Segment[]): Found {
  let node: unknown = doc.contents;
  let key: Node | undefined;
  for (const seg of at) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyName(p.key) === String(seg));
      if (pair === undefined) return { node, key, complete: false };
      key = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && node.items[Number(seg)] !== undefined) {
      key = undefined;
      node = node.items[Number(seg)];
    } else return { node: node as Node | undefined, key, complete: false };
  }
  return { node: node as Node | undefined, key, complete: true };
}

function start(n: Node | undefined): number | undefined {
  return n?.range?.[0];
}

/** Where a schema problem is shown: its key (unknown key, bad name), the map's own key (missing key), or its value. */
function position(doc: Document, p: SchemaProblem): { offset: number; node: Node | undefined } {
  const f = find(doc, p.path);
  const fallback = start(f.node) ?? start(f.key) ?? 0;
  if (p.target.kind === 'key' && f.complete && isMap(f.node)) {
    const name = p.target.key;
    const pair = f.node.items.find((x) => keyName(x.key) === name);
    return { offset: start(pair?.key as Node | undefined) ?? fallback, node: undefined };
  }
  if (p.target.kind === 'map') return { offset: start(f.key) ?? fallback, node: f.node };
  // An empty value ("command:" and nothing after) has no text of its own: point at its key.
  const empty = isScalar(f.node) && f.node.value === null && f.node.source === '';
  return { offset: (empty ? start(f.key) : start(f.node)) ?? start(f.key) ?? 0, node: f.complete ? f.node : undefined };
}
