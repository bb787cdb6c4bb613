import { describe, expect, it } from 'vitest';
import { Needs, RouteTable, type Route } from '../../src/http/route-table.ts';

const r = (method: string, pattern: string, serve: string, when?: Route<string>['when']): Route<string> => ({ method, pattern, need: Needs.anyKey, serve, ...(when ? { when } : {}) });

describe('RouteTable.match', () => {
  const table = new RouteTable<string>([
    r('GET', '/', 'root'),
    r('GET', '/metrics', 'metrics'),
    r('GET', '/mcp/servers', 'servers'),
    r('GET', '/mcp/:server/sse', 'session-stream', (h) => h['mcp-session-id'] !== undefined),
    r('GET', '/mcp/:server/sse', 'classic-stream'),
    r('POST', '/mcp/:server/sse', 'post'),
    r('DELETE', '/mcp/:server/sse', 'delete'),
  ]);
  const serve = (method: string, segments: string[], headers = {}) => {
    const m = table.match(method, segments, headers);
    return m.kind === 'route' ? [m.route.serve, m.params] : m.kind;
  };

  it('prefers a literal segment only where the literal route exists, and binds parameters', () => {
    expect(serve('GET', [])).toEqual(['root', {}]);
    expect(serve('GET', ['mcp', 'servers'])).toEqual(['servers', {}]);
    expect(serve('POST', ['mcp', 'x', 'sse'])).toEqual(['post', { server: 'x' }]);
    // "servers" as a server name still reaches the parameter route with 3 segments.
    expect(serve('POST', ['mcp', 'servers', 'sse'])).toEqual(['post', { server: 'servers' }]);
  });

  it('picks among routes of one method and pattern by their guard, in order', () => {
    expect(serve('GET', ['mcp', 'x', 'sse'], { 'mcp-session-id': 's' })).toEqual(['session-stream', { server: 'x' }]);
    expect(serve('GET', ['mcp', 'x', 'sse'])).toEqual(['classic-stream', { server: 'x' }]);
  });

  it('tells a wrong method (with what is allowed) from no route, and never binds an empty parameter', () => {
    expect(table.match('PUT', ['mcp', 'x', 'sse'], {})).toEqual({ kind: 'wrong-method', allow: ['GET', 'POST', 'DELETE'], jsonRpc: false });
    expect(serve('GET', ['mcp', '', 'sse'])).toBe('none');
    expect(serve('GET', ['Metrics'])).toBe('none');
    expect(serve('GET', ['metrics', ''])).toBe('none');
    expect(serve('GET', ['mcp', 'x', 'sse', 'more'])).toBe('none');
  });

  it('tries literal segments before parameters, and finds a method past a literal route without it', () => {
    const t = new RouteTable<string>([r('POST', '/mcp/:server/x', 'param-post'), r('GET', '/mcp/servers/x', 'literal-get'), r('GET', '/mcp/:server/x', 'param-get')]);
    const m = (method: string) => {
      const found = t.match(method, ['mcp', 'servers', 'x'], {});
      return found.kind === 'route' ? found.route.serve : found;
    };
    expect(m('GET')).toBe('literal-get');
    expect(m('POST')).toBe('param-post');
    expect(m('PUT')).toEqual({ kind: 'wrong-method', allow: ['GET', 'POST'], jsonRpc: false });
  });

  it('refuses patterns it could never match', () => {
    expect(() => new RouteTable([r('GET', 'metrics', 'x')])).toThrow();
    expect(() => new RouteTable([r('GET', '/metrics/', 'x')])).toThrow();
  });
});
