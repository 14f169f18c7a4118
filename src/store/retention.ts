/**
 * Retention settings: `--retain 7d` (age) and `--max-db-size 20GB` (size), parsed once.
 * Age counts from when the server received a batch (SQLite) or inserted a row (ClickHouse
 * `Received` column), so replaying an old capture file keeps its records for the period.
 */

const UNITS_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const UNITS_B: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Seconds of "7d", "12h", "30m", "90s", "2w"; null when the text is not one. */
export function parseAge(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (m === null) return null;
  const s = Number(m[1]) * UNITS_S[m[2].toLowerCase()];
  return s > 0 ? Math.round(s) : null;
}

/** Bytes of "20GB", "512MiB", "1e6"... ; null when the text is not a size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  if (m === null) return null;
  const b = Number(m[1]) * UNITS_B[(m[2] ?? "").toLowerCase()];
  return b >= 1 ? Math.round(b) : null;
}

export interface RetentionOptions {
  /** Delete what is older than this many seconds (null: keep). */
  retainSeconds: number | null;
  /** Keep the database below this many bytes, oldest data removed first (null: no cap). */
  maxDbBytes: number | null;
  /** How often retention runs (ms). */
  intervalMs: number;
}

export const NO_RETENTION: RetentionOptions = {
  retainSeconds: null,
  maxDbBytes: null,
  intervalMs: 60_000,
};
