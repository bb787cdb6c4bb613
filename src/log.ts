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

/** How long the last lines may take to be written at exit before the process goes anyway. */
const LAST_WRITE_MS = 2_000;

/**
 * Writes out every line logged so far, then closes the destination: the JSON destination writes
 * asynchronously, and a process that exits right after its last line (`stopped`) would lose it while an
 * earlier write is still in flight (pino's flush() does not wait for that). Nothing may be logged after.
 */
export function endLog(log: Logger): Promise<void> {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { end?: () => void; once?: (event: string, listener: () => void) => void } | undefined;
  if (typeof stream?.end !== 'function' || typeof stream.once !== 'function') return Promise.resolve();
  return new Promise((resolve) => {
    stream.once!('close', resolve);
    stream.once!('error', resolve);
    setTimeout(resolve, LAST_WRITE_MS).unref();
    stream.end!();
  });
}

