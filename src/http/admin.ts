// Admin routes (an admin key when keys exist; the gate checks): reload the manifest now, and plan a
// manifest against what runs, computed here with the gateway's own environment and env files, so that no
// value of them ever leaves the gateway (the CLI's `plan --against URL`).
import path from 'node:path';
import type { Context } from 'koa';
import { loadManifestText } from '../config/load.ts';
import { formatConfigError, type ServerSpec } from '../config/types.ts';
import { manifestNotes } from '../plan/notes.ts';
import { plan } from '../plan/plan.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import { readText } from './body.ts';
import type { Serve } from './request-context.ts';
import { Needs, type Route } from './route-table.ts';

export interface AdminDeps {
  readonly reconciler: Reconciler;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly bodyLimit: () => number;
}

export function adminRoutes(deps: AdminDeps): Route<Serve>[] {
  const reload = async (ctx: Context): Promise<void> => {
    const outcome = await deps.reconciler.reload('api');
    const status = deps.reconciler.status;
    ctx.status = outcome.ok ? 200 : 422;
    ctx.body = { ok: outcome.ok, manifest: status };
  };

  /**
   * Body: manifest text. `?file=NAME` names it in error messages (default: the running manifest's name),
   * and the answer says that name (`file`); an error in an env file names that file as the gateway sees it.
   */
  const planRoute = async (ctx: Context): Promise<void> => {
    const text = await readText(ctx.req, deps.bodyLimit());
    const name = typeof ctx.query.file === 'string' && ctx.query.file !== '' ? ctx.query.file : deps.reconciler.file;
    // Relative paths in the posted manifest (cwd, envFile) resolve like those of the running one.
    const at = path.resolve(deps.reconciler.file);
    const loaded = await loadManifestText(at, text, deps.env);
    if (!loaded.ok) {
      ctx.status = 422;
      ctx.body = { ok: false, file: name, errors: loaded.errors.map((e) => formatConfigError(e.file === at ? { ...e, file: name } : e)) };
      return;
    }
    const actual = new Map<string, ServerSpec>([...deps.reconciler.servers].map(([n, s]) => [n, s.spec]));
    const running = deps.reconciler.desired;
    const notes = running === undefined ? [] : manifestNotes(running, loaded.desired);
    ctx.body = { ok: true, plan: plan(loaded.desired.servers, actual), notes };
  };

  return [
    { method: 'POST', pattern: '/admin/reload', need: Needs.admin, serve: { koa: reload } },
    { method: 'POST', pattern: '/admin/plan', need: Needs.admin, serve: { koa: planRoute } },
  ];
}
