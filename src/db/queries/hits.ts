import type { Database } from "../client";
import { type NewReferralHit, referralHits } from "../schema";

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
