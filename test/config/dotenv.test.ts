import { describe, expect, it } from 'vitest';
import { parseDotenv, type DotenvResult } from '../../src/config/dotenv.ts';

const MARKER = 'S3CRET-DOTENV-4711';

function vars(text: string): Record<string, string> {
  const r = parseDotenv(text);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`).join('\n'));
  return Object.fromEntries(r.vars);
}

function problems(r: DotenvResult): string[] {
  return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`);
}

describe('parseDotenv', () => {
  it('reads KEY=value lines, skipping comments and blank lines', () => {
    expect(vars('# a comment\n\nA=1\n   \n  # indented comment\nB=two words\n')).toEqual({ A: '1', B: 'two words' });
  });

  it('takes "export KEY=value" like KEY=value', () => {
    expect(vars('export A=1\nexport\tB=2\n')).toEqual({ A: '1', B: '2' });
  });

  it('drops spaces around the key, "=" and an unquoted value, and a " #" comment after it', () => {
    expect(vars('  A = spaced  \nB=x # comment\nC=x\t# tab comment\nD=a#b\nE=#f\n')).toEqual({ A: 'spaced', B: 'x', C: 'x', D: 'a#b', E: '#f' });
  });

  it('gives an empty value for KEY= and KEY=""', () => {
    expect(vars('A=\nB=""\nC=\'\'\n')).toEqual({ A: '', B: '', C: '' });
  });

  it("keeps everything inside single quotes as written", () => {
    expect(vars(`A='  spaced # not a comment \\n $HOME \${X} "q" '\n`)).toEqual({ A: '  spaced # not a comment \\n $HOME ${X} "q" ' });
  });

  it('reads the escapes of double quotes, and a comment after the closing quote', () => {
    expect(vars('A="line1\\nline2\\r\\ttab \\"q\\" back\\\\slash \\$dollar" # comment\n')).toEqual({ A: 'line1\nline2\r\ttab "q" back\\slash $dollar' });
    expect(vars('B="it\'s # not a comment"\n')).toEqual({ B: "it's # not a comment" });
  });

  it('expands nothing: $VAR and ${VAR} are text', () => {
    expect(vars('A=1\nB=$A ${A} $${A}\nC="${A}"\n')).toEqual({ A: '1', B: '$A ${A} $${A}', C: '${A}' });
  });

  it('lets the later of two lines with one key win', () => {
    expect(vars('A=first\nA=second\n')).toEqual({ A: 'second' });
  });

  it('accepts CRLF and CR line ends and a byte-order mark', () => {
    expect(vars('\uFEFFA=1\r\nB="x"\r\nC=3\rD=4')).toEqual({ A: '1', B: 'x', C: '3', D: '4' });
  });

  it('keeps an "=" inside a value', () => {
    expect(vars('URL=https://x.example/?a=b&c=d\n')).toEqual({ URL: 'https://x.example/?a=b&c=d' });
  });

  it('reports every malformed line at its line and column, naming the problem', () => {
    const text = ['OK=1', 'just-a-line', '=value', '1BAD=x', 'BAD KEY=x', 'Q="open', "S='open", 'E="a\\qb"', 'T="x" y', 'export', 'N=a\0b'].join('\n');
    expect(problems(parseDotenv(text))).toEqual([
      '2:1: no "=" on this line; write KEY=value, or start the line with # for a comment',
      '3:1: nothing before "="; write KEY=value',
      '4:1: the text before "=" is not a variable name; use letters, digits and _, not starting with a digit',
      '5:1: the text before "=" is not a variable name; use letters, digits and _, not starting with a digit',
      '6:3: Q: the double quote opened here is not closed on this line; close it (write \\n inside double quotes for a line break)',
      '7:3: S: the single quote opened here is not closed on this line; close it (write \\n inside double quotes for a line break)',
      '8:5: E: unknown escape in a double-quoted value; use \\n, \\r, \\t, \\", \\\\ or \\$, or single quotes for a literal backslash',
      '9:7: T: text after the closing quote; put the whole value inside the quotes',
      '10:1: no "=" on this line; write KEY=value, or start the line with # for a comment',
      '11:3: N: the value holds a NUL character, which no environment variable can',
    ]);
  });

  it('never quotes any part of a value or of a malformed line in an error', () => {
    const lines = [
      MARKER, // a secret pasted on its own line
      `${MARKER}=x`,
      `A="${MARKER}`,
      `B='${MARKER}`,
      `C="${MARKER}\\q"`,
      `D="${MARKER}" ${MARKER}`,
      `E=${MARKER}\0`,
      `export ${MARKER}`,
      `F ${MARKER}=1`,
    ];
    const r = parseDotenv(lines.join('\n'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const e of r.errors) expect(e.message).not.toContain('S3CRET');
  });
});
