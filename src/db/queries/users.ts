import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../client";
import { referralHits, reflinksUsers } from "../schema";

/**
 * A login the worker learned of (a verified `Reflinks-User` header or `POST /reconcile`): records
 * the user in `reflinks_users` (`first_seen_at` once, `last_seen_at` every time) and, given the
 * browser's anonymous id, gives that browser's hits without a user to this one. One atomic batch,
 * so a hit is never reconciled without the login that makes later hits non-qualifying. Returns
 * how many hits changed.
 */
export async function recordLogin(
  db: Database,
  userId: string,
  anonymousId: string | null,
  now = new Date().toISOString(),
): Promise<number> {
  const seen = db
    .insert(reflinksUsers)
    .values({ userId, firstSeenAt: now, lastSeenAt: now })
    .onConflictDoUpdate({ target: reflinksUsers.userId, set: { lastSeenAt: sql`excluded.last_seen_at` } });
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
