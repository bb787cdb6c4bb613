// `mcp-gateway validate [--json] [FILE...]`: checks manifests without starting anything. Problems go to
// `err` as file:line:col: message (the form editors and CI annotate); a valid file gets one summary line on
// `out`. With --json, one document on `out` instead, for CI annotations.
import { parseArgs } from 'node:util';
import { loadManifest } from '../config/load.ts';
import { shownValue } from '../config/shown.ts';
import { formatConfigError, type ConfigError } from '../config/types.ts';
import { parseOptions, type Io } from './args.ts';

export const DEFAULT_MANIFEST = 'mcp-gateway.yaml';

export type FileReport = { readonly file: string; readonly ok: false; readonly errors: readonly ConfigError[] } | ValidFile;

interface ValidFile {
  readonly file: string;
  readonly ok: true;
  readonly errors: readonly [];
  readonly servers: number;
  readonly enabled: number;
  /** host is `(from ${VAR})` when the manifest made it with ${VAR}: a report never shows such a value. */
  readonly listen: { readonly host: string; readonly port: number };
}

export interface ValidateReport {
  readonly ok: boolean;
  readonly files: readonly FileReport[];
}

export async function validateFiles(files: readonly string[], env: Io['env']): Promise<ValidateReport> {
  const reports: FileReport[] = [];
  for (const file of files.length > 0 ? files : [DEFAULT_MANIFEST]) {
    const result = await loadManifest(file, env);
    if (!result.ok) {
      reports.push({ file, ok: false, errors: result.errors });
      continue;
    }
    const { servers, listen } = result.desired;
    const enabled = [...servers.values()].filter((s) => s.enabled).length;
    const host = shownValue(result.desired, 'listen.host', listen.host);
    reports.push({ file, ok: true, errors: [], servers: servers.size, enabled, listen: { host, port: listen.port } });
  }
  return { ok: reports.every((r) => r.ok), files: reports };
}

/** 0 when every file is valid, 1 when any is not. */
export async function validateCommand(
  files: string[],
  out: (line: string) => void,
  err: (line: string) => void,
  env: Io['env'] = process.env,
  json = false,
): Promise<number> {
  const report = await validateFiles(files, env);
  if (json) out(JSON.stringify(report));
  else {
    for (const r of report.files) {
      if (!r.ok) for (const e of r.errors) err(formatConfigError(e));
      else out(summary(r));
    }
  }
  return report.ok ? 0 : 1;
}

function summary(r: ValidFile): string {
  const count = `${r.servers} server${r.servers === 1 ? '' : 's'}`;
  const host = r.listen.host.includes(':') ? `[${r.listen.host}]` : r.listen.host;
  return `${r.file}: ok, ${count} (${r.enabled} enabled), listen ${host}:${r.listen.port}`;
}

/** The command line's entry: options, then validateCommand. 2 on a usage error. */
export async function validateMain(args: readonly string[], io: Io): Promise<number> {
  const parsed = parseOptions(args, (a) => parseArgs({ args: a, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true }));
  if (!parsed.ok) {
    io.err(`mcp-gateway validate: ${parsed.message}`);
    return 2;
  }
  return validateCommand(parsed.value.positionals, io.out, io.err, io.env, parsed.value.values.json === true);
}
