import { describe, it, expect } from 'vitest';
import { interpolate } from '../../src/config/interpolate.ts';

const env = { HOME: '/home/op', EMPTY: '', TOKEN: 'S3CRET-MARKER-123' };

describe('interpolate', () => {
  it('substitutes ${VAR}, keeping empty values', () => {
    expect(interpolate('${HOME}/bin', env)).toEqual({ value: '/home/op/bin' });
    expect(interpolate('[${EMPTY}]', env)).toEqual({ value: '[]' });
  });

  it('uses the default of ${VAR:-default} when unset or empty, like the shell', () => {
    expect(interpolate('${NOPE:-hello}', env)).toEqual({ value: 'hello' });
    expect(interpolate('${EMPTY:-hello}', env)).toEqual({ value: 'hello' });
    expect(interpolate('${HOME:-hello}', env)).toEqual({ value: '/home/op' });
    expect(interpolate('${NOPE:-}', env)).toEqual({ value: '' });
    expect(interpolate('${NOPE:-a:-b $x}', env)).toEqual({ value: 'a:-b $x' });
  });

  it('allows ${...} inside a default, and ignores unset variables in an unused one', () => {
    expect(interpolate('${NOPE:-${HOME}/x}', env)).toEqual({ value: '/home/op/x' });
    expect(interpolate('${HOME:-${ALSO_NOPE}}', env)).toEqual({ value: '/home/op' });
    expect(interpolate('${NOPE:-${ALSO_NOPE}}', env)).toEqual({ missing: ['ALSO_NOPE'] });
  });

  it('turns $$ into $ and leaves other $ alone', () => {
    expect(interpolate('cost: $$5, $${HOME}', env)).toEqual({ value: 'cost: $5, ${HOME}' });
    expect(interpolate('echo $HOME $ {x} {"a":1}', env)).toEqual({ value: 'echo $HOME $ {x} {"a":1}' });
    expect(interpolate('$', env)).toEqual({ value: '$' });
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
