// Whether dist/ was built from the src/ and schemas/ now on disk: `npm run build` writes dist/.built
// after tsc succeeds, so anything newer under src/ or schemas/ means a pull (or an edit) nobody rebuilt.
// A package without src/ (the container image ships dist/ alone) runs dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** 'current', 'stale' (dist/ older than the sources) or 'missing' (never built). */
export function buildState(root) {
  const stamp = path.join(root, 'dist', '.built');
  if (!existsSync(stamp)) return 'missing';
  const sources = Math.max(newest(path.join(root, 'src')), newest(path.join(root, 'schemas')));
  return sources <= statSync(stamp).mtimeMs ? 'current' : 'stale';
}
