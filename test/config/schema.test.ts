import { describe, it, expect } from 'vitest';
import { closest, displayPath, manifestSchema } from '../../src/config/schema.ts';
import { parseManifest } from '../../src/config/load.ts';

/** Every object schema in the file, with its JSON path. */
function objectSchemas(node: unknown, at = '#'): Array<[string, Record<string, unknown>]> {
  if (typeof node !== 'object' || node === null) return [];
  const found: Array<[string, Record<string, unknown>]> = [];
  const rec = node as Record<string, unknown>;
  if (rec.type === 'object') found.push([at, rec]);
  for (const [k, v] of Object.entries(rec)) found.push(...objectSchemas(v, `${at}/${k}`));
  return found;
}

describe('manifest schema', () => {
  it('closes every object: additionalProperties is false, or a schema for name → value maps', () => {
    const objects = objectSchemas(manifestSchema);
    expect(objects.length).toBeGreaterThan(5);
    for (const [at, s] of objects) {
      const ap = s.additionalProperties;
      if (ap === false) continue;
      expect(typeof ap === 'object' && s.propertyNames !== undefined, `${at} must be closed`).toBe(true);
    }
  });

  it('describes every property for editors', () => {
    for (const [at, s] of objectSchemas(manifestSchema)) {
      for (const [name, p] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        const described = typeof p.description === 'string' || typeof p.$ref === 'string';
        expect(described, `${at}/properties/${name}`).toBe(true);
      }
    }
  });

  it('accepts the documented example manifest', () => {
    const example = `version: 1
listen: { host: 127.0.0.1, port: 3001 }
defaults:
  restart: { policy: on-failure, backoff: { initial: 500ms, max: 30s, resetAfter: 10s }, limit: { count: 5, window: 60s } }
  startTimeout: 30s
  stopTimeout: 5s
  requestTimeout: 60s
  stderrLines: 200
servers:
  demo:
    command: node
    args: [examples/servers/demo.js]
    env: { GREETING: "\${GREETING:-hello}" }
    cwd: .
    restart: { policy: always }
    startTimeout: 10s
    stopTimeout: 5s
    requestTimeout: 60s
    stderrLines: 200
    schedule: { restart: "0 4 * * *", timezone: Europe/Berlin }
    enabled: true
`;
    const r = parseManifest('/repo/mcp-gateway.yaml', example, {});
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (r.ok) expect(r.desired.servers.get('demo')?.env).toEqual({ GREETING: 'hello' });
  });
});

describe('message helpers', () => {
  it('suggests a close key only when it is a likely typo', () => {
    const keys = ['command', 'args', 'env', 'cwd', 'stopTimeout', 'startTimeout'];
    expect(closest('comand', keys)).toBe('command');
    expect(closest('stoptimeout', keys)).toBe('stopTimeout');
    expect(closest('arg', keys)).toBe('args');
    expect(closest('banana', keys)).toBeUndefined();
  });

  it('writes paths the way an operator reads them', () => {
    expect(displayPath(['servers', 'demo', 'args', 0])).toBe('servers.demo.args[0]');
    expect(displayPath(['servers', 'my server', 'command'])).toBe('servers["my server"].command');
  });
});
