import { errorMessage, log } from "./log";

export interface RetryOptions {
  /** Names the work in the log. */
  event: string;
  fields?: Record<string, unknown>;
  /** Waits between attempts, in milliseconds; one attempt more than there are delays. */
  delaysMs?: readonly number[];
  /** Errors for which another attempt cannot help (a constraint violation, say). */
  isPermanent?: (error: unknown) => boolean;
}

/** About 24 s in all: long enough to ride out a D1 hiccup, inside the 30 s `waitUntil` allows. */
export const DEFAULT_DELAYS_MS = [100, 300, 1000, 3000, 8000, 12000] as const;

/**
 * Runs `work` until it succeeds, waiting between attempts; every failure is logged. Resolves to
 * true when the work succeeded, false when every attempt failed (also logged, as an error).
 */
export async function withRetries(work: () => Promise<unknown>, options: RetryOptions): Promise<boolean> {
  const delays = options.delaysMs ?? DEFAULT_DELAYS_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return true;
    } catch (error) {
      const permanent = options.isPermanent?.(error) ?? false;
      const last = permanent || attempt > delays.length;
      log(last ? "error" : "warn", options.event, {
        ...options.fields,
        attempt,
        gave_up: last,
        error: errorMessage(error),
      });
      if (last) return false;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt - 1]));
    }
  }
}
