import { describe, it, expect } from 'vitest';
import { interpolate } from '../../src/config/interpolate.ts';

const env = { HOME: '/home/op', EMPTY: '', TOKEN: 'S3CRET-MARKER-123' };

describe('interpolate', () => {
  it('substitutes ${VAR}, keeping empty values', () => {
    expect(interpolate('${HOME}/bin', env)).toEqual({ value: '/home/op/bin', names: ['HOME'] });
    expect(interpolate('[${EMPTY}]', env)).toEqual({ value: '[]', names: ['EMPTY'] });
  });

  it('uses the default of ${VAR:-default} when unset or empty, like the shell', () => {
    expect(interpolate('${NOPE:-hello}', env)).toEqual({ value: 'hello', names: ['NOPE'] });
    expect(interpolate('${EMPTY:-hello}', env)).toEqual({ value: 'hello', names: ['EMPTY'] });
    expect(interpolate('${HOME:-hello}', env)).toEqual({ value: '/home/op', names: ['HOME'] });
    expect(interpolate('${NOPE:-}', env)).toEqual({ value: '', names: ['NOPE'] });
    expect(interpolate('${NOPE:-a:-b $x}', env)).toEqual({ value: 'a:-b $x', names: ['NOPE'] });
  });

  it('allows ${...} inside a default, and ignores unset variables in an unused one', () => {
    expect(interpolate('${NOPE:-${HOME}/x}', env)).toEqual({ value: '/home/op/x', names: ['NOPE', 'HOME'] });
    expect(interpolate('${HOME:-${ALSO_NOPE}}', env)).toEqual({ value: '/home/op', names: ['HOME'] });
    expect(interpolate('${NOPE:-${ALSO_NOPE}}', env)).toEqual({ missing: ['ALSO_NOPE'] });
  });

  it('turns $$ into $ and leaves other $ alone', () => {
    expect(interpolate('cost: $$5, $${HOME}', env)).toEqual({ value: 'cost: $5, ${HOME}', names: [] });
    expect(interpolate('echo $HOME $ {x} {"a":1}', env)).toEqual({ value: 'echo $HOME $ {x} {"a":1}', names: [] });
    expect(interpolate('$', env)).toEqual({ value: '$', names: [] });
  });

  it('names the variables a value was made from, once each, and never their values', () => {
    expect(interpolate('${TOKEN}-${HOME}-${TOKEN}', env)).toEqual({ value: 'S3CRET-MARKER-123-/home/op-S3CRET-MARKER-123', names: ['TOKEN', 'HOME'] });
    expect(interpolate('plain text', env)).toEqual({ value: 'plain text', names: [] });
  });

  it('lists every unset variable once', () => {
    expect(interpolate('${A}${B}${A}', env)).toEqual({ missing: ['A', 'B'] });
  });

  it('reports malformed references without echoing values', () => {
    for (const bad of ['${', '${HOME', '${HOME:-x', '${}', '${1X}', '${HOME-x}', '${HOME:x}', '${ HOME }']) {
      const r = interpolate(bad, env);
      expect('error' in r, bad).toBe(true);
      expect(JSON.stringify(r)).not.toContain('/home/op');
    }
    expect(interpolate('${TOKEN', env)).toEqual({ error: 'unterminated "${TOKEN"; close it with "}"' });
  });
});
