/**
 * The scheduled job's `conversion.approved` task: conversions whose hold (`HOLD_DAYS`) has ended
 * become `approved`, and their events are written, in one batch. The events are written first,
 * over the same set the update then approves (one transaction, so the same rows); a doubled run
 * finds nothing pending, and an event written twice has the same id. What the API and the views
 * show never waits for this task: a pending conversion past `approve_at` already reads approved.
 */
import { sql } from "drizzle-orm";
import { conversionApprovedEvents, d1Statement, endedHolds } from "./outbox";

/** At most this many conversions are approved per run; the next run takes the rest. */
export const APPROVALS_PER_RUN = 200;

export async function approveEndedHolds(
  bindings: { DB: D1Database },
  now: Date,
): Promise<Record<string, number>> {
  const at = now.toISOString();
  const d1 = bindings.DB;
  const approve = sql`UPDATE conversions SET status = 'approved', updated_at = ${at}
    WHERE id IN (${endedHolds(at, APPROVALS_PER_RUN)})`;
  const [events, approved] = await d1.batch([
    d1Statement(d1, conversionApprovedEvents(at, APPROVALS_PER_RUN)),
    d1Statement(d1, approve),
  ]);
  return { approved: approved?.meta.changes ?? 0, events: events?.results.length ?? 0 };
}
