// What of a manifest may be shown to a person. A value written with ${VAR} may be a secret, whatever
// field holds it: plans, status, errors and logs name its field and its variables, never the value.
// Pure.
import type { Env } from './interpolate.ts';
import type { Desired } from './types.ts';

/** The variables a path's value was made from, in either manifest; undefined when both wrote it out. */
export function variablesAt(path: string, ...desired: readonly Desired[]): readonly string[] | undefined {
  const names = new Set(desired.flatMap((d) => d.interpolated.get(path) ?? []));
  return desired.some((d) => d.interpolated.has(path)) ? [...names] : undefined;
}

/** `${A}, ${B}`: how variables are named to a person, as the manifest writes them. */
export function variableList(names: readonly string[]): string {
  return names.map((n) => `\${${n}}`).join(', ');
}

/** The value at `path` as text, or in its place the variables it was made from: `(from ${HOST})`. */
export function shownValue(desired: Desired, path: string, value: string | number): string {
  const names = variablesAt(path, desired);
  return names === undefined ? String(value) : `(from ${variableList(names)})`;
}

/**
 * Shorter values are left alone: one of 1-3 characters is no secret worth the cost, and replacing it
 * everywhere would garble the message ("1" in every exit code).
 */
const MIN_HIDDEN_LENGTH = 4;

/**
 * `text` with the value of each variable the manifest interpolated (from `env`, the process environment, or
 * from a top-level env file) and of every variable an env file set replaced by its name, `${VAR}`: for
 * messages made by others (an exception thrown while applying) that may quote a value they were given.
 */
export function withoutEnvValues(text: string, desired: Desired, env: Env): string {
  const names = new Set([...desired.interpolated.values()].flat());
  const fromFiles = [...desired.envFileValues].flatMap(([name, values]) => values.map((v) => [name, v] as const));
  const values = [...[...names].map((name) => [name, env[name]] as const), ...fromFiles]
    .filter((x): x is readonly [string, string] => x[1] !== undefined && x[1].length >= MIN_HIDDEN_LENGTH)
    .sort((a, b) => b[1].length - a[1].length); // the longest first: a value may contain another
  let out = text;
  for (const [name, value] of values) out = out.split(value).join(`\${${name}}`);
  return out;
}
