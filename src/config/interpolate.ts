// ${VAR} substitution in manifest strings, as in a POSIX shell or docker compose, minus everything else a
// shell does. Pure: the environment is a parameter. Errors name variables, never their values (secrets).
//
//   ${VAR}            the value of VAR; an error when VAR is unset (empty is a value)
//   ${VAR:-default}   VAR's value, or `default` when VAR is unset OR empty; default may itself hold ${...}
//   $$                a literal $
//   $ anything else   left as written ("$HOME" stays "$HOME": only the braced form is substituted)

export type Env = Readonly<Record<string, string | undefined>>;
/**
 * `names`: the variables the value was made from, in order, once each (a default's variables only when the
 * default was used). Empty when the text held no ${...}: `$$` alone makes no value "from the environment".
 */
export type InterpolateResult = { value: string; names: string[] } | { missing: string[] } | { error: string };

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

class Failure extends Error {}

interface Scan {
  value: string;
  /** Index just past what was consumed. */
  end: number;
}

export function interpolate(text: string, env: Env): InterpolateResult {
  const missing = new Set<string>();
  const read = new Set<string>();
  try {
    // At the top level a "}" is ordinary text (JSON in args, say); only inside a default does it close.
    const { value } = scan(text, 0, false, env, missing, read, true);
    return missing.size > 0 ? { missing: [...missing] } : { value, names: [...read] };
  } catch (e) {
    if (e instanceof Failure) return { error: e.message };
    throw e;
  }
}

/**
 * Reads from `start` to the end of the text, or, inside a default (`nested`), up to its closing "}".
 * `live` is false inside a default that is not used: its variables may be unset without an error.
 */
function scan(text: string, start: number, nested: boolean, env: Env, missing: Set<string>, read: Set<string>, live: boolean): Scan {
  let out = '';
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (nested && c === '}') return { value: out, end: i };
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      i++;
      continue;
    }
    NAME.lastIndex = i + 2;
    const m = NAME.exec(text);
    if (m === null) {
      if (text.indexOf('}', i + 2) < 0) throw new Failure('unterminated "${"; close it with "}"');
      throw new Failure('"${" must be followed by a variable name (letters, digits and "_", not starting with a digit); write $$ for a literal $');
    }
    const name = m[0];
    let j = NAME.lastIndex;
    const set = env[name];
    // Read even when unset or empty: whether it is set is itself something the environment said.
    if (live) read.add(name);
    if (text[j] === '}') {
      if (set === undefined) {
        if (live) missing.add(name);
      } else out += set;
      i = j + 1;
      continue;
    }
    if (text.startsWith(':-', j)) {
      const useDefault = set === undefined || set === '';
      const inner = scan(text, j + 2, true, env, missing, read, live && useDefault);
      if (inner.end >= text.length) throw new Failure(`unterminated "\${${name}:-"; close it with "}"`);
      out += useDefault ? inner.value : set;
      i = inner.end + 1;
      continue;
    }
    if (j >= text.length) throw new Failure(`unterminated "\${${name}"; close it with "}"`);
    throw new Failure(`unsupported form after "\${${name}"; write \${${name}} or \${${name}:-default}`);
  }
  return { value: out, end: text.length };
}
