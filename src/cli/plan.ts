// `mcp-gateway plan FILE [--against URL|FILE] [--json]`: what applying FILE would do, before anyone does it.
// Against an older manifest file it is pure (the same parse and plan() the gateway runs on a reload); against
// a running gateway it asks POST /admin/plan, so the plan is made from what really runs there.
// Exit codes follow `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { asGiven, loadManifest, loadManifestText } from '../config/load.ts';
import { formatConfigError, type ConfigError } from '../config/types.ts';
import { manifestNotes } from '../plan/notes.ts';
import { isEmptyPlan, manifestKey, plan, type Plan } from '../plan/plan.ts';
import { answerProblem, baseUrl, call, parseOptions, printable, readKey, type Env, type Io } from './args.ts';

export const PLAN_EXIT = { none: 0, error: 1, changes: 2 } as const;

/** A manifest problem carries file, line and col; a problem like "gateway unreachable" only a message. */
type Problem = Partial<ConfigError> & { readonly message: string };

/** A plan for the servers, plus notes on manifest changes outside `servers` that plan() does not cover. */
type Outcome = { readonly ok: true; readonly plan: Plan; readonly notes: readonly string[] } | { readonly ok: false; readonly errors: readonly Problem[] };

export async function planMain(args: readonly string[], io: Io): Promise<number> {
  const options = { against: { type: 'string' }, json: { type: 'boolean' }, 'key-file': { type: 'string' } } as const;
  const parsed = parseOptions(args, (a) => parseArgs({ args: a, options, allowPositionals: true, strict: true }));
  const positionals = parsed.ok ? parsed.value.positionals : [];
  if (!parsed.ok || positionals.length !== 1) {
    // 1, not 2: for plan, 2 means "changes", and a CI script must never read a typo as that.
    io.err(`mcp-gateway plan: ${parsed.ok ? 'give exactly one manifest FILE' : parsed.message}; see mcp-gateway plan --help`);
    return PLAN_EXIT.error;
  }
  const file = positionals[0]!;
  const { against, json } = parsed.value.values;
  const outcome =
    against !== undefined && !/^https?:\/\//i.test(against)
      ? await againstFile(file, against, io.env)
      : await againstGateway(file, against, parsed.value.values['key-file'], io.env);
  return report(outcome, json === true, io);
}

async function againstFile(file: string, older: string, env: Env): Promise<Outcome> {
  const next = await loadManifest(file, env);
  // The older text is parsed as if it sat at FILE's path: the question is "FILE's text replaces it in place",
  // and a relative cwd must resolve the same in both, or every server would show `cwd` changed.
  let text: string;
  try {
    text = await readFile(older, 'utf8');
  } catch {
    const r = await loadManifest(older, env); // for the same read error message validate gives
    return { ok: false, errors: [...(next.ok ? [] : next.errors), ...(r.ok ? [{ message: `cannot read ${older}` }] : r.errors)] };
  }
  // Env files are read as they are now, for both sides: the plan shows what the manifest's change does.
  const prev = asGiven(await loadManifestText(path.resolve(file), text, env), path.resolve(file), file);
  const prevErrors = prev.ok ? [] : prev.errors.map((e) => (e.file === file ? { ...e, file: older } : e));
  // An env file both name is broken for both: its errors once.
  const errors = [...new Map([...prevErrors, ...(next.ok ? [] : next.errors)].map((e) => [formatConfigError(e), e])).values()];
  if (!prev.ok || !next.ok) return { ok: false, errors };
  return { ok: true, plan: plan(next.desired.servers, prev.desired.servers), notes: manifestNotes(prev.desired, next.desired) };
}

async function againstGateway(file: string, given: string | undefined, keyFile: string | undefined, env: Env): Promise<Outcome> {
  const fail = (message: string): Outcome => ({ ok: false, errors: [{ message }] });
  const base = baseUrl(given, env);
  if (!base.ok) return fail(base.message);
  const key = await readKey(keyFile, env);
  if (!key.ok) return fail(key.message);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    const r = await loadManifest(file, env);
    return { ok: false, errors: r.ok ? [{ message: `cannot read ${file}` }] : r.errors };
  }
  const url = `${base.value}/admin/plan`;
  const r = await call({ method: 'POST', url, key: key.value, body: text, contentType: 'application/yaml' });
  if (!r.ok) return fail(r.message);
  const a = r.value;
  if (a.status === 200 && isPlanAnswer(a.json)) return { ok: true, plan: a.json.plan, notes: a.json.notes ?? [] };
  // Line and col of the manifest's errors are positions in the text we sent, i.e. in FILE.
  if (a.status === 422 && isErrorsAnswer(a.json)) {
    const manifestName = a.json.file;
    return { ok: false, errors: a.json.errors.map((e) => fromGateway(e, file, manifestName)) };
  }
  const keyFrom = key.value === undefined ? 'no key was given' : `the key from ${key.value.source}`;
  if (a.status === 401) return fail(`${url} refused the request (${answerProblem(a)}; ${keyFrom}); give an admin key with --key-file FILE or MCP_GATEWAY_KEY`);
  if (a.status === 403) return fail(`${url} refused the request (${answerProblem(a)}; ${keyFrom}); planning needs a key with admin: true`);
  if (a.status === 404) return fail(`${url} is not there (HTTP 404); a gateway older than plan support, or a wrong URL?`);
  return fail(`unexpected answer from ${url}: ${answerProblem(a)}`);
}

/**
 * "file:line:col: message" as the gateway formats it (a path may hold colons: the last two numbers win). An
 * error in the manifest (named `manifestName` by the gateway; every error, from a gateway that does not say)
 * is named FILE; an error in one of the gateway's env files keeps the name the gateway gave that file.
 */
function fromGateway(line: string, file: string, manifestName: string | undefined): Problem {
  const m = /^(.*):(\d+):(\d+): ([\s\S]*)$/.exec(line);
  if (!m) return { message: line };
  const inManifest = manifestName === undefined || m[1] === manifestName;
  return { file: inManifest ? file : m[1]!, line: Number(m[2]), col: Number(m[3]), message: m[4]! };
}

function report(outcome: Outcome, json: boolean, io: Io): number {
  if (!outcome.ok) {
    if (json) io.out(JSON.stringify({ ok: false, errors: outcome.errors }));
    else for (const e of outcome.errors) io.err(isConfigError(e) ? formatConfigError(e) : `mcp-gateway plan: ${e.message}`);
    return PLAN_EXIT.error;
  }
  const { plan: p, notes } = outcome;
  const changes = !isEmptyPlan(p) || notes.length > 0;
  if (json) io.out(JSON.stringify({ ok: true, changes, plan: p, notes }));
  else {
    for (const l of planLines(p)) io.out(l);
    for (const n of notes) io.out(`! ${printable(n, 300)}`);
    io.out(summaryLine(p, notes.length));
  }
  return changes ? PLAN_EXIT.changes : PLAN_EXIT.none;
}

function isConfigError(e: Problem): e is ConfigError {
  return e.file !== undefined && e.line !== undefined && e.col !== undefined;
}

export function planLines(p: Plan): string[] {
  const line = (sign: string, verb: string, name: string, changed?: readonly string[]): string =>
    `${sign} ${verb.padEnd(7)} ${printable(name, 100)}${changed === undefined ? '' : ` (${changed.map(label).join(', ')})`}`;
  return [
    ...p.start.map((n) => line('+', 'start', n)),
    ...p.restart.map((c) => line('~', 'restart', c.name, c.changed)),
    ...p.update.map((c) => line('~', 'update', c.name, c.changed)),
    ...p.stop.map((n) => line('-', 'stop', n)),
    ...p.keep.map((n) => line('=', 'keep', n)),
  ];
}

/** The manifest's key for a resolved field: requestTimeoutMs is written requestTimeout. env.KEY stays. */
function label(field: string): string {
  return printable(manifestKey(field), 100);
}

function summaryLine(p: Plan, notes: number): string {
  const other = notes === 0 ? '' : `, ${notes} other change${notes === 1 ? '' : 's'}`;
  if (isEmptyPlan(p) && notes === 0) return `No changes: ${p.keep.length} server${p.keep.length === 1 ? '' : 's'} kept.`;
  return `Plan: ${p.start.length} to start, ${p.restart.length} to restart, ${p.update.length} to update, ${p.stop.length} to stop, ${p.keep.length} kept${other}.`;
}

interface PlanAnswer {
  readonly ok: true;
  readonly plan: Plan;
  readonly notes?: readonly string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isChanges = (v: unknown): boolean => Array.isArray(v) && v.every((c) => isObject(c) && typeof c.name === 'string' && isStrings(c.changed));

function isPlanAnswer(v: unknown): v is PlanAnswer {
  if (!isObject(v) || v.ok !== true || !isObject(v.plan)) return false;
  const p = v.plan;
  return isStrings(p.start) && isStrings(p.stop) && isStrings(p.keep) && isChanges(p.restart) && isChanges(p.update) && (v.notes === undefined || isStrings(v.notes));
}

function isErrorsAnswer(v: unknown): v is { ok: false; file?: string; errors: string[] } {
  return isObject(v) && v.ok === false && isStrings(v.errors) && (v.file === undefined || typeof v.file === 'string');
}
