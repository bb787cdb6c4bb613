// Manifest text → LoadResult: parse YAML keeping positions, interpolate ${VAR}, validate, resolve.
// Every problem is reported at once, at the line and column a person must edit, sorted by position.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLError } from 'yaml';
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

/** Reads `file` (following symlinks) and parses it; errors name the file as given. */
export async function loadManifest(file: string, env: Env = process.env): Promise<LoadResult> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    return { ok: false, hash: undefined, errors: [{ file, line: 1, col: 1, message: readProblem(err) }] };
  }
  const result = parseManifest(abs, text, env);
  return result.ok ? result : { ...result, errors: result.errors.map((e) => ({ ...e, file })) };
}

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found; check the path, or create the manifest there';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied; make the file readable by the gateway';
  if (code === 'EISDIR') return 'this is a directory; give the path of the manifest file';
  return `cannot read the file (${code ?? String(err)})`;
}

/**
 * Pure: the same file name, text and environment always give the same result. `file` is the
 * manifest's absolute path: it names the file in errors and anchors relative `cwd` values.
 */
export function parseManifest(file: string, bytes: string, env: Env): LoadResult {
  const hash = createHash('sha256').update(bytes, 'utf8').digest('hex');
  const lines = new LineCounter();
  const errors: ConfigError[] = [];
  const report = (offset: number, message: string): void => {
    const { line, col } = lines.linePos(offset);
    errors.push({ file, line, col, message });
  };
  const fail = (): LoadResult => ({ ok: false, hash, errors: errors.sort((a, b) => a.line - b.line || a.col - b.col) });

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

  // Interpolation rule, simple to state: every string VALUE is interpolated, wherever it is; keys never
  // are. It runs before validation, so a value from the environment is checked like a written one.
  // Substituted text is always a string: YAML has already decided the types.
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
    const r = interpolate(node.value, env);
    const offset = node.range?.[0] ?? 0;
    if ('value' in r) {
      if (r.value !== node.value) substituted.add(node);
      if (r.names.length > 0) fromEnv.set(node, r.names);
      node.value = r.value;
    } else if ('missing' in r) {
      failed.add(node);
      const [first = 'VAR'] = r.missing;
      const names = r.missing.join(', ');
      const verb = r.missing.length === 1 ? `variable ${names} is not set; export it` : `variables ${names} are not set; export them`;
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
