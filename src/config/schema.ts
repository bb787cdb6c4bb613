// The manifest's JSON Schema, compiled once, and ajv's errors turned into operator-facing problems:
// where to look (a value, a key, or a map missing a key) and what to do, with no ajv vocabulary.
// Messages never quote a string value: after interpolation any of them may hold a secret.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { validate as cronValid, validateDetailed as cronDetails } from 'node-cron';
import { isTimerDuration, isTooLong, MAX_DURATION_TEXT } from './duration.ts';

export type Segment = string | number;

/** What to point at: the value at `path`, the key `key` inside the map at `path`, or the map at `path` itself. */
export type Target = { kind: 'value' } | { kind: 'key'; key: string } | { kind: 'map' };

export interface SchemaProblem {
  readonly path: readonly Segment[];
  readonly target: Target;
  readonly keyword: string;
  readonly message: string;
}

export const manifestSchema: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../schemas/manifest.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// verbose: errors carry parentSchema (to list the allowed keys) and data (to explain a bad cron field).
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
// Not 'duration': JSON Schema 2020-12 defines that one as ISO 8601 (PT5S), and editors would flag '5s'.
// The format also holds the timer limit for text ("600h"); the schema's maximum holds it for whole numbers.
ajv.addFormat('unit-duration', { type: 'string', validate: isTimerDuration });
ajv.addFormat('cron', { type: 'string', validate: (s: string) => cronValid(s) });
ajv.addFormat('timezone', { type: 'string', validate: isTimeZone });
const validateManifest = ajv.compile(manifestSchema);

/** Schema problems in a plain (parsed and interpolated) manifest, one per real problem, in ajv's order. */
export function checkManifest(data: unknown): SchemaProblem[] {
  if (validateManifest(data)) return [];
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  const errors = validateManifest.errors ?? [];
  // `false or a map` (liveness): a map with a bad field fails both branches; the field's own error says
  // what to fix, the branch errors at its parent would only confuse.
  const nested = (e: ErrorObject): boolean => errors.some((o) => o.instancePath.startsWith(`${e.instancePath}/`));
  const branches = errors.filter((e) => e.keyword === 'oneOf').map((e) => ({ at: e.instancePath, schema: `${e.schemaPath}/`, nested: nested(e) }));
  for (const e of errors) {
    // Without a nested error, the oneOf says it once; with one, that error says it.
    const branch = branches.find((b) => b.at === e.instancePath);
    if (branch !== undefined && (e.keyword === 'oneOf' ? branch.nested : e.schemaPath.startsWith(branch.schema))) continue;
    const p = describe(e);
    if (p === undefined) continue;
    const id = JSON.stringify([p.path, p.target, p.message]);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(p);
  }
  return out;
}

export function pointerToPath(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `servers.demo.args[0]`; keys that are not plain words are quoted: `servers["my server"]`. */
export function displayPath(path: readonly Segment[]): string {
  let out = '';
  for (const s of path) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function where(path: readonly Segment[]): string {
  if (path.length === 0) return 'at the top level';
  if (path.length === 2 && path[0] === 'servers') return `in server ${JSON.stringify(String(path[1]))}`;
  return `in ${displayPath(path)}`;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map (key: value lines)',
  array: 'a list',
  null: 'empty',
};

const REQUIRED_HINTS: Readonly<Record<string, string>> = {
  version: 'add "version: 1" at the top',
  servers: 'add a "servers:" map (it may be empty: "servers: {}")',
  command: 'add e.g. "command: node"',
  restart: 'add e.g. restart: "0 4 * * *"',
};

const CRON_FIELDS: Readonly<Record<string, string>> = {
  second: 'second',
  minute: 'minute',
  hour: 'hour',
  dayOfMonth: 'day of month',
  month: 'month',
  dayOfWeek: 'weekday',
};

/** What a value failing a pattern of the schema should look like, by pattern. */
const PATTERN_HINTS: Readonly<Record<string, string>> = {
  [String((manifestSchema.$defs as Record<string, { pattern?: string }>).byteSize?.pattern)]: 'invalid size; use a number with a unit K, M or G, e.g. 512M or 1.5G',
  '^[0-9]+(\\.[0-9]+)?%$': 'invalid CPU share; use a percentage of one core, e.g. 50%, or a number of cores, e.g. 2',
  '^\\S+$': 'must not hold spaces; a claim is one name, or a dotted path such as realm_access.roles',
};

const DURATION_HINT = 'invalid duration; use a number with a unit, e.g. 500ms, 5s, 2m';
const DURATION_TOO_LONG = `too long; a duration is at most ${MAX_DURATION_TEXT} (about 24.8 days): Node timers cannot hold longer`;

function describe(e: ErrorObject): SchemaProblem | undefined {
  const path = pointerToPath(e.instancePath);
  const at = displayPath(path);
  const value = (message: string): SchemaProblem => ({ path, target: { kind: 'value' }, keyword: e.keyword, message });
  const params = e.params as Record<string, unknown>;

  // The inner error of a propertyNames check; the propertyNames error itself says it better.
  if (e.propertyName !== undefined) return undefined;
  // Whatever failed inside the duration definition (type, format, minimum), the fix is the same, unless
  // the value is well formed and only too long: then the fix is a shorter one.
  if (e.parentSchema?.format === 'unit-duration') return value(`${at}: ${isTooLong(e.data) ? DURATION_TOO_LONG : DURATION_HINT}`);

  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((e.parentSchema?.properties ?? {}) as Record<string, unknown>);
      const close = closest(key, allowed);
      const hint = close === undefined ? '' : ` did you mean "${close}"?`;
      return { path, target: { kind: 'key', key }, keyword: e.keyword, message: `unknown key ${JSON.stringify(key)} ${where(path)};${hint} allowed: ${allowed.join(', ')}` };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const hint = REQUIRED_HINTS[key] ?? `add "${key}:"`;
      return { path, target: { kind: 'map' }, keyword: e.keyword, message: `missing required key "${key}" ${where(path)}; ${hint}` };
    }
    case 'propertyNames': {
      const key = String(params.propertyName);
      const message =
        path.length === 1 && path[0] === 'servers'
          ? `server name ${JSON.stringify(key)} is not URL-safe; use letters, digits, "-" and "_" (at most 63, starting with a letter or digit)`
          : `environment variable name ${JSON.stringify(key)} ${where(path)} is not valid; it must not be empty or contain "="`;
      return { path, target: { kind: 'key', key }, keyword: e.keyword, message };
    }
    case 'type': {
      const wanted = [params.type].flat().map((t) => TYPE_WORDS[String(t)] ?? String(t));
      if (path.length === 0) return value('the manifest must be a map with "version: 1" and "servers:" at the top level');
      if (path.length === 2 && path[0] === 'servers') {
        return value(`server ${JSON.stringify(String(path[1]))} must be a map of settings, e.g. "command: node" on the next line, indented`);
      }
      if (e.data === null) return value(`${at}: has no value; write ${wanted.join(' or ')} after the colon`);
      const quote = params.type === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean');
      const isEnv = path.length === 4 && path[0] === 'servers' && path[2] === 'env';
      const hint = quote ? (isEnv ? `; environment values are strings: quote it, e.g. ${String(path[3])}: "8080"` : '; put it in quotes') : '';
      return value(`${at}: must be ${wanted.join(' or ')}${hint}`);
    }
    case 'const':
      return value(`${at}: must be ${JSON.stringify(params.allowedValue)}`);
    case 'oneOf':
      return value(`${at}: must be false (off) or a map of settings`); // liveness, the one oneOf
    case 'pattern':
      return value(`${at}: ${PATTERN_HINTS[String(params.pattern)] ?? 'is not in the expected form'}`);
    case 'enum':
      return value(`${at}: must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`);
    case 'format':
      return value(`${at}: ${formatMessage(String(params.format), e.data)}`);
    case 'minimum':
    case 'maximum':
      if (at === 'listen.port') return value(`${at}: must be a port number from 0 to 65535`);
      return value(`${at}: must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}`);
    case 'minItems':
      return value(`${at}: must list at least ${String(params.limit)}`);
    case 'minLength':
      return value(Number(params.limit) <= 1 ? `${at}: must not be empty` : `${at}: must be at least ${String(params.limit)} characters long`);
    default:
      return value(`${at}: ${e.message ?? 'is not valid'}`);
  }
}

function formatMessage(format: string, data: unknown): string {
  if (format === 'unit-duration') return DURATION_HINT;
  if (format === 'timezone') return 'unknown time zone; use an IANA name such as Europe/Berlin or UTC';
  if (format === 'cron') {
    // Name the failing field, never echo the expression (it may come from the environment).
    const field = typeof data === 'string' ? cronDetails(data).errors.map((x) => CRON_FIELDS[x.field]).find((x) => x !== undefined) : undefined;
    const detail = field === undefined ? '' : ` (the ${field} field is not valid)`;
    return `invalid cron expression${detail}; use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "0 4 * * *"`;
  }
  return `must be a valid ${format}`;
}

/** The allowed key nearest to a misspelt one, when it is near enough to be a likely typo. */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [a, d];
  }
  return bestDistance <= Math.min(2, Math.floor(key.length / 3) + 1) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
