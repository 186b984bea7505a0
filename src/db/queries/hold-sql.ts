/**
 * The hold rule in SQL, written once (docs/money.md#status): a conversion stored `pending` whose
 * `approve_at` has passed reads as approved, whether or not the scheduled job has rewritten it
 * yet. Plain text, so that the text SQL of reports and payouts (./report-sql.ts, ./payouts.ts)
 * and Drizzle's templates (./conversions.ts, src/webhooks/outbox.ts) say the same thing.
 *
 * `alias` names the conversions table; `now` is an SQL expression: a numbered parameter (`?4`)
 * or `strftime(...)`. The Drizzle forms bind `now` as a parameter.
 */
import { type SQL, sql } from "drizzle-orm";

/** Stored pending, its hold over at `now`. */
export const holdEnded = (alias: string, now: string) =>
  `${alias}.status = 'pending' AND ${alias}.approve_at <= ${now}`;

/** Approved as of `now`: stored approved, or pending with its hold over. */
export const readsApproved = (alias: string, now: string) =>
  `(${alias}.status = 'approved' OR (${holdEnded(alias, now)}))`;

/** {@link holdEnded} as Drizzle SQL, `now` bound. */
export const holdEndedSql = (alias: string, now: string): SQL => withNow(holdEnded, alias, now);

/** A rule's text with `now` bound where the text says `now`. */
function withNow(rule: (alias: string, now: string) => string, alias: string, now: string): SQL {
  const [before, after, ...rest] = rule(alias, "\0").split("\0");
  if (before === undefined || after === undefined || rest.length > 0) {
    throw new Error("a hold rule names now exactly once");
  }
  return sql`${sql.raw(before)}${now}${sql.raw(after)}`;
}
