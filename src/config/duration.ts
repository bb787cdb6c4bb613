// Durations in the manifest: a whole number of milliseconds, or text with units ("500ms", "1.5s", "1m30s").

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
/** Units must appear largest first and at most once ("1m30s", not "30s1m" or "1s1s"): one way to write a value. */
const UNIT_ORDER = ['h', 'm', 's', 'ms'];
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;

/**
 * The longest duration a Node timer holds: setTimeout takes a signed 32-bit delay and turns a larger one
 * into 1 ms, so a requestTimeout past it would time every request out at once.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** MAX_DURATION_MS as an operator writes it, rounded down to whole seconds (596h31m23.647s). */
export const MAX_DURATION_TEXT = '596h31m23s';

/** Milliseconds, rounded to a whole number; undefined when `v` is not a valid duration. Any size: see isTimerDuration. */
export function parseDuration(v: string | number): number | undefined {
  const ms = typeof v === 'number' ? v : unitsToMs(v);
  return ms !== undefined && Number.isSafeInteger(ms) && ms >= 0 ? ms : undefined;
}

/** A valid duration that a Node timer can hold (at most MAX_DURATION_MS). */
export function isTimerDuration(v: string | number): boolean {
  const ms = parseDuration(v);
  return ms !== undefined && ms <= MAX_DURATION_MS;
}

/**
 * Well formed but longer than a timer holds, however long ("1000000000h" too): the fix is a shorter
 * value, not another spelling, so it gets a message of its own.
 */
export function isTooLong(v: unknown): boolean {
  const ms = typeof v === 'number' ? (Number.isInteger(v) ? v : undefined) : typeof v === 'string' ? unitsToMs(v) : undefined;
  return ms !== undefined && ms > MAX_DURATION_MS;
}

/** The text form in ms, rounded, of any size; undefined when it is not well formed. */
function unitsToMs(v: string): number | undefined {
  if (v.length === 0) return undefined;
  let total = 0;
  let lastUnit = -1;
  PART.lastIndex = 0;
  let end = 0;
  for (let m = PART.exec(v); m !== null; m = PART.exec(v)) {
    const [, num, unit] = m;
    const rank = UNIT_ORDER.indexOf(unit ?? '');
    const factor = UNIT_MS[unit ?? ''];
    if (rank <= lastUnit || factor === undefined) return undefined;
    lastUnit = rank;
    total += Number(num) * factor;
    end = PART.lastIndex;
  }
  return end === v.length ? Math.round(total) : undefined;
}
