import { and, asc, eq, gt, type SQL, sql } from "drizzle-orm";
import { linkCreatedEvent, type WrittenEvents } from "../../webhooks/outbox";
import type { Database } from "../client";
import { linkStats, type ReferralLink, referralLinks } from "../schema";

/** What the referral routes need to know of a link, and what its `reflinks_ref` cookie names. */
export interface LinkTarget {
  id: number;
  userId: string | null;
  disabled: boolean;
  /** `expires_at` as epoch milliseconds (parsed once, when read from D1); null: never. */
  expiresAtMs: number | null;
  refereeReward: string | null;
}

/**
 * Whether a link takes hits at `nowMs`: enabled and not past its `expires_at`. An expired link
 * behaves as a disabled one everywhere a hit could be recorded.
 *
 * @example isLinkLive({ disabled: false, expiresAtMs: 0 }, Date.now()) // false
 */
export function isLinkLive(link: Pick<LinkTarget, "disabled" | "expiresAtMs">, nowMs: number): boolean {
  return !link.disabled && (link.expiresAtMs === null || nowMs < link.expiresAtMs);
}

/** docs/data.md#referral_links: 1-50 of `[A-Za-z0-9_-]`. Checked before any query so junk never reaches D1. */
export const IDENTIFIER = /^[A-Za-z0-9_-]{1,50}$/;

export async function findLinkTarget(db: Database, identifier: string): Promise<LinkTarget | null> {
  const [link] = await db
    .select({
      id: referralLinks.id,
      userId: referralLinks.userId,
      disabled: referralLinks.disabled,
      expiresAt: referralLinks.expiresAt,
      refereeReward: referralLinks.refereeReward,
    })
    .from(referralLinks)
    .where(eq(referralLinks.identifier, identifier))
    .limit(1);
  if (!link) return null;
  const { expiresAt, ...rest } = link;
  return { ...rest, expiresAtMs: expiresAt === null ? null : Date.parse(expiresAt) };
}

export async function findLink(db: Database, identifier: string): Promise<ReferralLink | null> {
  const [link] = await db
    .select()
    .from(referralLinks)
    .where(eq(referralLinks.identifier, identifier))
    .limit(1);
  return link ?? null;
}

/** The options a link is created or changed with (each null to clear it). */
export interface LinkOptions {
  refereeReward?: string | null;
  expiresAt?: string | null;
  commissionPayments?: number | null;
}

/**
 * Inserts a link; null when the identifier is taken (the unique index decides, not a read). Its
 * `link.created` webhook events go in the same batch; `urlPrefix` (the request's origin and
 * `REF_PATH`) makes their `url` as the API shows it.
 */
export async function insertLink(
  db: Database,
  events: WrittenEvents,
  link: LinkOptions & { identifier: string; userId: string | null },
  urlPrefix: string,
  now = new Date().toISOString(),
): Promise<ReferralLink | null> {
  const [[created], written] = await db.batch([
    newLinkStatement(db, link, now),
    linkCreatedEvent(db, link.identifier, now, urlPrefix),
  ]);
  events.add(written);
  return created ?? null;
}

function newLinkStatement(db: Database, link: { identifier: string; userId: string | null }, now: string) {
  return db
    .insert(referralLinks)
    .values({ ...link, disabled: false, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: referralLinks.identifier })
    .returning();
}

/**
 * Inserts a link for `userId` only while they own fewer than `limit` links, counting every link
 * they own (docs/referrer-page.md#get-your-link). One batch, so one transaction: the link is
 * inserted, then deleted again in the same batch when it made one too many, and its
 * `link.created` event is written only if it is still there. Of racing calls, no more than
 * `limit` links are kept.
 */
export async function insertOwnLink(
  db: Database,
  events: WrittenEvents,
  link: { identifier: string; userId: string },
  limit: number,
  urlPrefix: string,
  now = new Date().toISOString(),
): Promise<{ created: ReferralLink } | { refused: "taken" | "limit" }> {
  const [[inserted], removed, written] = await db.batch([
    newLinkStatement(db, link, now),
    db
      .delete(referralLinks)
      .where(
        and(
          eq(referralLinks.identifier, link.identifier),
          eq(referralLinks.userId, link.userId),
          eq(referralLinks.createdAt, now),
          sql`(SELECT COUNT(*) FROM referral_links o WHERE o.user_id = ${link.userId}) > ${limit}`,
        ),
      )
      .returning({ id: referralLinks.id }),
    linkCreatedEvent(db, link.identifier, now, urlPrefix),
  ]);
  events.add(written);
  if (!inserted) return { refused: "taken" };
  if (removed.length > 0) return { refused: "limit" };
  return { created: inserted };
}

/** One page of links in creation order, after the link with id `afterId`. */
export async function listLinks(
  db: Database,
  options: { userId?: string; afterId?: number; limit: number },
): Promise<ReferralLink[]> {
  const conditions: SQL[] = [];
  if (options.userId !== undefined) conditions.push(eq(referralLinks.userId, options.userId));
  if (options.afterId !== undefined) conditions.push(gt(referralLinks.id, options.afterId));
  return db
    .select()
    .from(referralLinks)
    .where(and(...conditions))
    .orderBy(asc(referralLinks.id))
    .limit(options.limit);
}

export async function updateLink(
  db: Database,
  identifier: string,
  changes: LinkOptions & { disabled?: boolean; userId?: string | null; commission?: string | null },
  now = new Date().toISOString(),
): Promise<ReferralLink | null> {
  const [updated] = await db
    .update(referralLinks)
    .set({ ...changes, updatedAt: now })
    .where(eq(referralLinks.identifier, identifier))
    .returning();
  return updated ?? null;
}

/** Deletes a link and, by the foreign key's cascade, its hits. False when there was none. */
export async function deleteLink(db: Database, identifier: string): Promise<boolean> {
  const deleted = await db
    .delete(referralLinks)
    .where(eq(referralLinks.identifier, identifier))
    .returning({ id: referralLinks.id });
  return deleted.length > 0;
}

export interface LinkStats {
  hits: number;
  /** Hits that are not duplicates (`DEDUPE_SECONDS`). */
  unique_hits: number;
  /** Distinct counts over the hits in D1: null when one of the days they cover is archived. */
  visitors: number | null;
  users: number | null;
  confirmed: number;
}

/** A link's numbers, from the same `link_stats` view users query. */
/** A link's numbers as `LinkStats` names them, read from the `link_stats` view. */
const LINK_STATS_COLUMNS = {
  hits: linkStats.hits,
  unique_hits: linkStats.uniqueHits,
  visitors: linkStats.visitors,
  users: linkStats.users,
  confirmed: linkStats.confirmed,
};

/**
 * The `link_stats` of every link `userId` owns, by identifier: one query, whatever their number.
 * The view's filter on `user_id` reaches `referral_links_user_id_idx` (SQLite flattens the view),
 * and each number reads only that link's hits.
 */
export async function linkStatsOfOwner(db: Database, userId: string): Promise<Map<string, LinkStats>> {
  const rows = await db
    .select({ identifier: linkStats.identifier, ...LINK_STATS_COLUMNS })
    .from(linkStats)
    .where(eq(linkStats.userId, userId));
  return new Map(rows.map(({ identifier, ...stats }) => [identifier, stats]));
}

export async function linkStatsOf(db: Database, identifier: string): Promise<LinkStats> {
  const [row] = await db
    .select(LINK_STATS_COLUMNS)
    .from(linkStats)
    .where(eq(linkStats.identifier, identifier));
  return row ?? { hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 };
}

/** The identifiers of the links `userId` owns. */
export async function ownedLinkIdentifiers(db: Database, userId: string): Promise<string[]> {
  const rows = await db
    .select({ identifier: referralLinks.identifier })
    .from(referralLinks)
    .where(eq(referralLinks.userId, userId));
  return rows.map((row) => row.identifier);
}
