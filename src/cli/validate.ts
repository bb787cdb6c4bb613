// `mcp-gateway validate [FILE...]`: checks manifests without starting anything. Problems go to `err` as
// file:line:col: message (the form editors and CI annotate); a valid file gets one summary line on `out`.
import { loadManifest } from '../config/load.ts';
import { formatConfigError } from '../config/types.ts';

export const DEFAULT_MANIFEST = 'mcp-gateway.yaml';

/** 0 when every file is valid, 1 when any is not. */
export async function validateCommand(
  files: string[],
  out: (line: string) => void,
  err: (line: string) => void,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let code = 0;
  for (const file of files.length > 0 ? files : [DEFAULT_MANIFEST]) {
    const result = await loadManifest(file, env);
    if (!result.ok) {
      for (const e of result.errors) err(formatConfigError(e));
      code = 1;
      continue;
    }
    const { servers, listen } = result.desired;
    const enabled = [...servers.values()].filter((s) => s.enabled).length;
    const count = `${servers.size} server${servers.size === 1 ? '' : 's'}`;
    const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    out(`${file}: ok, ${count} (${enabled} enabled), listen ${host}:${listen.port}`);
  }
  return code;
}
