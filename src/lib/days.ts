/**
 * Day arithmetic in UTC, written once: timestamps `days` days apart (a hold, a retention period,
 * an attribution window) and calendar days `YYYY-MM-DD` apart (reports, the archive). A day is
 * 86,400,000 ms: UTC has no daylight saving time, and ISO timestamps carry no leap seconds.
 */

export const DAY_MS = 86_400_000;

/** The ISO timestamp `days` days after `time` (negative: before). */
export function shiftDays(time: Date | string, days: number): string {
  const ms = typeof time === "string" ? Date.parse(time) : time.getTime();
  return new Date(ms + days * DAY_MS).toISOString();
}

/** The calendar day `days` days after `day` (`YYYY-MM-DD`; negative: before). */
export function addDays(day: string, days: number): string {
  return shiftDays(`${day}T00:00:00.000Z`, days).slice(0, 10);
}
