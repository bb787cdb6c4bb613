import { describe, expect, it } from 'vitest';
import { prettyLine } from '../src/log-pretty.ts';

describe('prettyLine', () => {
  it('turns a pino JSON line into time, level, message and key=value fields', () => {
    const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 10, 28, 4, 5, 6, 789), pid: 1, name: 'mcp-gateway', server: 'demo', state: 'running', msg: 'server state' });
    expect(prettyLine(line)).toBe('04:05:06.789 INFO  server state  pid=1 server=demo state=running\n');
    expect(prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'x', errors: ['a b'] }))).toBe('00:00:00.000 ERROR x  errors=["a b"]\n');
    expect(prettyLine('not json')).toBe('not json');
  });
});
