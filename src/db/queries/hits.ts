import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { hitEventStatements, hitEventsWritten } from "../../webhooks/hit-events";
import type { Database } from "../client";
import { type NewReferralHit, type ReferralHit, referralHits } from "../schema";

/**
 * The columns every hit insert writes, in the schema's order (test/unit/insert-hit.test.ts checks
 * them against the schema).
 */
const HIT_COLUMNS =
  "id, link_id, anonymous_id, authenticated, hit_user_id, ip, user_agent, http_referer, next, " +
  "country, asn, paid_click, ip_hash, ip_private, confirmed_at, duplicate, consented, created_at, updated_at";

/** Parameters bound per hit: its 19 columns, then the dedupe window's start and end. */
export const PARAMS_PER_HIT = 21;

/** Which earlier hits make a hit a duplicate (docs/data.md#duplicates): the same visitor's. */
type DedupeKey = "anonymous" | "user" | null;

/**
 * One hit as a `SELECT` of its values (parameters `?{base+1}`…`?{base+21}`) whose `duplicate` is
 * computed by SQLite at the insert: the given flag, or whether the same visitor (the same
 * `anonymous_id`, or the same `hit_user_id`) has a counted hit on the same link within the window.
 * The lookup is one search of `referral_hits_anonymous_id_idx` (anonymous id, link, time) or of
 * `referral_hits_user_created_idx` (user, time), made by D1 inside the write itself: no round trip
 * more, and nothing on the redirect, which never waits for the write. `INDEXED BY`: left to
 * itself, SQLite prefers the covering (link, time) index, which walks every hit of a busy link in
 * the window instead of the few of one visitor. `WHERE true` keeps SQLite's
 * parser from reading the upsert's `ON CONFLICT` as a join constraint.
 */
function hitSelect(base: number, key: DedupeKey): string {
  const p = (n: number) => `?${base + n}`;
  const given = p(16);
  const who =
    key === "anonymous"
      ? `INDEXED BY referral_hits_anonymous_id_idx WHERE anonymous_id = ${p(3)}`
      : key === "user"
        ? `INDEXED BY referral_hits_user_created_idx WHERE hit_user_id = ${p(5)}`
        : null;
  const duplicate = who
    ? `(${given} OR EXISTS (SELECT 1 FROM referral_hits ${who} AND link_id = ${p(2)} ` +
      `AND created_at > ${p(20)} AND created_at < ${p(21)} AND duplicate = 0))`
    : `(${given} OR (0 AND ${p(20)} AND ${p(21)}))`; // no lookup; the window's parameters kept in place
  const values = Array.from({ length: 19 }, (_, i) => (i === 15 ? duplicate : p(i + 1)));
  return `SELECT ${values.join(", ")} WHERE true`;
}

function dedupeKeyOf(hit: NewReferralHit, dedupeSeconds: number): DedupeKey {
  if (dedupeSeconds <= 0) return null;
  if (hit.hitUserId) return "user";
  if (hit.anonymousId) return "anonymous";
  return null; // a visitor who did not consent is not recognised: each hit counts
}

/** The 21 values {@link hitSelect} binds for one hit. */
function hitParams(hit: NewReferralHit, dedupeSeconds: number): unknown[] {
  const at = Date.parse(hit.createdAt);
  const windowMs = dedupeSeconds * 1000;
  // A hit written late (a queue retry) is measured against its own time, not the write's: a
  // counted hit less than the window before or after it makes it a duplicate.
  const window =
    dedupeSeconds > 0 && Number.isFinite(at)
      ? [new Date(at - windowMs).toISOString(), new Date(at + windowMs).toISOString()]
      : [null, null];
  return [
    hit.id,
    hit.linkId,
    hit.anonymousId ?? null,
    hit.authenticated ? 1 : 0,
    hit.hitUserId ?? null,
    hit.ip ?? null,
    // A queued hit sent by an older version may carry "" for a missing header: null, as a fresh one.
    hit.userAgent || null,
    hit.httpReferer || null,
    hit.next ?? "",
    hit.country ?? null,
    hit.asn ?? null,
    hit.paidClick ?? null,
    hit.ipHash ?? null,
    hit.ipPrivate ? 1 : 0,
    hit.confirmedAt ?? null,
    hit.duplicate ? 1 : 0,
    hit.consented === false ? 0 : 1,
    hit.createdAt,
    hit.updatedAt,
    ...window,
  ];
}

/**
 * The insert of one hit (docs/data.md#how-hits-are-written), deduplicated in the statement
 * itself. Idempotent by hit id.
 */
export function insertHitSql(key: DedupeKey): string {
  return `INSERT INTO referral_hits (${HIT_COLUMNS}) ${hitSelect(0, key)} ON CONFLICT (id) DO NOTHING`;
}

const INSERT_SQL = {
  anonymous: insertHitSql("anonymous"),
  user: insertHitSql("user"),
  none: insertHitSql(null),
};

/**
 * The one-row insert the referral routes make for every visit, as a plain prepared statement:
 * on the hot path, Drizzle's query building and one-statement batch cost CPU on every hit for
 * nothing (docs/performance.md has the measured figures). `duplicate` is decided inside it.
 * Answers the ids of the `hit.created` webhook events written with it.
 */
export async function insertHit(
  d1: D1Database,
  hit: NewReferralHit,
  dedupeSeconds: number,
): Promise<string[]> {
  const key = dedupeKeyOf(hit, dedupeSeconds);
  const insert = d1.prepare(INSERT_SQL[key ?? "none"]).bind(...hitParams(hit, dedupeSeconds));
  // hit.created webhook events: the same batch when an endpoint may want them (src/webhooks/hit-events.ts).
  const events = hitEventStatements(d1, [hit.id]);
  if (events.length === 0) {
    await insert.run();
    return [];
  }
  const [, ...results] = await d1.batch([insert, ...events]);
  return hitEventsWritten(d1, results);
}

/** D1 binds at most 100 parameters per statement. */
const HITS_PER_STATEMENT = Math.floor(100 / PARAMS_PER_HIT);

/**
 * Inserts hits (the queue consumer's batch), oldest first, chunked under D1's parameter limit and
 * sent as one atomic batch. Idempotent by hit id, so that retrying after an ambiguous failure, or a
 * redelivered queue batch, neither fails nor counts a visit twice. Duplicates are decided as
 * {@link insertHit} decides them: against stored hits inside each statement, and between the
 * hits of this batch here, since the rows of one statement do not see each other.
 */
export async function insertHits(
  db: Database,
  hits: NewReferralHit[],
  dedupeSeconds: number,
): Promise<string[]> {
  const ordered = markDuplicatesAmong(
    [...hits].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)),
    dedupeSeconds,
  );
  const d1 = db.$client;
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < ordered.length; start += HITS_PER_STATEMENT) {
    const chunk = ordered.slice(start, start + HITS_PER_STATEMENT);
    const selects = chunk.map((hit, i) => hitSelect(i * PARAMS_PER_HIT, dedupeKeyOf(hit, dedupeSeconds)));
    const sql = `INSERT INTO referral_hits (${HIT_COLUMNS}) ${selects.join(" UNION ALL ")} ON CONFLICT (id) DO NOTHING`;
    statements.push(d1.prepare(sql).bind(...chunk.flatMap((hit) => hitParams(hit, dedupeSeconds))));
  }
  if (statements.length === 0) return [];
  const events = hitEventStatements(
    d1,
    ordered.map((hit) => hit.id),
  );
  const results = await d1.batch([...statements, ...events]);
  return events.length === 0 ? [] : hitEventsWritten(d1, results.slice(statements.length));
}

/** `hits` (oldest first) with `duplicate` set on those that repeat a counted hit of the same list. */
function markDuplicatesAmong(hits: NewReferralHit[], dedupeSeconds: number): NewReferralHit[] {
  if (dedupeSeconds <= 0) return hits;
  const counted = new Map<string, number>();
  return hits.map((hit) => {
    const who = hit.hitUserId ? `u:${hit.hitUserId}` : hit.anonymousId ? `a:${hit.anonymousId}` : null;
    if (who === null || hit.duplicate) return hit;
    const key = `${hit.linkId} ${who}`;
    const at = Date.parse(hit.createdAt);
    const last = counted.get(key);
    if (last !== undefined && at - last < dedupeSeconds * 1000) return { ...hit, duplicate: true };
    counted.set(key, at);
    return hit;
  });
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
