/**
 * Reports: the numbers of the `link_stats` and `daily_hits` views, over a period when one is given
 * (docs/reports.md). The SQL lives in report-sql.js, shared with `npm run report`.
 */
import { and, count, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Database } from "../client";
import { type ReferralHit, referralHits, referralLinks } from "../schema";
import { type HitCursor, newestFirstAfter } from "./hits";
import type { LinkStats } from "./links";
import {
  dailyReportQuery,
  linkReportQuery,
  nextDay,
  type Period,
  type ReportQuery,
  totalsQuery,
} from "./report-sql.js";

export type { Period } from "./report-sql.js";

/** A row of the link report: a `link_stats` row, restricted to the period if one is given. */
export interface LinkReportRow {
  identifier: string;
  user_id: string | null;
  hits: number;
  visitors: number;
  users: number;
  confirmed: number;
}

/** A row of the daily report: a day with at least one hit or confirmation. */
export interface DailyReportRow {
  day: string;
  hits: number;
  visitors: number;
  confirmed: number;
}

/** The totals of a period: the same four numbers as one link's {@link LinkStats}. */
export type ReportTotals = LinkStats;

async function run<T>(db: Database, query: ReportQuery): Promise<T[]> {
  const { results } = await db.$client
    .prepare(query.sql)
    .bind(...query.params)
    .all<T>();
  return results;
}

/** Every link, most hits first (ties by identifier); `limit`/`offset` page through them. */
export function linkReport(
  db: Database,
  options: Period & { limit?: number; offset?: number } = {},
): Promise<LinkReportRow[]> {
  return run<LinkReportRow>(db, linkReportQuery(options));
}

/** Per day, oldest first, for one link (`linkId`) or across every link. */
export function dailyReport(
  db: Database,
  options: Period & { linkId?: number } = {},
): Promise<DailyReportRow[]> {
  return run<DailyReportRow>(db, dailyReportQuery(options));
}

/** The period's totals, for one link or every link; visitors and users counted once each. */
export async function reportTotals(db: Database, options: Period & { linkId?: number } = {}) {
  const [row] = await run<ReportTotals>(db, totalsQuery(options));
  return row ?? { hits: 0, visitors: 0, users: 0, confirmed: 0 };
}

export async function countLinks(db: Database): Promise<number> {
  const [row] = await db.select({ n: count() }).from(referralLinks);
  return row?.n ?? 0;
}

export type RecentHit = ReferralHit & { identifier: string };

/**
 * The newest hits of the period (of one link, or of all), strictly after `cursor` in
 * newest-first order. Across links this walks `referral_hits_created_idx` backwards and stops
 * after `limit` rows.
 */
export async function recentHits(db: Database, options: RecentHitsOptions): Promise<RecentHit[]> {
  const rows = await recentHitsQuery(db, options);
  return rows.map(({ hit, identifier }) => ({ ...hit, identifier }));
}

export interface RecentHitsOptions extends Period {
  linkId?: number;
  cursor?: HitCursor;
  limit: number;
}

/** The query of {@link recentHits}, unrun (the query-plan tests read its SQL). */
export function recentHitsQuery(db: Database, options: RecentHitsOptions) {
  const conditions: (SQL | undefined)[] = [];
  if (options.linkId !== undefined) conditions.push(eq(referralHits.linkId, options.linkId));
  if (options.from !== undefined) conditions.push(gte(referralHits.createdAt, options.from));
  const end = options.to === undefined ? null : nextDay(options.to);
  if (end !== null) conditions.push(lt(referralHits.createdAt, end));
  conditions.push(newestFirstAfter(options.cursor));
  return db
    .select({ hit: referralHits, identifier: referralLinks.identifier })
    .from(referralHits)
    .innerJoin(referralLinks, eq(referralLinks.id, referralHits.linkId))
    .where(and(...conditions))
    .orderBy(desc(referralHits.createdAt), desc(referralHits.id))
    .limit(options.limit);
}
