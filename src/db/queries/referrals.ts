import { and, asc, desc, eq, gte, isNull, lt, lte, ne, notExists, or, sql } from "drizzle-orm";
import type { FraudRules } from "../../config";
import { shiftDays } from "../../lib/days";
import { d1Statement, referralDecidedEvent, type WrittenEvents } from "../../webhooks/outbox";
import type { Database } from "../client";
import { confirmedReferrals, referralHits, referralLinks, reflinksUsers } from "../schema";
import { findCouponLink } from "./coupons";

/** A referral's review status (docs/fraud.md): origins credit only `ok` ones. */
export type ReferralStatus = "ok" | "held" | "rejected";

/** A confirmed referral as the API returns it (docs/api.md#confirm). */
export interface Referral {
  id: number;
  user_id: string;
  event: string;
  link: string | null;
  referrer_user_id: string | null;
  hit_id: string | null;
  created_at: string;
  status: ReferralStatus;
  /** The fraud rules' flags (`self_referral_ip`, `paid_ads`, `velocity`). */
  flags: string[];
  reason: string | null;
  /** `link`: a qualifying click; `coupon`: a coupon code given with the confirmation. */
  source: "link" | "coupon";
}

/** A referral row as {@link selectReferrals} reads it: `flags` still JSON text. */
export type StoredReferral = Omit<Referral, "flags" | "status" | "source"> & {
  flags: string;
  status: string;
  source: string;
};

export function referralOf(row: StoredReferral): Referral {
  let flags: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.flags);
    if (Array.isArray(parsed)) flags = parsed.filter((flag): flag is string => typeof flag === "string");
  } catch {
    // A hand-written row with bad JSON shows no flags rather than failing every read.
  }
  return { ...row, status: row.status as ReferralStatus, flags, source: row.source as Referral["source"] };
}

export interface ConfirmRequest {
  userId: string;
  event: string;
  /** The account's creation time, when the origin gives it: later hits do not qualify. */
  signedUpAt?: Date | null;
  attribution: "first" | "last";
  windowDays: number;
  /** `FRAUD_RULES`: checked in the batch that confirms (docs/fraud.md). */
  rules: FraudRules;
  /** A coupon code the user gave (any text: one that names no live coupon is ignored). */
  coupon?: string | null;
  now?: Date;
}

/** A referral as the API answers it, joined to its link's identifier (null once deleted). */
function selectReferrals(db: Database) {
  return db
    .select({
      id: confirmedReferrals.id,
      user_id: confirmedReferrals.userId,
      event: confirmedReferrals.event,
      link: referralLinks.identifier,
      referrer_user_id: confirmedReferrals.referrerUserId,
      hit_id: confirmedReferrals.hitId,
      created_at: confirmedReferrals.createdAt,
      status: confirmedReferrals.status,
      flags: confirmedReferrals.flags,
      reason: confirmedReferrals.reason,
      source: confirmedReferrals.source,
    })
    .from(confirmedReferrals)
    .leftJoin(referralLinks, eq(referralLinks.id, confirmedReferrals.linkId));
}

export async function findReferral(db: Database, userId: string, event: string): Promise<Referral | null> {
  const [row] = await selectReferrals(db)
    .where(and(eq(confirmedReferrals.userId, userId), eq(confirmedReferrals.event, event)))
    .limit(1);
  return row ? referralOf(row) : null;
}

export async function referralById(db: Database, id: number): Promise<Referral | null> {
  const [row] = await selectReferrals(db).where(eq(confirmedReferrals.id, id)).limit(1);
  return row ? referralOf(row) : null;
}

/** The user's first confirmed referral, whatever its event: who referred them. */
export async function firstReferral(db: Database, userId: string): Promise<Referral | null> {
  const [row] = await selectReferrals(db)
    .where(eq(confirmedReferrals.userId, userId))
    .orderBy(asc(confirmedReferrals.id))
    .limit(1);
  return row ? referralOf(row) : null;
}

/**
 * The hit a confirmation would credit (docs/routing.md#confirmation): the user's, made while they
 * were not signed in, before the worker first learned of their login (`reflinks_users`) and
 * before they signed up (when the origin says when), on a link they do not own, inside the window;
 * the first or the last of them. A referred user is a new user: an existing customer's later
 * click, reconciled at a later login, never qualifies.
 */
export async function findQualifyingHit(db: Database, request: ConfirmRequest) {
  const now = request.now ?? new Date();
  const since = shiftDays(now, -request.windowDays);
  const order = request.attribution === "last" ? desc : asc;
  const [hit] = await db
    .select({
      id: referralHits.id,
      linkId: referralHits.linkId,
      identifier: referralLinks.identifier,
      ownerId: referralLinks.userId,
    })
    .from(referralHits)
    .innerJoin(referralLinks, eq(referralLinks.id, referralHits.linkId))
    .where(
      and(
        eq(referralHits.hitUserId, request.userId),
        eq(referralHits.authenticated, false),
        gte(referralHits.createdAt, since),
        request.signedUpAt ? lt(referralHits.createdAt, request.signedUpAt.toISOString()) : undefined,
        notExists(
          db
            .select({ one: sql`1` })
            .from(reflinksUsers)
            .where(
              and(
                eq(reflinksUsers.userId, request.userId),
                lte(reflinksUsers.firstSeenAt, referralHits.createdAt),
              ),
            ),
        ),
        or(isNull(referralLinks.userId), ne(referralLinks.userId, request.userId)),
      ),
    )
    .orderBy(order(referralHits.createdAt), order(referralHits.id))
    .limit(1);
  return hit ?? null;
}

/**
 * Credits the referral of `userId` for `event`, exactly once. The unique index on (user_id, event)
 * decides who wins when calls race, not a read before the write: the insert, the hit's
 * `confirmed_at` and the `referral.confirmed` webhook events go in one atomic batch, and the hit
 * is marked only if a referral credits it.
 * A coupon that names a live link the user does not own wins over any click: the referral is
 * credited to its link, with no hit (docs/api.md#coupons); any other coupon is ignored.
 * Returns null when the user has no qualifying hit and no such coupon.
 */
export async function confirmReferral(
  db: Database,
  events: WrittenEvents,
  request: ConfirmRequest,
): Promise<{ created: boolean; referral: Referral } | null> {
  const existing = await findReferral(db, request.userId, request.event);
  if (existing) return { created: false, referral: existing };

  if (request.coupon) {
    const nowMs = (request.now ?? new Date()).getTime();
    const link = await findCouponLink(db, request.coupon, nowMs);
    if (link && link.ownerId !== request.userId) {
      const credited = await creditCoupon(db, events, request, link.linkId);
      if (credited) return credited;
    }
  }

  // A hit can vanish between the read and the write (its link deleted): then the insert breaks
  // the hit_id foreign key, and the user's next qualifying hit, if any, is the one to credit.
  for (let attempt = 1; ; attempt++) {
    const hit = await findQualifyingHit(db, request);
    if (!hit) return null;
    try {
      const credited = await creditHit(db, events, request, hit);
      if (credited) return credited;
      if (attempt >= CREDIT_ATTEMPTS) throw new Error("confirmation lost: its hit kept vanishing");
    } catch (error) {
      if (attempt >= CREDIT_ATTEMPTS || !isForeignKeyFailure(error)) throw error;
    }
  }
}

const CREDIT_ATTEMPTS = 3;

/** `self_ip` compares with the owner's own signed-in hits of this many days (docs/fraud.md). */
const SELF_IP_DAYS = 30;

function isForeignKeyFailure(error: unknown): boolean {
  const messages = [error, (error as { cause?: unknown })?.cause].map((e) =>
    e instanceof Error ? e.message : "",
  );
  return messages.some((message) => message.includes("FOREIGN KEY constraint failed"));
}

type QualifyingHit = NonNullable<Awaited<ReturnType<typeof findQualifyingHit>>>;

async function creditHit(
  db: Database,
  events: WrittenEvents,
  request: ConfirmRequest,
  hit: QualifyingHit,
): Promise<{ created: boolean; referral: Referral } | null> {
  const now = (request.now ?? new Date()).toISOString();
  const since = shiftDays(now, -1);
  const ownerSince = shiftDays(now, -SELF_IP_DAYS);
  const { selfIp, paidAds, velocity } = request.rules;
  const d1 = db.$client;
  // The rules are decided by SQLite inside the insert itself, from the rows as they are in this
  // batch (D1 runs a batch as one transaction, one at a time): a racing confirmation to the same
  // link from the same network, a login of the owner or a ban committed just before is seen, so
  // no race slips a referral past a rule. (A read before the batch could not promise that.)
  // ?1 user, ?2 event, ?3 hit, ?4 now, ?5 self_ip, ?6 paid_ads, ?7 velocity N (-1: off),
  // ?8 24 hours ago, ?9 SELF_IP_DAYS ago
  const evidence = "h.ip_hash IS NOT NULL AND h.ip_private = 0";
  const insert = d1
    .prepare(
      `INSERT INTO confirmed_referrals
        (user_id, event, hit_id, link_id, referrer_user_id, created_at, status, flags, reason)
      SELECT ?1, ?2, x.hit_id, x.link_id, x.owner, ?4,
        CASE WHEN x.banned THEN 'rejected' WHEN x.self_ip OR x.paid OR x.velocity THEN 'held' ELSE 'ok' END,
        '[' || substr(CASE WHEN x.self_ip THEN ',"self_referral_ip"' ELSE '' END
          || CASE WHEN x.paid THEN ',"paid_ads"' ELSE '' END
          || CASE WHEN x.velocity THEN ',"velocity"' ELSE '' END, 2) || ']',
        CASE WHEN x.banned THEN 'referrer banned' END
      FROM (SELECT h.id AS hit_id, h.link_id AS link_id, l.user_id AS owner,
          EXISTS (SELECT 1 FROM banned_users b WHERE b.user_id = l.user_id) AS banned,
          (?5 AND l.user_id IS NOT NULL AND ${evidence} AND (
            EXISTS (SELECT 1 FROM reflinks_users u WHERE u.user_id = l.user_id AND u.last_ip_hash = h.ip_hash)
            OR EXISTS (SELECT 1 FROM referral_hits o WHERE o.hit_user_id = l.user_id AND o.authenticated = 1
              AND o.created_at >= ?9 AND o.ip_hash = h.ip_hash))) AS self_ip,
          (?6 AND h.paid_click IS NOT NULL) AS paid,
          (?7 >= 0 AND ${evidence} AND 1 + (SELECT COUNT(*) FROM confirmed_referrals r
              JOIN referral_hits rh ON rh.id = r.hit_id
            WHERE r.link_id = h.link_id AND r.created_at >= ?8 AND rh.ip_hash = h.ip_hash) > ?7) AS velocity
        FROM referral_hits h JOIN referral_links l ON l.id = h.link_id WHERE h.id = ?3) x
      WHERE true
      ON CONFLICT (user_id, event) DO NOTHING
      RETURNING id`,
    )
    .bind(
      request.userId,
      request.event,
      hit.id,
      now,
      selfIp ? 1 : 0,
      paidAds ? 1 : 0,
      velocity ?? -1,
      since,
      ownerSince,
    );
  const markHit = d1
    .prepare(
      `UPDATE referral_hits SET confirmed_at = ?2, updated_at = ?2
      WHERE id = ?1 AND confirmed_at IS NULL AND EXISTS (SELECT 1 FROM confirmed_referrals WHERE hit_id = ?1)`,
    )
    .bind(hit.id, now);
  return decide(db, events, request, now, insert, markHit);
}

/**
 * A coupon's referral (docs/api.md#coupons): no hit, so the rules that read one do not apply; a
 * banned referrer's is rejected at once, as any other. Null when the link is gone meanwhile.
 */
async function creditCoupon(
  db: Database,
  events: WrittenEvents,
  request: ConfirmRequest,
  linkId: number,
): Promise<{ created: boolean; referral: Referral } | null> {
  const now = (request.now ?? new Date()).toISOString();
  const insert = db.$client
    .prepare(
      `INSERT INTO confirmed_referrals
        (user_id, event, hit_id, link_id, referrer_user_id, created_at, status, flags, reason, source)
      SELECT ?1, ?2, NULL, l.id, l.user_id, ?4,
        CASE WHEN b.user_id IS NOT NULL THEN 'rejected' ELSE 'ok' END, '[]',
        CASE WHEN b.user_id IS NOT NULL THEN 'referrer banned' END, 'coupon'
      FROM referral_links l LEFT JOIN banned_users b ON b.user_id = l.user_id WHERE l.id = ?3
      ON CONFLICT (user_id, event) DO NOTHING
      RETURNING id`,
    )
    .bind(request.userId, request.event, linkId, now);
  return decide(db, events, request, now, insert, null);
}

/**
 * Runs the referral's insert (and the hit's mark) in one batch with the one webhook event its
 * status calls for, and answers the referral: the new one, or the one a racing call made.
 */
async function decide(
  db: Database,
  events: WrittenEvents,
  request: ConfirmRequest,
  now: string,
  insert: D1PreparedStatement,
  markHit: D1PreparedStatement | null,
): Promise<{ created: boolean; referral: Referral } | null> {
  const d1 = db.$client;
  const mine = sql`r.user_id = ${request.userId} AND r.event = ${request.event} AND r.created_at = ${now}`;
  const [inserted, ...rest] = await d1.batch([
    insert,
    ...(markHit ? [markHit] : []),
    // One of the three is written, by the status the insert decided.
    d1Statement(d1, referralDecidedEvent("referral.confirmed", sql`${mine} AND r.status = 'ok'`, now)),
    d1Statement(d1, referralDecidedEvent("referral.held", sql`${mine} AND r.status = 'held'`, now)),
    d1Statement(d1, referralDecidedEvent("referral.rejected", sql`${mine} AND r.status = 'rejected'`, now)),
  ]);
  for (const written of markHit ? rest.slice(1) : rest) events.add(written);

  const id = (inserted?.results?.[0] as { id?: number } | undefined)?.id;
  if (id !== undefined) {
    const referral = await referralById(db, id);
    if (!referral) throw new Error("confirmation lost: no referral after its insert");
    return { created: true, referral };
  }
  // Another call won the race between our read and our write: answer with its referral. None: the
  // hit vanished in between (its link deleted), and the user's next qualifying hit is the one.
  const winner = await findReferral(db, request.userId, request.event);
  return winner ? { created: false, referral: winner } : null;
}
