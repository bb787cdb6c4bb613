// Log lines for a person at a terminal: time, level, message, then the fields as key=value. Pure: one
// pino JSON line in, one text line out. Used only when stdout is a terminal (journald and files get JSON).

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

function show(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const level = LEVELS[o.level as number] ?? String(o.level);
  // pino's own `pid` is the gateway's; a child's pid is logged under the same name by the supervisor.
  const fields = Object.entries(o).filter(([k]) => !SKIP.has(k) || (k === 'pid' && o.server !== undefined));
  const rest = fields.map(([k, v]) => `${k}=${show(v)}`).join(' ');
  return `${time} ${level} ${String(o.msg ?? '')}${rest ? `  ${rest}` : ''}\n`;
}
