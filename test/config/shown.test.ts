import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/config/load.ts';
import { shownValue, withoutEnvValues } from '../../src/config/shown.ts';
import type { Desired } from '../../src/config/types.ts';

function desired(text: string, env: Record<string, string>): Desired {
  const r = parseManifest('/srv/gw/mcp-gateway.yaml', text, env);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.desired;
}

describe('shownValue', () => {
  it('shows a written value, and names the variables in place of one made with ${VAR}', () => {
    const env = { HOST: 'SECRET_MARKER_7f3a' };
    expect(shownValue(desired('version: 1\nservers: {}\n', env), 'listen.host', '127.0.0.1')).toBe('127.0.0.1');
    const d = desired('version: 1\nlisten: { host: "${HOST}" }\nauth: { none: true }\nservers: {}\n', env);
    expect(shownValue(d, 'listen.host', d.listen.host)).toBe('(from ${HOST})');
  });
});

describe('withoutEnvValues', () => {
  const env = { TOKEN: 'tok-SECRET-1234', TOKEN_PART: 'SECRET', SHORT: 'ab', UNUSED: 'unused-value' };
  const d = desired('version: 1\nservers:\n  a: { command: node, args: ["${TOKEN}", "${TOKEN_PART}", "${SHORT}"] }\n', env);

  it('names the variable in place of its value, the longest value first', () => {
    expect(withoutEnvValues('failed with tok-SECRET-1234 and SECRET', d, env)).toBe('failed with ${TOKEN} and ${TOKEN_PART}');
  });

  it('leaves values of 1-3 characters and variables the manifest did not use', () => {
    expect(withoutEnvValues('ab unused-value', d, env)).toBe('ab unused-value');
  });
});

describe('withoutEnvValues with env files', () => {
  const texts = new Map([
    ['/srv/gw/top.env', { text: 'FILE_TOKEN=file-SECRET-5678\nUNUSED_IN_FILE=unused-file-secret\nTOKEN=loses-to-the-process\n' }],
    ['/srv/gw/a.env', { text: 'CHILD_KEY=child-SECRET-9012\n' }],
  ]);
  const env = { TOKEN: 'tok-SECRET-1234' };
  const r = parseManifest('/srv/gw/mcp-gateway.yaml', 'version: 1\nenvFile: top.env\nservers:\n  a: { command: node, envFile: a.env, args: ["${FILE_TOKEN}", "${TOKEN}"] }\n', env, texts);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));

  it('names the variable in place of a value a top-level env file gave ${VAR}, or a server env file gave a child', () => {
    expect(withoutEnvValues('spawn failed: file-SECRET-5678 tok-SECRET-1234 child-SECRET-9012', r.desired, env)).toBe('spawn failed: ${FILE_TOKEN} ${TOKEN} ${CHILD_KEY}');
  });

  it('hides every value an env file holds, used or not', () => {
    expect(withoutEnvValues('unused-file-secret loses-to-the-process', r.desired, env)).toBe('${UNUSED_IN_FILE} ${TOKEN}');
  });
});
