// Parsing a manifest given as text, for the config tests: its errors as "line:col: message" (each at the
// manifest's own file), or the Desired it resolves to.
import { expect } from 'vitest';
import { parseManifest } from '../../src/config/load.ts';
import type { Desired } from '../../src/config/types.ts';

export const FILE = '/srv/gw/mcp-gateway.yaml';
export type Env = Record<string, string | undefined>;

/** Errors as "line:col: message", in reported order. */
export function errorsOf(src: string, env: Env = {}): string[] {
  const r = parseManifest(FILE, src, env);
  if (r.ok) throw new Error('expected errors, got a valid manifest');
  for (const e of r.errors) expect(e.file).toBe(FILE);
  return r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`);
}

export function desiredOf(src: string, env: Env = {}): Desired {
  const r = parseManifest(FILE, src, env);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.col}: ${e.message}`).join('\n'));
  return r.desired;
}

export const lines = (...l: string[]): string => l.join('\n') + '\n';
