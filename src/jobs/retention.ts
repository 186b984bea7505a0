/**
 * `RETENTION_DAYS` (docs/privacy.md#retention): hits older than that lose `ip`, `user_agent` and
 * `http_referer` (set to null), a task of the scheduled job. Bounded per run: a few batches of a
 * few hundred rows, oldest first, each one statement that finds its rows through the partial
 * index `referral_hits_personal_idx` (only hits that still hold one of those fields are in it), so
 * a table of millions of old hits is worked through over many runs, each well inside D1's limits,
 * and a run with nothing to do reads nothing. Idempotent: a row done is out of the index.
 */

import type { AppBindings } from "../bindings";
import { ConfigError, configOf } from "../config";
import { shiftDays } from "../lib/days";

/** Rows per statement, and statements per run: 2,000 rows a minute, 2.9 million a day. */
export const RETENTION_BATCH = { rows: 500, batches: 4 };

const ERASE_OLD =
  "UPDATE referral_hits SET ip = NULL, ip_hash = NULL, user_agent = NULL, http_referer = NULL, updated_at = ?1 " +
  "WHERE id IN (SELECT id FROM referral_hits INDEXED BY referral_hits_personal_idx WHERE created_at < ?2 " +
  "AND (ip IS NOT NULL OR user_agent IS NOT NULL OR http_referer IS NOT NULL OR ip_hash IS NOT NULL) " +
  "ORDER BY created_at LIMIT ?3)";

/**
 * Erases the personal fields of hits made before `cutoff`, at most `rows` × `batches` of them;
 * how many it erased, and how many statements it ran.
 */
export async function eraseOldHits(
  d1: D1Database,
  cutoff: string,
  now: string,
  { rows, batches } = RETENTION_BATCH,
): Promise<{ erased: number; batches: number }> {
  let erased = 0;
  let ran = 0;
  while (ran < batches) {
    const result = await d1.prepare(ERASE_OLD).bind(now, cutoff, rows).run();
    ran += 1;
    erased += result.meta.changes;
    if (result.meta.changes < rows) break; // nothing older is left
  }
  return { erased, batches: ran };
}

/** The scheduled task: nothing with `RETENTION_DAYS=0`; a bad configuration fails it, logged. */
export async function applyRetention(bindings: AppBindings, now: Date): Promise<Record<string, number>> {
  const config = configOf(bindings);
  if (config instanceof ConfigError) throw config;
  if (config.retentionDays === 0) return { erased: 0, batches: 0 };
  const cutoff = shiftDays(now, -config.retentionDays);
  return eraseOldHits(bindings.DB, cutoff, now.toISOString());
}
