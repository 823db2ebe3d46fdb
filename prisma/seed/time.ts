// Fixed clock for seeded rows: timestamps never depend on when the seed runs, so two runs match exactly.

export const SEED_EPOCH_MS = Date.UTC(2026, 0, 1); // 2026-01-01T00:00:00Z

const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** ISO timestamp `offsetMs` after the seed epoch. */
export function seedTime(offsetMs: number): string {
  return new Date(SEED_EPOCH_MS + offsetMs).toISOString();
}

export function utc(year: number, month: number, day: number, hour = 0, minute = 0): string {
  return new Date(Date.UTC(year, month - 1, day, hour, minute)).toISOString();
}
