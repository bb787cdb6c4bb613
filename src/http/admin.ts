// Admin routes (an admin key when keys exist; the gate checks): reload the manifest now, and plan a
// manifest against what runs, computed here with the gateway's own environment, so that no value of it
// ever leaves the gateway (the CLI's `plan --against URL`).
import type Router from '@koa/router';
import { exactRouter } from './koa-router.ts';
import { parseManifest } from '../config/load.ts';
import { formatConfigError, type ServerSpec } from '../config/types.ts';
import { manifestNotes } from '../plan/notes.ts';
import { plan } from '../plan/plan.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import { readText } from './body.ts';

export interface AdminDeps {
  readonly reconciler: Reconciler;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly bodyLimit: () => number;
}

export function adminRoutes(deps: AdminDeps): Router {
  const router = exactRouter('/admin');

  router.post('/reload', async (ctx) => {
    const outcome = await deps.reconciler.reload('api');
    const status = deps.reconciler.status;
    ctx.status = outcome.ok ? 200 : 422;
    ctx.body = { ok: outcome.ok, manifest: status };
  });

  /** Body: manifest text. `?file=NAME` names it in error messages (default: the running manifest's name). */
  router.post('/plan', async (ctx) => {
    const text = await readText(ctx.req, deps.bodyLimit());
    const name = typeof ctx.query.file === 'string' && ctx.query.file !== '' ? ctx.query.file : deps.reconciler.file;
    // Relative paths in the posted manifest resolve like those of the running one.
    const loaded = parseManifest(deps.reconciler.file, text, deps.env);
    if (!loaded.ok) {
      ctx.status = 422;
      ctx.body = { ok: false, errors: loaded.errors.map((e) => formatConfigError({ ...e, file: name })) };
      return;
    }
    const actual = new Map<string, ServerSpec>([...deps.reconciler.servers].map(([n, s]) => [n, s.spec]));
    const running = deps.reconciler.desired;
    const notes = running === undefined ? [] : manifestNotes(running, loaded.desired);
    ctx.body = { ok: true, plan: plan(loaded.desired.servers, actual), notes };
  });

  return router;
}
