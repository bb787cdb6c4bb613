// What of a manifest may be shown to a person. A value written with ${VAR} may be a secret, whatever
// field holds it: plans, status, errors and logs name its field and its variables, never the value.
// Pure.
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
