// One logger for the daemon: JSON lines (pino), fields not sentences; readable text when stdout is a
// terminal (LOG_FORMAT=json or pretty forces one). Tests pass their own destination to read what was logged.
import { pino, type Logger, type DestinationStream } from 'pino';
import { prettyLine } from './log-pretty.ts';

export type { Logger };

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const format = process.env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const destination =
    options.destination ?? (format === 'pretty' ? { write: (line: string) => void process.stdout.write(prettyLine(line)) } : pino.destination({ fd: 1, sync: false }));
  return pino({ level, base: { name: 'mcp-gateway' } }, destination);
}
