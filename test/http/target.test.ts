import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/http/target.ts';

const ok = (raw: string) => {
  const t = parseTarget(raw);
  if ('error' in t) throw new Error(`${raw}: ${t.error}`);
  return t;
};
const bad = (raw: string) => {
  const t = parseTarget(raw);
  return 'error' in t ? t.error : undefined;
};

describe('parseTarget', () => {
  it('splits an origin-form target into decoded segments and a query', () => {
    expect(ok('/')).toEqual({ path: '/', segments: [], query: '', authority: undefined });
    expect(ok('/mcp/demo/mcp?x=1')).toEqual({ path: '/mcp/demo/mcp', segments: ['mcp', 'demo', 'mcp'], query: 'x=1', authority: undefined });
    expect(ok('/%6Detrics').segments).toEqual(['metrics']);
    expect(ok('/mcp/a%2Fb/stop').segments).toEqual(['mcp', 'a/b', 'stop']);
  });

  it('keeps empty segments (they match no route) and never resolves anything', () => {
    expect(ok('/metrics/').segments).toEqual(['metrics', '']);
    expect(ok('/mcp//stop').segments).toEqual(['mcp', '', 'stop']);
  });

  it('reduces an absolute-form target to its path, with its authority apart', () => {
    expect(ok('http://127.0.0.1:3001/mcp/b/stop')).toEqual({ path: '/mcp/b/stop', segments: ['mcp', 'b', 'stop'], query: '', authority: '127.0.0.1:3001' });
    expect(ok('HTTPS://example.com')).toMatchObject({ path: '/', segments: [], authority: 'example.com' });
    expect(ok('http://h?x')).toMatchObject({ path: '/', query: 'x', authority: 'h' });
  });

  it('refuses fragments, dot segments, other forms, bad encodings and invisible bytes', () => {
    for (const raw of [
      '/metrics#x',
      '/#',
      'http://h/metrics#',
      '/mcp/a/../b/stop',
      '/mcp/./servers',
      '/mcp/a/%2e%2E/b',
      '/%2e',
      '*',
      'example.com:443',
      'metrics',
      '',
      '//evil.example/metrics',
      'http:///metrics',
      'http://user@h/metrics',
      'ftp://h/metrics',
      '/%zz',
      '/%',
      '/a\u0000b',
      '/a b',
      '/caf\u00e9',
    ]) {
      expect(bad(raw), raw).toBeDefined();
    }
  });
});
