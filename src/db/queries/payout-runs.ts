/**
 * Payout runs (docs/payouts.md#payout-runs): one payout, exactly as `POST /payouts` makes it, for
 * every referrer due at least the minimum in a currency, all in one D1 batch. D1 runs a batch as
 * one transaction, one at a time, so racing runs and single payouts each find what the one before
 * them left: a commission is paid once (the same technique as ./payouts.ts).
 */
import { type SQL, sql } from "drizzle-orm";
import {
  conversionApprovedInPayoutEvents,
  d1Statement,
  payoutCreatedInRunEvents,
  type WrittenEvents,
} from "../../webhooks/outbox";
import type { Database } from "../client";
import { dueConversion, type PayoutJson, unsettledClawback } from "./payouts";

export interface RunRow {
  id: number;
  idempotency_key: string;
  currency: string;
  created_at: string;
}

export interface RunWithPayouts {
  id: number;
  currency: string;
  amount: number;
  payouts: PayoutJson[];
  created_at: string;
}

export type RunOutcome =
  | { kind: "created" | "existing"; run: RunWithPayouts }
  | { kind: "nothing_due" }
  | { kind: "key_reused" };

const payoutColumns = `p.id AS id, p.referrer_user_id AS referrer_user_id, p.currency AS currency,
  p.amount AS amount, p.created_at AS created_at,
  (SELECT COUNT(*) FROM conversions c WHERE c.payout_id = p.id) AS conversions,
  (SELECT COUNT(*) FROM reversals r WHERE r.payout_id = p.id) AS clawbacks`;

/** The runs with these ids and their payouts (by referrer), in the order of `runs`. */
async function withPayouts(db: Database, runs: RunRow[]): Promise<RunWithPayouts[]> {
  if (runs.length === 0) return [];
  const { results } = await db.$client
    .prepare(
      `SELECT p.run_id AS run_id, ${payoutColumns} FROM payouts p
       WHERE p.run_id IN (SELECT value FROM json_each(?1)) ORDER BY p.referrer_user_id, p.id`,
    )
    .bind(JSON.stringify(runs.map((run) => run.id)))
    .all<PayoutJson & { run_id: number }>();
  return runs.map((run) => {
    const payouts = results
      .filter((row) => row.run_id === run.id)
      .map(({ run_id: _run, ...payout }) => payout);
    // Integers: a sum of payouts, each at most a sum of commissions (docs/money.md#amounts).
    const amount = payouts.reduce((sum, payout) => sum + payout.amount, 0);
    return { id: run.id, currency: run.currency, amount, payouts, created_at: run.created_at };
  });
}

export async function findRun(db: Database, id: number): Promise<RunWithPayouts | null> {
  const row = await db.$client.prepare("SELECT * FROM payout_runs WHERE id = ?1").bind(id).first<RunRow>();
  return row ? ((await withPayouts(db, [row]))[0] ?? null) : null;
}

async function findRunByKey(db: Database, key: string): Promise<RunRow | null> {
  return db.$client.prepare("SELECT * FROM payout_runs WHERE idempotency_key = ?1").bind(key).first<RunRow>();
}

/** A page of runs, newest first. */
export async function listRuns(
  db: Database,
  filter: { beforeId?: number; limit: number },
): Promise<RunWithPayouts[]> {
  const { results } = await db.$client
    .prepare("SELECT * FROM payout_runs WHERE id < ?1 ORDER BY id DESC LIMIT ?2")
    .bind(filter.beforeId ?? Number.MAX_SAFE_INTEGER, filter.limit)
    .all<RunRow>();
  return withPayouts(db, results);
}

/**
 * Pays, in one batch, every referrer due at least `minimum` (minor units) in `currency`, once per
 * idempotency key: the same key again answers the run it made; the same key for another currency
 * is `key_reused`.
 */
export async function createRun(
  db: Database,
  events: WrittenEvents,
  request: { key: string; currency: string; now: string; minimum: number },
): Promise<RunOutcome> {
  const { key, currency, now } = request;
  const minimum = Math.max(request.minimum, 1);
  const earlier = await findRunByKey(db, key);
  if (earlier) return sameRequest(db, earlier, currency);

  // ?1 key, ?2 currency, ?3 now, ?4 the smallest payout. What each referrer is due, as
  // POST /payouts computes it: due commissions plus (negative) unsettled clawbacks.
  const dueByReferrer = `SELECT d.referrer_user_id AS referrer_user_id, SUM(d.amount) AS amount FROM (
      SELECT c.referrer_user_id AS referrer_user_id, c.commission AS amount FROM conversions c
        WHERE c.currency = ?2 AND c.referrer_user_id IS NOT NULL AND ${dueConversion("?3")}
      UNION ALL
      SELECT c.referrer_user_id, r.commission_delta FROM reversals r JOIN conversions c ON c.id = r.conversion_id
        WHERE c.currency = ?2 AND c.referrer_user_id IS NOT NULL AND ${unsettledClawback}
    ) d GROUP BY d.referrer_user_id HAVING SUM(d.amount) >= ?4`;
  // The run made by this batch, or null: a run of this key stamped `now` that no conversion has
  // been paid into yet. A racing call with the same key in the same millisecond finds the winner's
  // run already holding its conversions (a payout above 0 always has one), so it adds nothing.
  // Uncorrelated: SQLite evaluates it once per statement, before the statement changes a row.
  const runHere = `(SELECT run.id FROM payout_runs run WHERE run.idempotency_key = ?1 AND run.created_at = ?3
    AND run.currency = ?2 AND NOT EXISTS (SELECT 1 FROM conversions paid JOIN payouts pp ON pp.id = paid.payout_id
      WHERE pp.run_id = run.id))`;
  // The payout of this run for the referrer of conversion `c`.
  const payoutHere = `(SELECT p.id FROM payouts p WHERE p.run_id = ${runHere} AND p.referrer_user_id = c.referrer_user_id)`;
  const d1 = db.$client;
  const statement = (text: string) => {
    const count = Math.max(...[...text.matchAll(/\?(\d)/g)].map((match) => Number(match[1])));
    return d1.prepare(text).bind(...[key, currency, now, minimum].slice(0, count));
  };
  const takenHere: SQL = sql`c.currency = ${currency} AND c.referrer_user_id IS NOT NULL
    AND c.payout_id IS NULL AND c.commission > 0
    AND EXISTS (SELECT 1 FROM payouts p JOIN payout_runs run ON run.id = p.run_id
      WHERE run.idempotency_key = ${key} AND run.created_at = ${now} AND run.currency = ${currency}
        AND p.referrer_user_id = c.referrer_user_id
        AND NOT EXISTS (SELECT 1 FROM conversions paid WHERE paid.payout_id = p.id))`;
  const [inserted, , , approvedEvents, , written] = await d1.batch([
    statement(`INSERT INTO payout_runs (idempotency_key, currency, created_at)
      SELECT ?1, ?2, ?3 WHERE EXISTS (${dueByReferrer})
      ON CONFLICT (idempotency_key) DO NOTHING`),
    statement(`INSERT INTO payouts (idempotency_key, referrer_user_id, currency, amount, created_at, run_id)
      SELECT 'run:' || run.id || ':' || due.referrer_user_id, due.referrer_user_id, ?2, due.amount, ?3, run.id
      FROM (${dueByReferrer}) due, payout_runs run
      WHERE run.id = ${runHere} AND NOT EXISTS (SELECT 1 FROM payouts done WHERE done.run_id = run.id)
      ON CONFLICT (idempotency_key) DO NOTHING`),
    // Clawbacks first, then conversions: "no conversion is in it yet" holds only in this batch.
    statement(`UPDATE reversals AS r SET payout_id = (SELECT p.id FROM payouts p
        WHERE p.run_id = ${runHere} AND p.referrer_user_id = (SELECT c.referrer_user_id FROM conversions c WHERE c.id = r.conversion_id))
      WHERE ${unsettledClawback} AND r.conversion_id IN (SELECT c.id FROM conversions c
        WHERE c.currency = ?2 AND EXISTS ${payoutHere})`),
    // A conversion past its hold but still stored pending is approved by this run (as by a payout).
    d1Statement(d1, conversionApprovedInPayoutEvents(takenHere, now)),
    statement(`UPDATE conversions AS c SET payout_id = ${payoutHere}, status = 'paid', updated_at = ?3
      WHERE c.currency = ?2 AND c.referrer_user_id IS NOT NULL AND ${dueConversion("?3")}
        AND EXISTS ${payoutHere}`),
    d1Statement(d1, payoutCreatedInRunEvents(key, now)),
  ]);
  events.add(approvedEvents);
  events.add(written);
  const made = await findRunByKey(db, key);
  if (!made) return { kind: "nothing_due" };
  if ((inserted?.meta.changes ?? 0) > 0) {
    const run = await findRun(db, made.id);
    if (!run) throw new Error("payout run lost after its batch");
    return { kind: "created", run };
  }
  // Another call with this key won the race: its run is the answer.
  return sameRequest(db, made, currency);
}

async function sameRequest(db: Database, run: RunRow, currency: string): Promise<RunOutcome> {
  if (run.currency !== currency) return { kind: "key_reused" };
  const found = await findRun(db, run.id);
  if (!found) throw new Error("payout run lost");
  return { kind: "existing", run: found };
}
