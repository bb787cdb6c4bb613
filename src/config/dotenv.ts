// The text of an env file (`envFile:`) → its variables. Pure. Compose's env_file syntax, minus expansion:
//
//   KEY=value            unquoted: to the end of the line, spaces around it dropped; " #..." is a comment
//   export KEY=value     the same ("export " lets a shell `source` the file too)
//   KEY='value'          single quotes: nothing inside is special
//   KEY="value"          double quotes: \n \r \t \" \\ \$ are escapes, any other backslash is an error
//   # comment            and blank lines are skipped
//
// No ${VAR} or $VAR is expanded: a value is what is written (a `$` is a `$`). A quoted value ends on its own
// line (write \n for a line break). A key is letters, digits and "_", not starting with a digit; spaces
// around "=" are allowed. A key given twice: the later line wins, as in a shell.
//
// Values are secrets: an error names its line, its column and the key when the key is well formed, never any
// part of a value (nor the text of a line that may be a value pasted on its own).

export interface DotenvProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export type DotenvResult = { readonly ok: true; readonly vars: ReadonlyMap<string, string> } | { readonly ok: false; readonly errors: readonly DotenvProblem[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

class LineProblem {
  constructor(
    readonly col: number,
    readonly message: string,
  ) {}
}

export function parseDotenv(text: string): DotenvResult {
  const vars = new Map<string, string>();
  const errors: DotenvProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((line, i) => {
    const r = parseLine(line);
    if (r instanceof LineProblem) errors.push({ line: i + 1, col: r.col, message: r.message });
    else if (r !== undefined) vars.set(r[0], r[1]);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, vars };
}

/** One line: a [key, value] pair, undefined for a blank line or a comment, or the problem with it. */
function parseLine(line: string): readonly [string, string] | undefined | LineProblem {
  const body = line.trimStart();
  if (body === '' || body.startsWith('#')) return undefined;
  let at = line.length - body.length; // index of the first non-space character
  const exported = /^export[ \t]+/.exec(body);
  if (exported !== null) at += exported[0].length;
  const eq = line.indexOf('=', at);
  if (eq < 0) return new LineProblem(at + 1, 'no "=" on this line; write KEY=value, or start the line with # for a comment');
  const key = line.slice(at, eq).trimEnd();
  if (key === '') return new LineProblem(eq + 1, 'nothing before "="; write KEY=value');
  if (!NAME.test(key)) return new LineProblem(at + 1, 'the text before "=" is not a variable name; use letters, digits and _, not starting with a digit');
  let start = eq + 1;
  while (line[start] === ' ' || line[start] === '\t') start++;
  const quote = line[start];
  const value = quote === "'" || quote === '"' ? quoted(line, start, key) : unquoted(line.slice(start));
  if (value instanceof LineProblem) return value;
  if (value.includes('\0')) return new LineProblem(start + 1, `${key}: the value holds a NUL character, which no environment variable can`);
  return [key, value];
}

/** An unquoted value: a space or tab followed by # starts a comment; spaces at either end are dropped. */
function unquoted(rest: string): string {
  const comment = /[ \t]#/.exec(rest);
  return (comment === null ? rest : rest.slice(0, comment.index)).trim();
}

/** A value in quotes starting at `open`; after the closing quote only spaces and a # comment may follow. */
function quoted(line: string, open: number, key: string): string | LineProblem {
  const q = line[open]!;
  let out = '';
  let i = open + 1;
  for (;;) {
    if (i >= line.length) {
      return new LineProblem(open + 1, `${key}: the ${q === '"' ? 'double' : 'single'} quote opened here is not closed on this line; close it (write \\n inside double quotes for a line break)`);
    }
    const c = line[i]!;
    if (c === q) break;
    if (q === '"' && c === '\\') {
      const e = ESCAPES[line[i + 1] ?? ''];
      if (e === undefined) return new LineProblem(i + 1, `${key}: unknown escape in a double-quoted value; use \\n, \\r, \\t, \\", \\\\ or \\$, or single quotes for a literal backslash`);
      out += e;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  const after = /^[ \t]*/.exec(line.slice(i + 1))![0].length + i + 1; // the first non-space after the quote
  if (after < line.length && line[after] !== '#') return new LineProblem(after + 1, `${key}: text after the closing quote; put the whole value inside the quotes`);
  return out;
}
