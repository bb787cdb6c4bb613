// Durations in the manifest: a whole number of milliseconds, or text with units ("500ms", "1.5s", "1m30s").

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
/** Units must appear largest first and at most once ("1m30s", not "30s1m" or "1s1s"): one way to write a value. */
const UNIT_ORDER = ['h', 'm', 's', 'ms'];
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;

/** Milliseconds, rounded to a whole number; undefined when `v` is not a valid duration. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
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
  if (end !== v.length) return undefined;
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
