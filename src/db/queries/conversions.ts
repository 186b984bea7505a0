/**
 * Conversions and reversals (docs/money.md): payments of referred users, the referrer's commission
 * on each, and refunds that take part or all of it back. Every write is one atomic D1 statement
 * or batch whose conditions decide races: the unique `external_id` and `reversal_id`, and a
 * reversal applied only to the conversion state it was computed from.
 */
import { and, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import {
  type CommissionRule,
  commissionOn,
  formatCommissionRule,
  parseCommissionRule,
} from "../../lib/commission";
import {
  conversionApprovedAtCreationEvent,
  conversionCreatedEvent,
  conversionReversedEvent,
  d1Statement,
  type WrittenEvents,
} from "../../webhooks/outbox";
import type { Database } from "../client";
import { type Conversion, conversions, type Reversal, referralLinks, reversals } from "../schema";
import { holdEndedSql } from "./hold-sql";

/** `pending` past its `approve_at` reads as `approved`, whether or not anything rewrote it. */
export function effectiveStatus(conversion: Pick<Conversion, "status" | "approveAt">, now: string): string {
  return conversion.status === "pending" && conversion.approveAt <= now ? "approved" : conversion.status;
}

/** The same rule in SQL, for filters. */
export function effectiveStatusSql(now: string): SQL<string> {
  return sql<string>`CASE WHEN ${holdEndedSql('"conversions"', now)} THEN 'approved' ELSE ${conversions.status} END`;
}

export interface ConversionRow extends Conversion {
  link: string | null;
}

const withLink = {
  conversion: conversions,
  link: referralLinks.identifier,
};

function flatten(row: { conversion: Conversion; link: string | null }): ConversionRow {
  return { ...row.conversion, link: row.link };
}

export async function findConversion(db: Database, externalId: string): Promise<ConversionRow | null> {
  const [row] = await db
    .select(withLink)
    .from(conversions)
    .leftJoin(referralLinks, eq(referralLinks.id, conversions.linkId))
    .where(eq(conversions.externalId, externalId))
    .limit(1);
  return row ? flatten(row) : null;
}

export interface NewConversion {
  externalId: string;
  referralId: number;
  userId: string;
  referrerUserId: string | null;
  linkId: number;
  amount: number;
  currency: string;
  rule: CommissionRule;
  /**
   * Only the referral's first N conversions earn (`COMMISSION_PAYMENTS`); 0: no limit. Decided by
   * the insert itself, counting the referral's conversions already stored, so that racing calls
   * can never let an N+1th earn.
   */
  paymentsLimit: number;
  now: string;
  approveAt: string;
}

/**
 * Inserts a conversion, and its `conversion.created` webhook events in the same batch (and its
 * `conversion.approved` ones when it is approved from the start, `HOLD_DAYS=0`); null when its
 * `external_id` was taken first (by a racing call, say).
 */
export async function insertConversion(
  db: Database,
  events: WrittenEvents,
  conversion: NewConversion,
): Promise<Conversion | null> {
  // Decided inside the insert, from the referral as it is in this batch, so that a release, a
  // rejection or a ban racing with this payment is never missed (docs/fraud.md): a held
  // referral's conversion is held (not payable), a rejected referral's or a banned referrer's is
  // rejected with commission 0.
  const rejected = sql`((SELECT r.status FROM confirmed_referrals r WHERE r.id = ${conversion.referralId}) = 'rejected'
    OR EXISTS (SELECT 1 FROM banned_users b WHERE b.user_id = ${conversion.referrerUserId}))`;
  const held = sql`(SELECT r.status FROM confirmed_referrals r WHERE r.id = ${conversion.referralId}) = 'held'`;
  const commission = commissionOn(conversion.rule, conversion.amount);
  const [[row], created, approved] = await db.batch([
    db
      .insert(conversions)
      .values({
        externalId: conversion.externalId,
        referralId: conversion.referralId,
        userId: conversion.userId,
        referrerUserId: conversion.referrerUserId,
        linkId: conversion.linkId,
        amount: conversion.amount,
        currency: conversion.currency,
        // A rejected referral's conversion earns 0; past COMMISSION_PAYMENTS, 0 too (and its rule
        // goes with it: a refund of a conversion past the limit must take back nothing).
        commission: sql`CASE WHEN ${rejected} THEN 0 ELSE ${limited(conversion, sql`CAST(${commission} AS INTEGER)`, sql`0`)} END`,
        commissionRule: limited(conversion, sql`${formatCommissionRule(conversion.rule)}`, sql`'none'`),
        status: sql`CASE WHEN ${rejected} THEN 'rejected' WHEN ${held} THEN 'held'
          ELSE ${conversion.approveAt <= conversion.now ? "approved" : "pending"} END`,
        approveAt: conversion.approveAt,
        reversedAmount: 0,
        payoutId: null,
        createdAt: conversion.now,
        updatedAt: conversion.now,
      })
      .onConflictDoNothing({ target: conversions.externalId })
      .returning(),
    conversionCreatedEvent(db, conversion.externalId, conversion.now),
    conversionApprovedAtCreationEvent(db, conversion.externalId, conversion.now),
  ]);
  events.add(created);
  events.add(approved);
  return row ?? null;
}

/**
 * `earning` while the referral has fewer than `paymentsLimit` conversions stored, else `over`:
 * evaluated inside the INSERT, which SQLite runs with the database locked for writing, so two
 * racing inserts see each other's rows.
 */
function limited(conversion: NewConversion, earning: SQL, over: SQL): SQL {
  if (conversion.paymentsLimit <= 0) return earning;
  return sql`(CASE WHEN (SELECT COUNT(*) FROM conversions lc WHERE lc.referral_id = ${conversion.referralId})
    < ${conversion.paymentsLimit} THEN ${earning} ELSE ${over} END)`;
}

export interface ConversionFilter {
  userId?: string;
  referrerUserId?: string;
  status?: string;
  /** The id of the last conversion of the previous page (newest first). */
  beforeId?: number;
  limit: number;
  now: string;
}

/** A page of conversions, newest first, `status` as of `now`. */
export async function listConversions(db: Database, filter: ConversionFilter): Promise<ConversionRow[]> {
  const rows = await db
    .select(withLink)
    .from(conversions)
    .leftJoin(referralLinks, eq(referralLinks.id, conversions.linkId))
    .where(
      and(
        filter.userId === undefined ? undefined : eq(conversions.userId, filter.userId),
        filter.referrerUserId === undefined
          ? undefined
          : eq(conversions.referrerUserId, filter.referrerUserId),
        filter.status === undefined ? undefined : eq(effectiveStatusSql(filter.now), filter.status),
        filter.beforeId === undefined ? undefined : lt(conversions.id, filter.beforeId),
      ),
    )
    .orderBy(desc(conversions.id))
    .limit(filter.limit);
  return rows.map(flatten);
}

export async function findReversal(db: Database, reversalId: string): Promise<Reversal | null> {
  const [row] = await db.select().from(reversals).where(eq(reversals.reversalId, reversalId)).limit(1);
  return row ?? null;
}

export type ReverseOutcome =
  | { kind: "created" | "existing"; conversion: ConversionRow; reversal: Reversal }
  | { kind: "too_much"; left: number }
  | { kind: "other_conversion" }
  | { kind: "other_amount"; reversal: Reversal };

/**
 * The commission a rule gives on `left` (an SQL expression of a whole number of minor units, 0 or
 * more), in SQL integer arithmetic, exactly as {@link commissionOn}: percent rounded half up. The
 * product is split so that it never passes 2^63 (SQLite would turn it into a float): with
 * left = q * 10000 + r, (left * bp + 5000) / 10000 = q * bp + (r * bp + 5000) / 10000. The rule's
 * numbers are written into the text as integer literals (they are parsed, digits only), so that
 * no bound parameter can bring a float into the expression.
 */
export function commissionSql(rule: CommissionRule, left: string): string {
  if (rule.kind === "none") return "0";
  if (rule.kind === "fixed") return `(CASE WHEN (${left}) > 0 THEN ${rule.amount} ELSE 0 END)`;
  const bp = rule.basisPoints.toString();
  return `(((${left}) / 10000) * ${bp} + (((${left}) % 10000) * ${bp} + 5000) / 10000)`;
}

/**
 * Reverses `amount` (all that is left when undefined) of a conversion, exactly once per
 * `reversalId`: that id again is answered with its reversal when it names the same conversion and
 * amount (or no amount: a retry of "the rest" cannot know what the rest was), and is
 * `other_conversion` or `other_amount` otherwise, as an `external_id` reused for another payment
 * is a conflict. The new commission is the rule's on what is left; on a conversion already paid
 * out, the difference becomes a clawback for the next payout.
 *
 * One batch (one transaction) both decides and writes, from the conversion as it is inside the
 * batch: the reversal is inserted only if its amount fits in what is left, and the conversion is
 * then set from the sum of its reversals, which makes the update idempotent. (It used to compute
 * the reversal from a read made before the batch and retry when the conversion had changed in
 * between; with 20 refunds racing, some ran out of attempts and answered 500.)
 */
export async function reverseConversion(
  db: Database,
  events: WrittenEvents,
  conversionId: number,
  request: { reversalId: string; amount: number | undefined; now: string },
): Promise<ReverseOutcome> {
  const answerFor = async (reversal: Reversal): Promise<ReverseOutcome> => {
    if (reversal.conversionId !== conversionId) return { kind: "other_conversion" };
    if (request.amount !== undefined && request.amount !== reversal.amount) {
      return { kind: "other_amount", reversal };
    }
    return { kind: "existing", conversion: await conversionById(db, conversionId), reversal };
  };
  const existing = await findReversal(db, request.reversalId);
  if (existing) return answerFor(existing);

  // The rule never changes once the conversion is made; what is left does, so SQL computes on it.
  const before = await conversionById(db, conversionId);
  const rule = parseCommissionRule(before.commissionRule) ?? { kind: "none" };
  // ?1 conversion id, ?2 reversal_id, ?3 amount (null: the rest), ?4 now
  const reversed = "(SELECT COALESCE(SUM(r.amount), 0) FROM reversals r WHERE r.conversion_id = ?1)";
  const d1 = db.$client;
  const [inserted, , written] = await d1.batch([
    d1
      .prepare(
        `INSERT INTO reversals
          (conversion_id, reversal_id, amount, commission_delta, clawback, payout_id, created_at)
        SELECT x.id, ?2, x.amount, MIN(x.delta, 0),
          -- A clawback is commission taken back from a paid conversion: a reversal that takes
          -- nothing back (fixed, or percent that rounds the same) is none, and counts in no payout.
          x.paid AND x.delta < 0, NULL, ?4
        FROM (SELECT c.id AS id, a.amount AS amount, c.status = 'paid' AS paid,
            ${commissionSql(rule, "c.amount - c.reversed_amount - a.amount")} - c.commission AS delta
          FROM conversions c,
            (SELECT COALESCE(CAST(?3 AS INTEGER),
              (SELECT amount - reversed_amount FROM conversions WHERE id = ?1)) AS amount) a
          WHERE c.id = ?1 AND a.amount > 0 AND a.amount <= c.amount - c.reversed_amount) x
        WHERE true
        ON CONFLICT (reversal_id) DO NOTHING`,
      )
      .bind(conversionId, request.reversalId, request.amount ?? null, request.now),
    // Applies whatever reversals the conversion does not reflect yet: a no-op when none was inserted.
    d1
      .prepare(
        `UPDATE conversions SET reversed_amount = ${reversed},
          -- A rejected conversion earns nothing, whatever is left (docs/fraud.md).
          commission = CASE WHEN status = 'rejected' THEN 0 ELSE ${commissionSql(rule, `amount - ${reversed}`)} END,
          status = CASE WHEN status IN ('paid', 'rejected') THEN status WHEN ${reversed} >= amount THEN 'reversed'
            ELSE status END,
          updated_at = ?2
        WHERE id = ?1 AND reversed_amount <> ${reversed}`,
      )
      .bind(conversionId, request.now),
    // After the update: the event's conversion is the one the answer shows.
    d1Statement(d1, conversionReversedEvent(request.reversalId, request.now)),
  ]);
  events.add(written);
  const reversal = await findReversal(db, request.reversalId);
  if ((inserted?.meta.changes ?? 0) > 0) {
    if (!reversal) throw new Error("reversal lost after its insert");
    return { kind: "created", conversion: await conversionById(db, conversionId), reversal };
  }
  // Not inserted: a racing call with this reversal_id was first, or the amount did not fit.
  if (reversal) return answerFor(reversal);
  const after = await conversionById(db, conversionId);
  return { kind: "too_much", left: after.amount - after.reversedAmount };
}

async function conversionById(db: Database, id: number): Promise<ConversionRow> {
  const [row] = await db
    .select(withLink)
    .from(conversions)
    .leftJoin(referralLinks, eq(referralLinks.id, conversions.linkId))
    .where(eq(conversions.id, id))
    .limit(1);
  if (!row) throw new Error(`conversion ${id} vanished`);
  return flatten(row);
}
