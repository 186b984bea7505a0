import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { Database } from "../client";
import { type NewReferralHit, type ReferralHit, referralHits } from "../schema";

/** D1 binds at most 100 parameters per statement; a hit row binds 13. */
const HITS_PER_STATEMENT = 7;

/**
 * Inserts hits, chunked under D1's parameter limit and sent as one batch. Idempotent by hit id,
 * so that retrying after an ambiguous failure (the write landed but the answer was lost), or a
 * redelivered queue batch, neither fails nor counts a visit twice.
 */
export async function insertHits(db: Database, hits: NewReferralHit[]): Promise<void> {
  const statements = [];
  for (let start = 0; start < hits.length; start += HITS_PER_STATEMENT) {
    statements.push(
      db
        .insert(referralHits)
        .values(hits.slice(start, start + HITS_PER_STATEMENT))
        .onConflictDoNothing({ target: referralHits.id }),
    );
  }
  const [first, ...rest] = statements;
  if (!first) return;
  await db.batch([first, ...rest]);
}

/**
 * The one-row insert the referral routes make for every visit, as a plain prepared statement:
 * on the hot path, Drizzle's query building and one-statement batch cost CPU on every hit for
 * nothing (README "Performance" has the measured figures). The column list is checked against the
 * schema by test/unit/insert-hit.test.ts.
 */
export const INSERT_HIT_SQL =
  "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, ip, user_agent, " +
  "http_referer, next, country, confirmed_at, duplicate, consented, created_at, updated_at) " +
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";

export async function insertHit(d1: D1Database, hit: NewReferralHit): Promise<void> {
  await d1
    .prepare(INSERT_HIT_SQL)
    .bind(
      hit.id,
      hit.linkId,
      hit.anonymousId ?? null,
      hit.authenticated ? 1 : 0,
      hit.hitUserId ?? null,
      hit.ip ?? null,
      hit.userAgent ?? null,
      hit.httpReferer ?? null,
      hit.next ?? "",
      hit.country ?? null,
      hit.confirmedAt ?? null,
      hit.duplicate ? 1 : 0,
      hit.consented === false ? 0 : 1,
      hit.createdAt,
      hit.updatedAt,
    )
    .run();
}

/** Where a newest-first list of hits stopped: the last hit shown. */
export interface HitCursor {
  createdAt: string;
  id: string;
}

/** Hits strictly after `cursor` in newest-first order (time, then id): one keyset condition. */
export function newestFirstAfter(cursor: HitCursor | undefined): SQL | undefined {
  if (!cursor) return undefined;
  return or(
    lt(referralHits.createdAt, cursor.createdAt),
    and(eq(referralHits.createdAt, cursor.createdAt), lt(referralHits.id, cursor.id)),
  );
}

/** One page of a link's hits, newest first, strictly after `cursor` in that order. */
export async function listHits(
  db: Database,
  linkId: number,
  options: { cursor?: HitCursor; limit: number },
): Promise<ReferralHit[]> {
  return db
    .select()
    .from(referralHits)
    .where(and(eq(referralHits.linkId, linkId), newestFirstAfter(options.cursor)))
    .orderBy(desc(referralHits.createdAt), desc(referralHits.id))
    .limit(options.limit);
}
