/**
 * Payouts (docs/money.md#payouts): for one referrer and currency, every approved commission not
 * yet paid, less every clawback not yet settled, paid at once and exactly once. The payout, its
 * conversions and its clawbacks are written in one D1 batch: D1 runs a batch as one transaction,
 * one at a time, so of any number of racing calls the first takes everything due and the others
 * find nothing left.
 */
import { type SQL, sql } from "drizzle-orm";
import {
  conversionApprovedInPayoutEvents,
  d1Statement,
  payoutCreatedEvent,
  type WrittenEvents,
} from "../../webhooks/outbox";
import type { Database } from "../client";
import { readsApproved } from "./hold-sql";
import { dueQuery } from "./report-sql";

/** What is due to referrers, per referrer and currency, as of `now`. */
export interface DueRow {
  referrer_user_id: string;
  currency: string;
  amount: number;
  conversions: number;
  clawbacks: number;
}

/** What a payout would pay now (the shared report SQL, so `npm run report` answers the same). */
export async function payoutsDue(db: Database, options: { currency?: string } = {}): Promise<DueRow[]> {
  const query = dueQuery(options);
  const { results } = await db.$client
    .prepare(query.sql)
    .bind(...query.params)
    .all<DueRow>();
  return results;
}

export interface PayoutJson {
  id: number;
  referrer_user_id: string;
  currency: string;
  amount: number;
  conversions: number;
  clawbacks: number;
  created_at: string;
}

const payoutColumns = sql`p.id AS id, p.referrer_user_id AS referrer_user_id, p.currency AS currency,
  p.amount AS amount, p.created_at AS created_at, p.idempotency_key AS idempotency_key,
  (SELECT COUNT(*) FROM conversions c WHERE c.payout_id = p.id) AS conversions,
  (SELECT COUNT(*) FROM reversals r WHERE r.payout_id = p.id) AS clawbacks`;

type PayoutRow = PayoutJson & { idempotency_key: string };

function payoutJson(row: PayoutRow): PayoutJson {
  const { idempotency_key: _key, ...json } = row;
  return json;
}

export async function findPayoutByKey(db: Database, key: string): Promise<PayoutRow | null> {
  const [row] = await db.all<PayoutRow>(
    sql`SELECT ${payoutColumns} FROM payouts p WHERE p.idempotency_key = ${key} LIMIT 1`,
  );
  return row ?? null;
}

export type PayOutcome =
  | { kind: "created" | "existing"; payout: PayoutJson }
  | { kind: "nothing_due" }
  | { kind: "below_minimum"; due: number }
  | { kind: "key_reused" };

/**
 * What is due, as the payout batches decide it: a conversion of the referrer `c`, approved (or
 * pending past its hold at `now`), unpaid, with a commission; `now` is an SQL expression. The
 * payout of `POST /payouts` and those of a run (./payout-runs.ts) take exactly these.
 */
export const dueConversion = (now: string) => `c.payout_id IS NULL AND c.commission > 0
    AND ${readsApproved("c", now)}`;

/** A clawback `r` not yet settled by a payout. */
export const unsettledClawback = "r.clawback = 1 AND r.payout_id IS NULL";

/**
 * Pays a referrer everything due in a currency, once per idempotency key. The same key again
 * answers the payout it made; the same key for another referrer or currency is `key_reused`.
 */
export async function payReferrer(
  db: Database,
  events: WrittenEvents,
  request: { key: string; referrerUserId: string; currency: string; now: string; minimum?: number },
): Promise<PayOutcome> {
  const { key, referrerUserId, currency, now } = request;
  const minimum = request.minimum ?? 1;
  const earlier = await findPayoutByKey(db, key);
  if (earlier) return sameRequest(earlier, request);

  // ?1 key, ?2 referrer, ?3 currency, ?4 now, ?5 the smallest payout (PAYOUT_MINIMUM)
  const mine = "c.referrer_user_id = ?2 AND c.currency = ?3";
  const due = dueConversion("?4");
  const unsettled = unsettledClawback;
  // The payout row decides: the conversions and clawbacks join it only if this batch made it.
  // Key and created_at alone do not say so: a racing call with the same key, in the same
  // millisecond (Date.now() stands still between I/O in a Worker), finds the winner's payout
  // there too, and used to add to it whatever had become due since (paid as "paid" without being
  // in its amount). A payout above 0 always has a conversion, so "no conversion is in it yet"
  // holds only in the batch that made it: the clawbacks join first, then the conversions. (The
  // subquery is uncorrelated: SQLite evaluates it once per statement, before it changes a row.)
  const madeHere = `(SELECT p.id FROM payouts p WHERE p.idempotency_key = ?1 AND p.created_at = ?4
    AND p.referrer_user_id = ?2 AND p.currency = ?3
    AND NOT EXISTS (SELECT 1 FROM conversions paid WHERE paid.payout_id = p.id))`;
  const d1 = db.$client;
  const statement = (text: string) =>
    d1.prepare(text).bind(key, referrerUserId, currency, now, ...(text.includes("?5") ? [minimum] : []));
  // The conversions the payout made here takes (the conversions update's WHERE, with Drizzle's
  // parameters), for the conversion.approved of those still stored pending.
  const takenHere = sql`c.referrer_user_id = ${referrerUserId} AND c.currency = ${currency}
    AND c.payout_id IS NULL AND c.commission > 0
    AND EXISTS (SELECT 1 FROM payouts p WHERE p.idempotency_key = ${key} AND p.created_at = ${now}
      AND p.referrer_user_id = ${referrerUserId} AND p.currency = ${currency}
      AND NOT EXISTS (SELECT 1 FROM conversions paid WHERE paid.payout_id = p.id))`;
  const [inserted, , approvedEvents, , written] = await d1.batch([
    statement(`INSERT INTO payouts (idempotency_key, referrer_user_id, currency, amount, created_at)
      SELECT ?1, ?2, ?3, due.amount, ?4
      FROM (SELECT
          COALESCE((SELECT SUM(c.commission) FROM conversions c WHERE ${mine} AND ${due}), 0)
          + COALESCE((SELECT SUM(r.commission_delta) FROM reversals r JOIN conversions c ON c.id = r.conversion_id
              WHERE ${mine} AND ${unsettled}), 0) AS amount) due
      WHERE due.amount >= MAX(?5, 1)
      ON CONFLICT (idempotency_key) DO NOTHING`),
    statement(`UPDATE reversals AS r SET payout_id = ${madeHere}
      WHERE ${unsettled} AND ${madeHere} IS NOT NULL
        AND r.conversion_id IN (SELECT c.id FROM conversions c WHERE ${mine})`),
    // A conversion past its hold but still stored pending is approved by this payout, not by the
    // scheduled job (which takes pending ones only): its conversion.approved is written here,
    // before it becomes paid. One approved by the job already is not pending: no second event.
    d1Statement(d1, conversionApprovedInPayoutEvents(takenHere, now)),
    statement(`UPDATE conversions AS c SET payout_id = ${madeHere}, status = 'paid', updated_at = ?4
      WHERE ${mine} AND ${due} AND ${madeHere} IS NOT NULL`),
    // Last: the event's counts are of what the payout is made of. A racing call with the same key
    // finds the winner's payout and would write its events under the same ids: nothing.
    d1Statement(d1, payoutCreatedEvent(key, now)),
  ]);
  events.add(approvedEvents);
  events.add(written);
  const made = await findPayoutByKey(db, key);
  if (!made) {
    // Nothing paid: say whether something was due, below the minimum, or nothing at all.
    const mineDue = (await payoutsDue(db, { currency })).find(
      (due) => due.referrer_user_id === referrerUserId,
    );
    return mineDue ? { kind: "below_minimum", due: mineDue.amount } : { kind: "nothing_due" };
  }
  if ((inserted?.meta.changes ?? 0) > 0) return { kind: "created", payout: payoutJson(made) };
  // Another call with this key won the race: its payout is the answer.
  return sameRequest(made, request);
}

function sameRequest(payout: PayoutRow, request: { referrerUserId: string; currency: string }): PayOutcome {
  return payout.referrer_user_id === request.referrerUserId && payout.currency === request.currency
    ? { kind: "existing", payout: payoutJson(payout) }
    : { kind: "key_reused" };
}

/** A page of payouts, newest first. */
export async function listPayouts(
  db: Database,
  filter: { referrerUserId?: string; beforeId?: number; limit: number },
): Promise<PayoutJson[]> {
  const conditions: SQL[] = [sql`1`];
  if (filter.referrerUserId !== undefined)
    conditions.push(sql`p.referrer_user_id = ${filter.referrerUserId}`);
  if (filter.beforeId !== undefined) conditions.push(sql`p.id < ${filter.beforeId}`);
  const rows = await db.all<PayoutRow>(sql`SELECT ${payoutColumns} FROM payouts p
    WHERE ${sql.join(conditions, sql` AND `)} ORDER BY p.id DESC LIMIT ${filter.limit}`);
  return rows.map(payoutJson);
}
