/**
 * What time it is, as a function a caller can replace: the scheduled job reads it whenever it
 * stamps something, so a test can run the job "at" another time, or move time on mid-run.
 *
 * @example
 * const clock: Clock = () => new Date("2030-01-01T00:00:00Z"); // a test's
 * await runScheduledJob(env, ctx, clock);
 */
export type Clock = () => Date;

/** The real time. */
export const systemClock: Clock = () => new Date();

/**
 * A clock that reads `start` now and then runs at the real clock's pace: a run made "at" a later
 * time (the tests' stand-in for waiting) whose attempts are still stamped as they happen.
 */
export function clockFrom(start: Date, real: () => number = Date.now): Clock {
  const offset = start.getTime() - real();
  return () => new Date(real() + offset);
}
