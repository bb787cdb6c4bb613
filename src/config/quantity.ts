// Quantities in the manifest's `limits`: sizes ("512M", "1.5G", 1048576) and CPU shares ("50%", 2).

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?$/;
const SIZE_UNIT: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Bytes, rounded down; undefined when `v` is not a size the schema accepts. Units are powers of 1024. */
export function parseByteSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  const m = SIZE.exec(v.trim().toUpperCase());
  if (m === null) return undefined;
  const bytes = Math.floor(Number(m[1]) * SIZE_UNIT[m[2]!]!);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** Percent of one CPU ("50%" → 50, 2 cores → 200); undefined when not a positive share. */
export function parseCpuPercent(v: string | number): number | undefined {
  const n = typeof v === 'number' ? v * 100 : /^\d+(?:\.\d+)?%$/.test(v) ? Number(v.slice(0, -1)) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
