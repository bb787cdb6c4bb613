// The GitOps example must stay valid as the manifest format grows: its manifest loads with nothing but the
// placeholders of env.example, and its workflow runs the commands the README says.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadManifest } from '../../src/config/load.ts';
import { ROOT } from '../helpers/gateway.ts';
import { cleanup, cli, tempDir } from './cli.ts';

afterEach(cleanup);

const DIR = path.join(ROOT, 'examples', 'gitops');
const MANIFEST = path.join(DIR, 'mcp-gateway.yaml');

function exampleEnv(): Record<string, string> {
  const lines = readFileSync(path.join(DIR, 'env.example'), 'utf8').split('\n');
  return Object.fromEntries(lines.filter((l) => /^[A-Za-z_]\w*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('examples/gitops', () => {
  it('the manifest loads with only the placeholders of env.example', async () => {
    const r = await loadManifest(MANIFEST, exampleEnv());
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('validate --json and plan against an empty manifest, as the workflow runs them', async () => {
    const env = exampleEnv();
    const v = await cli(['validate', '--json', MANIFEST], env);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true });
    const prev = path.join(tempDir(), 'prev.yaml');
    writeFileSync(prev, 'version: 1\nservers: {}\n');
    const p = await cli(['plan', MANIFEST, '--against', prev], env);
    expect(p.code).toBe(2);
    expect(p.stdout).toContain('+ start   fetch\n+ start   github\n');
    for (const secret of Object.values(env)) expect(p.stdout + v.stdout).not.toContain(secret);
  });

  it('the workflow validates with --json and plans against the previous revision; git never sees env', () => {
    const wf = parse(readFileSync(path.join(DIR, '.github', 'workflows', 'validate.yml'), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
    const runs = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')).join('\n');
    expect(runs).toContain('npx --no -- mcp-gateway validate --json mcp-gateway.yaml');
    expect(runs).toMatch(/npx --no -- mcp-gateway plan mcp-gateway\.yaml --against "\$RUNNER_TEMP\/prev\.yaml"/);
    expect(runs).toContain('env.example');
    expect(readFileSync(path.join(DIR, '.gitignore'), 'utf8')).toMatch(/^\/env$/m);
  });
});
