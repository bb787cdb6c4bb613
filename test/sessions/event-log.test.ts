// The replay log and the gateway-wide budget, with made-up events: no process, no socket.
import { describe, expect, it } from 'vitest';
import {
  EventLog,
  GATEWAY_REPLAY_BYTES,
  ReplayBudget,
  SESSION_REPLAY_BYTES,
  SESSION_REPLAY_EVENTS,
  eventBytes,
} from '../../src/sessions/event-log.ts';

/** A JSON-ish payload whose kept cost on `stream` is exactly `bytes` (a multiple of 2 above the overhead). */
function dataCosting(stream: string, bytes: number): string {
  const overhead = eventBytes(stream, '');
  return 'x'.repeat((bytes - overhead) / 2);
}

const seqs = (log: EventLog, stream: string): number[] => log.after(0, stream).map((e) => e.seq);

describe('EventLog.append', () => {
  it('keeps a session within its byte budget, dropping its oldest events first', () => {
    const budget = new ReplayBudget(10_000);
    const log = new EventLog(budget, 1000, 100);
    for (let i = 0; i < 10; i++) log.append('get', dataCosting('get', 300));
    // 3 × 300 fit in 1000, a 4th would not.
    expect(log.bytes).toBe(900);
    expect(seqs(log, 'get')).toEqual([8, 9, 10]);
    expect(budget.used).toBe(900);
  });

  it('keeps a session within its event count', () => {
    const log = new EventLog(new ReplayBudget(1_000_000), 1_000_000, 4);
    for (let i = 0; i < 10; i++) log.append('get', `{"n":${i}}`);
    expect(seqs(log, 'get')).toEqual([7, 8, 9, 10]);
  });

  it('does not keep an event larger than the session budget, and still gives it an id', () => {
    const budget = new ReplayBudget(10_000);
    const log = new EventLog(budget, 1000);
    const small = log.append('get', dataCosting('get', 200));
    const big = log.append('get', dataCosting('get', 1200));
    expect(big).toBe(small + 1);
    expect(log.streamOf(big)).toBeUndefined();
    expect(seqs(log, 'get')).toEqual([small]); // what was there stays
    expect(budget.used).toBe(200);
    expect(log.append('get', '{}')).toBe(big + 1); // ids keep rising
  });

  it('keeps a 3 MB answer of ASCII JSON with the shipped budgets, and not one of 9 MB', () => {
    expect(SESSION_REPLAY_BYTES).toBeLessThanOrEqual(GATEWAY_REPLAY_BYTES);
    const log = new EventLog(new ReplayBudget());
    const three = log.append('req:n1', 'x'.repeat(3_000_000));
    const nine = log.append('req:n2', 'x'.repeat(9_000_000));
    expect(log.streamOf(three)).toBe('req:n1');
    expect(log.streamOf(nine)).toBeUndefined();
    expect(log.bytes).toBeLessThanOrEqual(SESSION_REPLAY_BYTES);
  });

  it('counts what a string may cost in the heap: two bytes a character, plus the record', () => {
    expect(eventBytes('get', 'ab')).toBe(eventBytes('get', '') + 4);
    expect(eventBytes('get', 'é€')).toBe(eventBytes('get', 'ab'));
  });
});

describe('ReplayBudget', () => {
  it('bounds all sessions together: the largest log gives up its oldest events first', () => {
    const budget = new ReplayBudget(2000);
    const heavy = new EventLog(budget, 1500, 100);
    const light = new EventLog(budget, 1500, 100);
    light.append('get', dataCosting('get', 200));
    light.append('get', dataCosting('get', 200));
    for (let i = 0; i < 5; i++) heavy.append('get', dataCosting('get', 300)); // 1500: the gateway is at 1900
    expect(budget.used).toBe(1900);
    // A new light event does not fit: the heavy log (1500) pays, not the light one (400).
    light.append('get', dataCosting('get', 200));
    expect(budget.used).toBeLessThanOrEqual(2000);
    expect(light.size).toBe(3);
    expect(heavy.size).toBe(4);
    expect(seqs(heavy, 'get')).toEqual([2, 3, 4, 5]); // its first one went
    expect(budget.used).toBe(heavy.bytes + light.bytes);
  });

  it('never lets many sessions together past the limit, whatever the order', () => {
    const budget = new ReplayBudget(5000);
    const logs = Array.from({ length: 8 }, () => new EventLog(budget, 2000, 50));
    for (let i = 0; i < 400; i++) {
      const log = logs[(i * 7) % logs.length]!;
      log.append(i % 3 === 0 ? 'get' : `req:n${i}`, dataCosting('get', 200 + ((i * 37) % 9) * 100));
      expect(budget.used).toBeLessThanOrEqual(5000);
      expect(budget.used).toBe(logs.reduce((n, l) => n + l.bytes, 0));
      for (const l of logs) expect(l.bytes).toBeLessThanOrEqual(2000);
    }
  });

  it('cuts a session budget above the gateway limit down to it', () => {
    const budget = new ReplayBudget(1000);
    const log = new EventLog(budget, 5000);
    log.append('get', dataCosting('get', 1200));
    expect(log.size).toBe(0);
    expect(budget.used).toBe(0);
  });
});

describe('EventLog replay', () => {
  it('replays what is left after evictions, on its own stream, oldest first', () => {
    const budget = new ReplayBudget(10_000);
    const log = new EventLog(budget, 1000, 100);
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(log.append(i % 2 === 0 ? 'get' : 'req:n1', dataCosting('get', 180) + i));
    // Six of about 190 bytes do not fit in 1000, five do: the first went.
    expect(log.streamOf(ids[0]!)).toBeUndefined();
    expect(log.streamOf(ids[2]!)).toBe('get');
    const replay = log.after(ids[2]!, 'get');
    expect(replay.map((e) => e.seq)).toEqual([ids[4]]);
    expect(replay[0]!.data.endsWith('4')).toBe(true);
    expect(log.after(0, 'req:n1').map((e) => e.seq)).toEqual([ids[1], ids[3], ids[5]]);
  });

  it('keeps an event under an id minted before it was sent', () => {
    const log = new EventLog(new ReplayBudget(10_000));
    const first = log.append('get', '{"a":1}');
    const minted = log.mint();
    log.append('get', '{"b":2}');
    log.append('req:n9', '{"answer":true}', minted);
    expect(log.streamOf(minted)).toBe('req:n9');
    expect(log.after(first, 'req:n9').map((e) => e.data)).toEqual(['{"answer":true}']);
  });

  it('drop(stream) forgets a delivered stream and gives its bytes back', () => {
    const budget = new ReplayBudget(10_000);
    const log = new EventLog(budget);
    log.append('req:n1', 'progress');
    const kept = log.append('get', 'note');
    log.append('req:n1', 'answer');
    log.drop('req:n1');
    expect(log.after(0, 'req:n1')).toEqual([]);
    expect(log.streamOf(kept)).toBe('get');
    expect(budget.used).toBe(eventBytes('get', 'note'));
  });

  it('close() gives everything back and keeps nothing after', () => {
    const budget = new ReplayBudget(10_000);
    const log = new EventLog(budget);
    log.append('get', 'a');
    log.append('req:n1', 'b');
    log.close();
    expect(budget.used).toBe(0);
    const late = log.append('req:n1', 'an answer settled while the session closed');
    expect(log.streamOf(late)).toBeUndefined();
    expect(budget.used).toBe(0);
    // A closed log is no holder: pressure elsewhere never reaches it.
    const other = new EventLog(budget, 10_000);
    other.append('get', dataCosting('get', 10_000));
    expect(budget.used).toBe(10_000);
  });

  it('holds SESSION_REPLAY_EVENTS events by default', () => {
    const log = new EventLog(new ReplayBudget());
    for (let i = 0; i < SESSION_REPLAY_EVENTS + 10; i++) log.append('get', '{}');
    expect(log.size).toBe(SESSION_REPLAY_EVENTS);
  });
});
