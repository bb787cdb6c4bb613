import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/config/load.ts';
import type { Desired } from '../../src/config/types.ts';
import { manifestNotes } from '../../src/plan/notes.ts';

const FILE = '/srv/gw/mcp-gateway.yaml';
const MARKER = 'SECRET_MARKER_7f3a';
const env = { BIND_HOST: MARKER, LOCAL_HOST: '127.0.0.1' };

function desired(head: string): Desired {
  const r = parseManifest(FILE, `version: 1\n${head}auth: { none: true }\nservers: {}\n`, env);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.desired;
}

describe('manifestNotes', () => {
  it('shows the old and new listen address when both manifests write it out', () => {
    expect(manifestNotes(desired('listen: { host: 127.0.0.1 }\n'), desired('listen: { host: 0.0.0.0, port: 3002 }\n'))).toEqual([
      'listen.host: 127.0.0.1 → 0.0.0.0 (applies at the next restart of the gateway)',
      'listen.port: 3001 → 3002 (applies at the next restart of the gateway)',
    ]);
  });

  it('says that a value made with ${VAR} changed, naming the variable, never the value (new side)', () => {
    const notes = manifestNotes(desired('listen: { host: 127.0.0.1 }\n'), desired('listen: { host: "${BIND_HOST}" }\n'));
    expect(notes).toEqual(['listen.host changed (a value from ${BIND_HOST}, not shown) (applies at the next restart of the gateway)']);
    expect(notes.join('\n')).not.toContain(MARKER);
  });

  it('hides both values when only the old manifest used ${VAR}', () => {
    const notes = manifestNotes(desired('listen: { host: "${LOCAL_HOST}" }\n'), desired('listen: { host: 0.0.0.0 }\n'));
    expect(notes).toEqual(['listen.host changed (a value from ${LOCAL_HOST}, not shown) (applies at the next restart of the gateway)']);
    expect(notes.join('\n')).not.toContain('127.0.0.1');
  });

  it('has no note when a value is the same, written out or made with ${VAR}', () => {
    expect(manifestNotes(desired('listen: { host: "${LOCAL_HOST}" }\n'), desired('listen: { host: 127.0.0.1 }\n'))).toEqual([]);
  });
});
