/**
 * Fraud review (docs/fraud.md): the queue of held referrals, a person's release or rejection, and
 * banning a referrer. Each decision is one atomic D1 batch whose conditions decide races, as the
 * confirmation's unique index does: the referral's status moves only from the state the decision
 * expects, its conversions follow in the same batch, and the webhook events are written from the
 * rows as the batch left them.
 */
import { type SQL, sql } from "drizzle-orm";
import {
  d1Statement,
  referralDecidedEvent,
  referrerBannedEvent,
  type WrittenEvents,
} from "../../webhooks/outbox";
import type { Database } from "../client";
import {
  type Referral,
  type ReferralStatus,
  referralById,
  referralOf,
  type StoredReferral,
} from "./referrals";

/** What the review queue shows beside a referral: the credited hit's signals. */
export interface Evidence {
  country: string | null;
  asn: number | null;
  paid_click: string | null;
  /** Referrals to the same link whose hit has the same `ip_hash`, this one included; null: no hash. */
  same_network_referrals: number | null;
}

export type ReviewedReferral = Referral & { evidence: Evidence };

/** A page of referrals, newest first (by id), with a status or any, strictly before `beforeId`. */
export async function listReferrals(
  db: Database,
  filter: { status?: ReferralStatus; beforeId?: number; limit: number },
): Promise<ReviewedReferral[]> {
  const conditions: SQL[] = [sql`1`];
  if (filter.status !== undefined) conditions.push(sql`r.status = ${filter.status}`);
  if (filter.beforeId !== undefined) conditions.push(sql`r.id < ${filter.beforeId}`);
  const rows = await db.all<StoredReferral & Evidence>(sql`SELECT r.id AS id, r.user_id AS user_id,
      r.event AS event, l.identifier AS link, r.referrer_user_id AS referrer_user_id, r.hit_id AS hit_id,
      r.created_at AS created_at, r.status AS status, r.flags AS flags, r.reason AS reason, r.source AS source,
      h.country AS country, h.asn AS asn, h.paid_click AS paid_click,
      CASE WHEN h.ip_hash IS NULL THEN NULL ELSE (SELECT COUNT(*) FROM confirmed_referrals r2
        JOIN referral_hits h2 ON h2.id = r2.hit_id
        WHERE r2.link_id = r.link_id AND h2.ip_hash = h.ip_hash) END AS same_network_referrals
    FROM confirmed_referrals r
      LEFT JOIN referral_links l ON l.id = r.link_id
      LEFT JOIN referral_hits h ON h.id = r.hit_id
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY r.id DESC LIMIT ${filter.limit}`);
  return rows.map((row) => {
    const { country, asn, paid_click, same_network_referrals, ...referral } = row;
    return {
      ...referralOf(referral),
      evidence: { country, asn, paid_click, same_network_referrals },
    };
  });
}

export type DecisionOutcome =
  | { kind: "done"; referral: Referral }
  | { kind: "not_found" }
  | { kind: "conflict"; referral: Referral };

/**
 * Releases a held referral: `ok`, its held conversions back to `pending` (which reads `approved`
 * past their `approve_at`, as if never held), and `referral.confirmed` sent. A referral that is
 * `ok` already answers as it is; a rejected one is a conflict.
 */
export async function releaseReferral(
  db: Database,
  events: WrittenEvents,
  id: number,
  now: string,
): Promise<DecisionOutcome> {
  const d1 = db.$client;
  const [, , written] = await d1.batch([
    d1
      .prepare(
        "UPDATE confirmed_referrals SET status = 'ok', reviewed_at = ?2 WHERE id = ?1 AND status = 'held'",
      )
      .bind(id, now),
    d1
      .prepare(
        `UPDATE conversions SET status = 'pending', updated_at = ?2 WHERE referral_id = ?1 AND status = 'held'
        AND (SELECT status FROM confirmed_referrals WHERE id = ?1) = 'ok'`,
      )
      .bind(id, now),
    d1Statement(
      d1,
      referralDecidedEvent(
        "referral.confirmed",
        sql`r.id = ${id} AND r.status = 'ok' AND r.reviewed_at = ${now}`,
        now,
      ),
    ),
  ]);
  events.add(written);
  const referral = await referralById(db, id);
  if (!referral) return { kind: "not_found" };
  return referral.status === "ok" ? { kind: "done", referral } : { kind: "conflict", referral };
}

/**
 * Rejects a referral, held or `ok` (one never released: a person may reject what no rule caught):
 * `rejected` with the reason, every conversion of it not yet paid `rejected` with commission 0,
 * `referral.rejected` sent. A rejected one answers as it is; a released one is a conflict.
 */
export async function rejectReferral(
  db: Database,
  events: WrittenEvents,
  id: number,
  reason: string | null,
  now: string,
): Promise<DecisionOutcome> {
  const d1 = db.$client;
  const [, , written] = await d1.batch([
    d1
      .prepare(
        `UPDATE confirmed_referrals SET status = 'rejected', reason = ?3, reviewed_at = ?2
        WHERE id = ?1 AND (status = 'held' OR (status = 'ok' AND reviewed_at IS NULL))`,
      )
      .bind(id, now, reason),
    d1
      .prepare(
        `UPDATE conversions SET status = 'rejected', commission = 0, updated_at = ?2
        WHERE referral_id = ?1 AND status IN ('held', 'pending', 'approved') AND payout_id IS NULL
        AND (SELECT status FROM confirmed_referrals WHERE id = ?1) = 'rejected'`,
      )
      .bind(id, now),
    d1Statement(
      d1,
      referralDecidedEvent(
        "referral.rejected",
        sql`r.id = ${id} AND r.status = 'rejected' AND r.reviewed_at = ${now}`,
        now,
      ),
    ),
  ]);
  events.add(written);
  const referral = await referralById(db, id);
  if (!referral) return { kind: "not_found" };
  return referral.status === "rejected" ? { kind: "done", referral } : { kind: "conflict", referral };
}

/** A ban as the API answers it. */
export interface BanJson {
  user_id: string;
  reason: string | null;
  banned_at: string;
  links_disabled: number;
  commissions_rejected: number;
}

/**
 * Bans a referrer, once: every link they own disabled, every unpaid commission they earn and
 * every held referral to them rejected (`referral.rejected` each), `referrer.banned` sent; later
 * referrals to their links are rejected by the confirmation itself. A repeat answers the first
 * ban and changes nothing: every statement acts only for the ban row this batch made.
 */
export async function banUser(
  db: Database,
  events: WrittenEvents,
  userId: string,
  reason: string | null,
  now: string,
) {
  const d1 = db.$client;
  // ?1 user, ?2 reason, ?3 now. The ban row made by this batch (a repeat finds an older one).
  const madeHere = "EXISTS (SELECT 1 FROM banned_users WHERE user_id = ?1 AND banned_at = ?3)";
  const unpaid = "referrer_user_id = ?1 AND status IN ('held', 'pending', 'approved') AND payout_id IS NULL";
  const bind = (text: string) => d1.prepare(text).bind(userId, reason, now);
  const [, , , rejectedEvents, , bannedEvents] = await d1.batch([
    bind(`INSERT INTO banned_users (user_id, reason, banned_at, links_disabled, commissions_rejected)
      SELECT ?1, ?2, ?3,
        (SELECT COUNT(*) FROM referral_links WHERE user_id = ?1 AND disabled = 0),
        (SELECT COUNT(*) FROM conversions WHERE ${unpaid} AND commission > 0)
      WHERE true ON CONFLICT (user_id) DO NOTHING`),
    bind(`UPDATE referral_links SET disabled = 1, updated_at = ?3
      WHERE user_id = ?1 AND disabled = 0 AND ${madeHere}`),
    bind(`UPDATE confirmed_referrals SET status = 'rejected', reason = 'referrer banned', reviewed_at = ?3
      WHERE referrer_user_id = ?1 AND status = 'held' AND ${madeHere}`),
    d1Statement(
      d1,
      referralDecidedEvent(
        "referral.rejected",
        sql`r.referrer_user_id = ${userId} AND r.status = 'rejected' AND r.reviewed_at = ${now}`,
        now,
      ),
    ),
    bind(`UPDATE conversions SET status = 'rejected', commission = 0, updated_at = ?3
      WHERE ${unpaid} AND ${madeHere}`),
    d1Statement(d1, referrerBannedEvent(userId, now)),
  ]);
  events.add(rejectedEvents);
  events.add(bannedEvents);
  const ban = await d1
    .prepare(
      "SELECT user_id, reason, banned_at, links_disabled, commissions_rejected FROM banned_users WHERE user_id = ?1",
    )
    .bind(userId)
    .first<BanJson>();
  if (!ban) throw new Error("ban lost after its insert");
  return ban;
}
