import { and, asc, desc, eq, exists, gte, isNull, lt, lte, ne, notExists, or, sql } from "drizzle-orm";
import { batchItem, noteWrittenEvents, referralConfirmedEvent } from "../../webhooks/outbox";
import type { Database } from "../client";
import { confirmedReferrals, referralHits, referralLinks, reflinksUsers } from "../schema";
import { findCouponLink } from "./coupons";

/** A confirmed referral as the API returns it (docs/api.md#confirm). */
export interface Referral {
  id: number;
  user_id: string;
  event: string;
  link: string | null;
  referrer_user_id: string | null;
  hit_id: string | null;
  created_at: string;
  /** `link`: a qualifying click; `coupon`: a coupon code given with the confirmation. */
  source: "link" | "coupon";
}

export interface ConfirmRequest {
  userId: string;
  event: string;
  /** The account's creation time, when the origin gives it: later hits do not qualify. */
  signedUpAt?: Date | null;
  attribution: "first" | "last";
  windowDays: number;
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
      source: sql<Referral["source"]>`${confirmedReferrals.source}`,
    })
    .from(confirmedReferrals)
    .leftJoin(referralLinks, eq(referralLinks.id, confirmedReferrals.linkId));
}

export async function findReferral(db: Database, userId: string, event: string): Promise<Referral | null> {
  const [row] = await selectReferrals(db)
    .where(and(eq(confirmedReferrals.userId, userId), eq(confirmedReferrals.event, event)))
    .limit(1);
  return row ?? null;
}

/** The user's first confirmed referral, whatever its event: who referred them. */
export async function firstReferral(db: Database, userId: string): Promise<Referral | null> {
  const [row] = await selectReferrals(db)
    .where(eq(confirmedReferrals.userId, userId))
    .orderBy(asc(confirmedReferrals.id))
    .limit(1);
  return row ?? null;
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
  const since = new Date(now.getTime() - request.windowDays * 86_400_000).toISOString();
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
  request: ConfirmRequest,
): Promise<{ created: boolean; referral: Referral } | null> {
  const existing = await findReferral(db, request.userId, request.event);
  if (existing) return { created: false, referral: existing };

  if (request.coupon) {
    const nowMs = (request.now ?? new Date()).getTime();
    const link = await findCouponLink(db, request.coupon, nowMs);
    if (link && link.ownerId !== request.userId) return credit(db, request, { ...link, id: null }, "coupon");
  }

  // A hit can vanish between the read and the write (its link deleted): then the insert breaks
  // the hit_id foreign key, and the user's next qualifying hit, if any, is the one to credit.
  for (let attempt = 1; ; attempt++) {
    const hit = await findQualifyingHit(db, request);
    if (!hit) return null;
    try {
      return await credit(db, request, hit, "link");
    } catch (error) {
      if (attempt >= CREDIT_ATTEMPTS || !isForeignKeyFailure(error)) throw error;
    }
  }
}

const CREDIT_ATTEMPTS = 3;

function isForeignKeyFailure(error: unknown): boolean {
  const messages = [error, (error as { cause?: unknown })?.cause].map((e) =>
    e instanceof Error ? e.message : "",
  );
  return messages.some((message) => message.includes("FOREIGN KEY constraint failed"));
}

/** What a referral is credited to: a qualifying hit, or (`id` null) a coupon's link. */
interface Credited {
  id: string | null;
  linkId: number;
  identifier: string;
  ownerId: string | null;
}

async function credit(
  db: Database,
  request: ConfirmRequest,
  hit: Credited,
  source: Referral["source"],
): Promise<{ created: boolean; referral: Referral }> {
  const now = (request.now ?? new Date()).toISOString();
  const [inserted, , events] = await db.batch([
    db
      .insert(confirmedReferrals)
      .values({
        userId: request.userId,
        event: request.event,
        hitId: hit.id,
        linkId: hit.linkId,
        referrerUserId: hit.ownerId,
        source,
        createdAt: now,
      })
      .onConflictDoNothing({ target: [confirmedReferrals.userId, confirmedReferrals.event] })
      .returning(),
    db
      .update(referralHits)
      .set({ confirmedAt: now, updatedAt: now })
      .where(
        and(
          // No hit (a coupon): a condition that matches nothing, so the batch keeps its shape.
          hit.id === null ? sql`0` : eq(referralHits.id, hit.id),
          isNull(referralHits.confirmedAt),
          exists(
            db
              .select({ one: sql`1` })
              .from(confirmedReferrals)
              .where(eq(confirmedReferrals.hitId, hit.id ?? "")),
          ),
        ),
      ),
    batchItem(db, referralConfirmedEvent(request.userId, request.event, now)),
  ]);
  noteWrittenEvents(db, events);

  const row = inserted[0];
  if (row) {
    return {
      created: true,
      referral: {
        id: row.id,
        user_id: row.userId,
        event: row.event,
        link: hit.identifier,
        referrer_user_id: row.referrerUserId,
        hit_id: row.hitId,
        created_at: row.createdAt,
        source,
      },
    };
  }
  // Another call won the race between our read and our write: answer with its referral.
  const winner = await findReferral(db, request.userId, request.event);
  if (!winner) throw new Error("confirmation lost: no referral after a conflicting insert");
  return { created: false, referral: winner };
}
