// What a plan says besides the servers: changes elsewhere in the manifest (listen, auth), named, and
// with values only where they cannot be secret. Pure; used by `mcp-gateway plan` and POST /admin/plan.
import { variableList, variablesAt } from '../config/shown.ts';
import type { Desired } from '../config/types.ts';
import { stableJson } from './plan.ts';

/**
 * Fields of Desired that are not settings: where it came from, what of it was interpolated, and the env
 * files' values (whatever of them changes a setting shows as that setting's change).
 */
const NOT_SETTINGS = new Set(['file', 'hash', 'inputHash', 'servers', 'interpolated', 'envFileValues']);

/**
 * Changes outside `servers`: named, with values only for listen's host and port (any other could be a
 * secret), and not even those when either manifest made them with ${VAR}: then the note names the variables.
 */
export function manifestNotes(prev: Desired, next: Desired): string[] {
  const notes: string[] = [];
  const a = prev as unknown as Record<string, unknown>;
  const b = next as unknown as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (NOT_SETTINGS.has(k) || comparable(a[k]) === comparable(b[k])) continue;
    if (k === 'auth') {
      notes.push(...authNotes(prev.auth, next.auth));
      continue;
    }
    if (k !== 'listen') {
      notes.push(`${k} changed`);
      continue;
    }
    for (const f of [...new Set([...Object.keys(prev.listen), ...Object.keys(next.listen)])].sort() as (keyof Desired['listen'])[]) {
      if (comparable(prev.listen[f]) === comparable(next.listen[f])) continue;
      if (f !== 'host' && f !== 'port') {
        notes.push(`listen.${f} changed`);
        continue;
      }
      const names = variablesAt(`listen.${f}`, prev, next);
      const change = names === undefined ? `: ${prev.listen[f]} → ${next.listen[f]}` : ` changed (a value from ${variableList(names)}, not shown)`;
      notes.push(`listen.${f}${change} (applies at the next restart of the gateway)`);
    }
  }
  return notes;
}

/** Who gains or loses access: keys by name, and which of their fields changed (a new hash reads "key"). */
function authNotes(prev: Desired['auth'], next: Desired['auth']): string[] {
  const notes: string[] = [];
  const before = new Map(prev.keys.map((k) => [k.name, k]));
  const after = new Map(next.keys.map((k) => [k.name, k]));
  for (const [name, k] of after) {
    const old = before.get(name);
    if (old === undefined) {
      notes.push(`auth: key ${name} added`);
      continue;
    }
    const fields = (Object.keys(k) as (keyof typeof k)[]).filter((f) => comparable(k[f]) !== comparable(old[f]));
    if (fields.length > 0) notes.push(`auth: key ${name} changed (${fields.map((f) => (f === 'sha256' ? 'key' : f)).join(', ')})`);
  }
  for (const name of before.keys()) if (!after.has(name)) notes.push(`auth: key ${name} removed`);
  const rest = (a: Desired['auth']): string => comparable({ ...a, keys: undefined, secretEnvNames: undefined });
  if (rest(prev) !== rest(next)) notes.push('auth changed (besides keys)');
  return notes;
}

/** stableJson that also sees into Maps and Sets (which JSON would print as {}). */
function comparable(v: unknown): string {
  const plain = (x: unknown): unknown => {
    if (x instanceof Map) return Object.fromEntries([...x].map(([k, y]) => [String(k), plain(y)]));
    if (x instanceof Set) return [...x].map(plain).sort();
    if (Array.isArray(x)) return x.map(plain);
    if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, plain(y)]));
    return x;
  };
  return stableJson(plain(v));
}
