import { errorMessage, log } from "./log";

export interface RetryOptions {
  /** Names the work in the log. */
  event: string;
  fields?: Record<string, unknown>;
  /** Waits between attempts, in milliseconds; one attempt more than there are delays. */
  delaysMs?: readonly number[];
  /** Errors for which another attempt cannot help (a constraint violation, say). */
  isPermanent?: (error: unknown) => boolean;
  /** No wait that would end later than this, counted from the first attempt. */
  budgetMs?: number;
}

/** About 24 s of waiting: long enough to ride out a D1 hiccup. */
export const DEFAULT_DELAYS_MS = [100, 300, 1000, 3000, 8000, 12000] as const;

/**
 * The runtime cancels `waitUntil` work 30 s after the response: slow failing attempts must not
 * push the last one past it, where the hit would be lost without the `gave_up` line.
 */
export const DEFAULT_BUDGET_MS = 27_000;

/**
 * Runs `work` until it succeeds, waiting between attempts; every failure is logged. Resolves to
 * true when the work succeeded, false when every attempt failed (also logged, as an error).
 */
export async function withRetries(work: () => Promise<unknown>, options: RetryOptions): Promise<boolean> {
  const delays = options.delaysMs ?? DEFAULT_DELAYS_MS;
  const deadline = Date.now() + (options.budgetMs ?? DEFAULT_BUDGET_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return true;
    } catch (error) {
      const permanent = options.isPermanent?.(error) ?? false;
      const outOfTime = Date.now() + (delays[attempt - 1] ?? 0) > deadline;
      const last = permanent || attempt > delays.length || outOfTime;
      log(last ? "error" : "warn", options.event, {
        ...options.fields,
        attempt,
        gave_up: last,
        ...(outOfTime && !permanent && attempt <= delays.length ? { out_of_time: true } : {}),
        error: errorMessage(error),
      });
      if (last) return false;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt - 1]));
    }
  }
}
