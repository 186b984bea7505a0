/**
 * `ARCHIVE_AFTER_DAYS` (docs/scaling.md#the-archive): a task of the scheduled job that moves
 * every UTC day before today minus N out of D1 into the `ARCHIVE` R2 bucket, a few days a run.
 *
 * For each day, in this order: the day's hits (but those a confirmed referral names, which stay
 * in D1) written as `hits/day=YYYY-MM-DD/part-0.parquet`; the object read back, its SHA-256 and
 * its ids checked against what was read from D1; the day recorded in `archived_days`; then the
 * hits the object holds deleted from D1 in bounded batches, by the ids read back from the stored
 * object (never by date, so a hit that arrives late for an archived day is never deleted unseen),
 * and `deleted_at` set when none is left. A crash at any step loses nothing and counts nothing
 * twice: before the record, the next run writes the object again; after it, the next run goes on
 * deleting. `link_daily_totals` is never touched: the reports keep counting archived hits.
 */

import type { AppBindings } from "../bindings";
import { ConfigError, configOf } from "../config";
import { loadArchiveParquet } from "../lazy-modules";
import type { Clock } from "../lib/clock";
import { DAY_MS, shiftDays } from "../lib/days";
import type { ArchivedHit } from "./archive-parquet";

/** Days archived per run, and hits deleted per run (statements of 100 ids). */
export const ARCHIVE_LIMITS = { days: 2, deletes: 5_000, readPage: 10_000 };

/** Where a step has just finished: a test stops the job there to show a rerun mends it. */
export type ArchiveStep = "written" | "verified" | "recorded" | "deleted";

export interface ArchiveOptions {
  limits?: typeof ARCHIVE_LIMITS;
  /** Called after each step; a throw stops the run there, as a crash would. */
  afterStep?: (step: ArchiveStep, day: string) => void;
}

/** D1 binds at most 100 parameters per statement. */
const IDS_PER_DELETE = 100;

export const archiveKey = (day: string) => `hits/day=${day}/part-0.parquet`;

/** The scheduled task: nothing with `ARCHIVE_AFTER_DAYS=0` or no `ARCHIVE` bucket. */
export async function archiveOldDays(
  bindings: AppBindings,
  clock: Clock,
  options: ArchiveOptions = {},
): Promise<Record<string, number>> {
  const config = configOf(bindings);
  if (config instanceof ConfigError) throw config;
  const bucket = bindings.ARCHIVE;
  if (config.archiveAfterDays === 0 || !bucket) return { days: 0, hits: 0, deleted: 0 };
  const limits = options.limits ?? ARCHIVE_LIMITS;
  const d1 = bindings.DB;
  // Days before (today minus N) are whole days older than N days.
  const today = Date.parse(`${clock().toISOString().slice(0, 10)}T00:00:00.000Z`);
  const before = new Date(today - config.archiveAfterDays * DAY_MS).toISOString().slice(0, 10);

  let budget = limits.deletes;
  let deleted = 0;
  // First the deletions a crashed or bounded run left, then new days.
  const unfinished = await d1
    .prepare("SELECT day, object FROM archived_days WHERE deleted_at IS NULL ORDER BY day LIMIT ?1")
    .bind(limits.days)
    .all<{ day: string; object: string }>();
  for (const { day, object } of unfinished.results) {
    if (budget <= 0) break;
    const stored = await bucket.get(object);
    if (!stored) throw new Error(`archived object ${object} is missing: the hits of ${day} stay in D1`);
    const ids = await (await loadArchiveParquet()).readArchiveIds(await stored.arrayBuffer());
    const done = await deleteArchived(d1, ids, budget, clock, day, options);
    budget -= done.deleted;
    deleted += done.deleted;
  }

  const candidates = await d1
    .prepare(
      "SELECT t.day AS day FROM link_daily_totals t WHERE t.day < ?1 AND t.hits > 0 " +
        "AND NOT EXISTS (SELECT 1 FROM archived_days a WHERE a.day = t.day) GROUP BY t.day ORDER BY t.day LIMIT ?2",
    )
    .bind(before, limits.days)
    .all<{ day: string }>();
  let days = 0;
  let hits = 0;
  for (const { day } of candidates.results) {
    if (budget <= 0) break;
    const parquet = await loadArchiveParquet();
    const rows = await hitsOfDay(d1, day, limits.readPage);
    const file = parquet.writeArchive(rows);
    const sha256 = await sha256Hex(file);
    const key = archiveKey(day);
    await bucket.put(key, file, {
      sha256,
      httpMetadata: { contentType: "application/vnd.apache.parquet" },
    });
    options.afterStep?.("written", day);

    // What R2 holds, not what was sent: its bytes, and the ids in its pages.
    const stored = await bucket.get(key);
    if (!stored) throw new Error(`archive ${key} was not found after it was written`);
    const bytes = await stored.arrayBuffer();
    if ((await sha256Hex(bytes)) !== sha256) throw new Error(`archive ${key} reads back changed`);
    const ids = await parquet.readArchiveIds(bytes);
    const expected = new Set(rows.map((row) => row.id));
    if (ids.length !== rows.length || !ids.every((id) => expected.has(id))) {
      throw new Error(`archive ${key} reads back ${ids.length} hits, not the ${rows.length} written`);
    }
    options.afterStep?.("verified", day);

    await d1
      .prepare(
        "INSERT INTO archived_days (day, object, rows, sha256, archived_at) VALUES (?1, ?2, ?3, ?4, ?5) " +
          "ON CONFLICT (day) DO NOTHING",
      )
      .bind(day, key, rows.length, sha256, clock().toISOString())
      .run();
    options.afterStep?.("recorded", day);
    days += 1;
    hits += rows.length;

    const done = await deleteArchived(d1, ids, budget, clock, day, options);
    budget -= done.deleted;
    deleted += done.deleted;
  }
  return { days, hits, deleted };
}

/**
 * The day's hits as the archive holds them, oldest first, read a page at a time; not those a
 * confirmed referral names (they stay in D1, as the confirmation's record).
 */
async function hitsOfDay(d1: D1Database, day: string, page: number): Promise<ArchivedHit[]> {
  const end = shiftDays(`${day}T00:00:00.000Z`, 1);
  const rows: ArchivedHit[] = [];
  let after = { createdAt: "", id: "" };
  for (;;) {
    const { results } = await d1
      .prepare(
        "SELECT h.id AS id, l.identifier AS link, h.created_at AS created_at, h.authenticated AS authenticated, " +
          "h.duplicate AS duplicate, h.consented AS consented, h.country AS country, h.asn AS asn, h.paid_click AS paid_click, " +
          "h.confirmed_at AS confirmed_at " +
          "FROM referral_hits h JOIN referral_links l ON l.id = h.link_id " +
          "WHERE h.created_at >= ?1 AND h.created_at < ?2 AND (h.created_at > ?3 OR (h.created_at = ?3 AND h.id > ?4)) " +
          "AND NOT EXISTS (SELECT 1 FROM confirmed_referrals c WHERE c.hit_id = h.id) " +
          "ORDER BY h.created_at, h.id LIMIT ?5",
      )
      .bind(day, end, after.createdAt, after.id, page)
      .all<ArchivedHit>();
    rows.push(...results);
    const last = results.at(-1);
    if (!last || results.length < page) return rows;
    after = { createdAt: last.created_at, id: last.id };
  }
}

/**
 * Deletes the archived hits `ids` from D1, at most `budget` of them, 100 per statement in one
 * batch; marks the day done when none of them is left. A hit a referral has named since is kept.
 */
async function deleteArchived(
  d1: D1Database,
  ids: string[],
  budget: number,
  clock: Clock,
  day: string,
  options: ArchiveOptions,
): Promise<{ deleted: number }> {
  // The ids still in D1: a rerun after a partial delete starts where it stopped.
  const left: string[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_DELETE) {
    const chunk = ids.slice(start, start + IDS_PER_DELETE);
    const { results } = await d1
      .prepare(`SELECT id FROM referral_hits WHERE id IN (${chunk.map((_, i) => `?${i + 1}`).join(", ")})`)
      .bind(...chunk)
      .all<{ id: string }>();
    left.push(...results.map((row) => row.id));
    if (left.length > budget) break;
  }
  const now = left.slice(0, budget);
  let deleted = 0;
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < now.length; start += IDS_PER_DELETE) {
    const chunk = now.slice(start, start + IDS_PER_DELETE);
    statements.push(
      d1
        .prepare(
          `DELETE FROM referral_hits WHERE id IN (${chunk.map((_, i) => `?${i + 1}`).join(", ")}) ` +
            "AND NOT EXISTS (SELECT 1 FROM confirmed_referrals c WHERE c.hit_id = referral_hits.id)",
        )
        .bind(...chunk),
    );
  }
  if (statements.length > 0) {
    for (const result of await d1.batch(statements)) deleted += result.meta.changes;
    options.afterStep?.("deleted", day);
  }
  if (left.length <= budget) {
    await d1
      .prepare("UPDATE archived_days SET deleted_at = ?2 WHERE day = ?1 AND deleted_at IS NULL")
      .bind(day, clock().toISOString())
      .run();
  }
  return { deleted };
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
