/**
 * When a failed delivery is tried again: Standard Webhooks' schedule (immediately, then 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after the previous failure), then `failed`.
 * The scheduled job runs every minute, so a retry due in 5 s is made by the next run.
 */
export const RETRY_DELAYS_SECONDS = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400] as const;

/** The first attempt and one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** When the attempt after failed attempt number `attempts` (1-based) is due; null after the last. */
export function nextAttemptAt(attempts: number, now: Date): string | null {
  const delay = RETRY_DELAYS_SECONDS[attempts - 1];
  return delay === undefined ? null : new Date(now.getTime() + delay * 1000).toISOString();
}
