// One logger for the daemon: JSON lines (pino), fields not sentences. Tests pass their own destination
// to read what was logged.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  return pino({ level, base: { name: 'mcp-gateway' } }, options.destination ?? pino.destination({ fd: 1, sync: false }));
}
