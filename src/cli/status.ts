// `mcp-gateway status [--url URL] [--json]`: GET /mcp/servers of a running gateway, as a table a person
// reads in a terminal, plus the manifest's reload status. --json prints the answer as it came.
import { parseArgs } from 'node:util';
import { answerProblem, baseUrl, call, parseOptions, printable, readKey, type Io } from './args.ts';

/** The fields of GET /mcp/servers this command shows; the rest of the answer is left alone. */
interface Row {
  readonly name: string;
  readonly state: string;
  readonly pid?: number | null;
  readonly restarts?: number;
  readonly since?: string;
  readonly reason?: string | null;
  readonly lastError?: string | null;
  readonly sharing?: string;
  readonly sessions?: number;
  readonly children?: readonly unknown[];
  readonly rolloutFailure?: { readonly error?: unknown } | null;
}

interface ManifestRow {
  readonly file?: string;
  readonly state?: string;
  readonly appliedAt?: string | null;
  readonly lastAttemptAt?: string | null;
  readonly errors?: readonly string[];
  readonly lastPlan?: string | null;
}

interface ServersAnswer {
  readonly servers: readonly Row[];
  readonly manifest?: ManifestRow;
}

export async function statusMain(args: readonly string[], io: Io, now: () => number = Date.now): Promise<number> {
  const options = { url: { type: 'string' }, json: { type: 'boolean' }, 'key-file': { type: 'string' } } as const;
  const parsed = parseOptions(args, (a) => parseArgs({ args: a, options, allowPositionals: false, strict: true }));
  if (!parsed.ok) {
    io.err(`mcp-gateway status: ${parsed.message}; see mcp-gateway status --help`);
    return 2;
  }
  const { values } = parsed.value;
  const base = baseUrl(values.url, io.env);
  if (!base.ok) {
    io.err(`mcp-gateway status: ${base.message}`);
    return 1;
  }
  const key = await readKey(values['key-file'], io.env);
  if (!key.ok) {
    io.err(`mcp-gateway status: ${key.message}`);
    return 1;
  }
  const url = `${base.value}/mcp/servers`;
  const r = await call({ method: 'GET', url, key: key.value });
  if (!r.ok) {
    io.err(`mcp-gateway status: ${r.message}`);
    return 1;
  }
  const a = r.value;
  if (a.status !== 200 || !isServersAnswer(a.json)) {
    const hint = a.status === 401 || a.status === 403 ? '; give a key with --key-file FILE or MCP_GATEWAY_KEY' : '';
    io.err(`mcp-gateway status: unexpected answer from ${url}: ${a.status === 200 ? 'not a server list' : answerProblem(a)}${hint}`);
    return 1;
  }
  if (values.json === true) io.out(a.text.replace(/\n$/, ''));
  else for (const l of render(a.json, now())) io.out(l);
  return 0;
}

export function render(answer: ServersAnswer, now: number): string[] {
  const header = ['NAME', 'STATE', 'PID', 'RESTARTS', 'SINCE', 'SESSIONS', 'LAST ERROR'];
  const rows = answer.servers.map((s) => [
    printable(s.name, 60),
    printable(typeof s.reason === 'string' && s.reason.toLowerCase() !== s.state ? `${s.state} (${s.reason})` : s.state, 40),
    s.pid ? printable(s.pid, 12) : Array.isArray(s.children) ? `${s.children.length} child${s.children.length === 1 ? '' : 'ren'}` : '-',
    printable(s.restarts ?? 0, 12),
    typeof s.since === 'string' ? ago(s.since, now) : '-',
    printable(s.sessions ?? 0, 12),
    lastProblem(s),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = answer.servers.length === 0 ? ['(no servers in the manifest)'] : [line(header), ...rows.map(line)];
  return [...out, '', ...manifestLines(answer.manifest, now)];
}

/** A failed rollout first: the old child serves, and what needs fixing is the new one. */
function lastProblem(s: Row): string {
  const rollout = s.rolloutFailure?.error;
  if (typeof rollout === 'string') return printable(`rollout failed: ${rollout}`, 80);
  return s.lastError ? printable(s.lastError, 60) : '-';
}

function manifestLines(m: ManifestRow | undefined, now: number): string[] {
  if (m === undefined) return ['manifest: (the gateway did not say)'];
  const file = m.file ? ` ${printable(m.file, 200)}` : '';
  const applied = m.appliedAt ? `applied ${ago(m.appliedAt, now)} ago` : 'never applied';
  if (m.state === 'error') {
    const errors = Array.isArray(m.errors) ? m.errors : [];
    const runs = m.appliedAt ? `the version applied ${ago(m.appliedAt, now)} ago keeps running` : 'nothing runs';
    const tried = m.lastAttemptAt ? `, last read ${ago(m.lastAttemptAt, now)} ago` : '';
    return [`manifest${file}: error${tried}; ${runs}; ${errors.length} problem${errors.length === 1 ? '' : 's'}:`, ...errors.map((e) => `  ${printable(e, 300)}`)];
  }
  const plan = m.lastPlan ? `; last reload: ${printable(m.lastPlan, 200)}` : '';
  return [`manifest${file}: ${printable(m.state ?? 'unknown', 20)}, ${applied}${plan}`];
}

/** "42s", "5m12s", "3h4m", "2d3h": how long ago an ISO time was. */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '?';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

function isServersAnswer(v: unknown): v is ServersAnswer {
  if (typeof v !== 'object' || v === null || !('servers' in v) || !Array.isArray(v.servers)) return false;
  return v.servers.every((s: unknown) => typeof s === 'object' && s !== null && 'name' in s && typeof s.name === 'string' && 'state' in s && typeof s.state === 'string');
}
