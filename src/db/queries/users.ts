import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../client";
import { referralHits, referrerEarnings, reflinksUsers } from "../schema";
import { referralOf, type StoredReferral } from "./referrals";

/**
 * A login the worker learned of (a verified `Reflinks-User` header or `POST /reconcile`): records
 * the user in `reflinks_users` (`first_seen_at` once, `last_seen_at` every time) and, given the
 * browser's anonymous id, gives that browser's hits without a user to this one. One atomic batch,
 * so a hit is never reconciled without the login that makes later hits non-qualifying. Returns
 * how many hits changed. `ipHash`: the `ip_hash` of the login's client address (docs/fraud.md),
 * given for a login reported by header only (a reconcile call comes from the origin's server).
 */
export async function recordLogin(
  db: Database,
  userId: string,
  anonymousId: string | null,
  now = new Date().toISOString(),
  ipHash: string | null = null,
): Promise<number> {
  const seen = db
    .insert(reflinksUsers)
    .values({ userId, firstSeenAt: now, lastSeenAt: now, lastIpHash: ipHash })
    .onConflictDoUpdate({
      target: reflinksUsers.userId,
      set: {
        lastSeenAt: sql`excluded.last_seen_at`,
        lastIpHash: sql`COALESCE(excluded.last_ip_hash, ${reflinksUsers.lastIpHash})`,
      },
    });
  if (anonymousId === null) {
    await seen;
    return 0;
  }
  // A hit's user is set at most once: hits that already have one keep it.
  const [, updated] = await db.batch([
    seen,
    db
      .update(referralHits)
      .set({ hitUserId: userId, updatedAt: now })
      .where(and(eq(referralHits.anonymousId, anonymousId), isNull(referralHits.hitUserId)))
      .returning({ id: referralHits.id }),
  ]);
  return updated.length;
}

/** The user's `reflinks_users` row, or null when the worker never learned of their login. */
export async function findUser(db: Database, userId: string) {
  const [row] = await db.select().from(reflinksUsers).where(eq(reflinksUsers.userId, userId)).limit(1);
  return row ?? null;
}

/**
 * The anonymous ids the user's own hits carry: the browsers they clicked from before a login
 * reconciled those hits to them. Other hits with one of these ids and no user are theirs too.
 */
const USER_ANONYMOUS_IDS =
  "SELECT anonymous_id FROM referral_hits WHERE hit_user_id = ?1 AND anonymous_id IS NOT NULL";

/**
 * Which hits are the user's own (docs/privacy.md#data-access-requests-and-erasure): those that name them in `hit_user_id`,
 * and those without a user made from a browser whose anonymous id their own hits carry.
 */
export const OWN_HITS = `(h.hit_user_id = ?1 OR (h.hit_user_id IS NULL AND h.anonymous_id IN (${USER_ANONYMOUS_IDS})))`;

/** The user's own hits (see {@link OWN_HITS}) with their link's identifier, newest first. */
export async function userHits(db: Database, userId: string) {
  const { results } = await db.$client
    .prepare(
      "SELECT h.*, l.identifier AS link FROM referral_hits h JOIN referral_links l ON l.id = h.link_id " +
        `WHERE ${OWN_HITS} ORDER BY h.created_at DESC, h.id DESC`,
    )
    .bind(userId)
    .all<Record<string, string | number | null>>();
  return results;
}

/**
 * Erases what identifies the user (docs/privacy.md#data-access-requests-and-erasure), in one atomic batch: `ip`,
 * `user_agent`, `http_referer` and `anonymous_id` of their own hits; their anonymous ids wherever
 * else they appear (a hit of another user made from the same browser keeps everything but that
 * id); the `hit.created` webhook events of all those hits; their `reflinks_users` row; their
 * payout method. Referrals, conversions and payouts are records of money and are
 * kept, as are `hit_user_id` and `country` (the origin's own id for the user, and a country).
 * Returns how many of the user's own hits changed: 0 on a repeat.
 */
export async function eraseUser(
  db: Database,
  userId: string,
  now = new Date().toISOString(),
): Promise<number> {
  const d1 = db.$client;
  const scrub =
    "anonymous_id = NULL, ip = NULL, ip_hash = NULL, user_agent = NULL, http_referer = NULL, updated_at = ?2";
  const [, sameBrowser, , own] = await d1.batch([
    // First, while the hits still carry the anonymous ids that find them: the hit.created events
    // (sent or not) of every hit this batch scrubs, which hold a copy of its fields. Found by their
    // ids (msg_<endpoint>_hit.created_<hit id>: the same as json_extract(payload, '$.data.id')),
    // so through the primary key, not by reading every event; their deliveries go with them
    // (ON DELETE CASCADE).
    d1
      .prepare(
        "DELETE FROM webhook_events WHERE id IN (SELECT 'msg_' || substr(w.id, 4) || '_hit.created_' || h.id " +
          `FROM referral_hits h, webhooks w WHERE h.hit_user_id = ?1 OR h.anonymous_id IN (${USER_ANONYMOUS_IDS}))`,
      )
      .bind(userId),
    // Before the user's own hits lose the anonymous ids that find these.
    d1
      .prepare(
        `UPDATE referral_hits SET ${scrub} WHERE hit_user_id IS NULL AND anonymous_id IN (${USER_ANONYMOUS_IDS})`,
      )
      .bind(userId, now),
    d1
      .prepare(
        `UPDATE referral_hits SET anonymous_id = NULL, updated_at = ?2 WHERE hit_user_id <> ?1 AND anonymous_id IN (${USER_ANONYMOUS_IDS})`,
      )
      .bind(userId, now),
    d1
      .prepare(
        `UPDATE referral_hits SET ${scrub} WHERE hit_user_id = ?1 AND (anonymous_id IS NOT NULL OR ` +
          "ip IS NOT NULL OR ip_hash IS NOT NULL OR user_agent IS NOT NULL OR http_referer IS NOT NULL)",
      )
      .bind(userId, now),
    d1.prepare("DELETE FROM reflinks_users WHERE user_id = ?1").bind(userId),
    // Their payout method: an e-mail address, an IBAN, a name (docs/payouts.md#payout-methods).
    d1.prepare("DELETE FROM payout_methods WHERE user_id = ?1").bind(userId),
  ]);
  return (sameBrowser?.meta.changes ?? 0) + (own?.meta.changes ?? 0);
}

/** Confirmed referrals where the user is the referred one (`user_id`) or the referrer, oldest first. */
export async function userReferrals(db: Database, userId: string, as: "referred" | "referrer") {
  const column = as === "referred" ? "c.user_id" : "c.referrer_user_id";
  const { results } = await db.$client
    .prepare(
      "SELECT c.id AS id, c.user_id AS user_id, c.event AS event, l.identifier AS link, " +
        "c.referrer_user_id AS referrer_user_id, c.hit_id AS hit_id, c.created_at AS created_at, " +
        "c.status AS status, c.flags AS flags, c.reason AS reason, c.source AS source " +
        `FROM confirmed_referrals c LEFT JOIN referral_links l ON l.id = c.link_id WHERE ${column} = ?1 ORDER BY c.id`,
    )
    .bind(userId)
    .all<StoredReferral>();
  return results.map(referralOf);
}

/** A referrer's commissions by status per currency, as of the moment of reading (`referrer_earnings`). */
export function earningsOf(db: Database, userId: string) {
  return db
    .select({
      currency: referrerEarnings.currency,
      pending: referrerEarnings.pending,
      approved: referrerEarnings.approved,
      paid: referrerEarnings.paid,
    })
    .from(referrerEarnings)
    .where(eq(referrerEarnings.referrerUserId, userId))
    .orderBy(asc(referrerEarnings.currency));
}
