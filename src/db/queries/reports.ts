/**
 * Reports: the numbers of the `link_stats` and `daily_hits` views, over a period when one is given,
 * and of the money views `link_revenue` and `referrer_earnings` (docs/reports.md). The SQL lives in
 * report-sql.ts, shared with `npm run report`.
 */
import { and, count, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Database } from "../client";
import { type ReferralHit, referralHits, referralLinks } from "../schema";
import { type HitCursor, newestFirstAfter } from "./hits";
import type { LinkStats } from "./links";
import {
  dailyReportQuery,
  earningsReportQuery,
  earningsTotalsQuery,
  linkReportQuery,
  nextDay,
  type Period,
  type ReportQuery,
  revenueReportQuery,
  revenueTotalsQuery,
  totalsQuery,
} from "./report-sql";

export type { Period } from "./report-sql";

/** A row of the link report: a `link_stats` row, restricted to the period if one is given. */
export interface LinkReportRow {
  identifier: string;
  user_id: string | null;
  hits: number;
  /** Hits that are not duplicates (`DEDUPE_SECONDS`). */
  unique_hits: number;
  /** Null when one of the link's days in the period is archived. */
  visitors: number | null;
  users: number | null;
  confirmed: number;
}

/** A row of the daily report: a day with at least one hit or confirmation. */
export interface DailyReportRow {
  day: string;
  hits: number;
  /** Hits that are not duplicates (`DEDUPE_SECONDS`). */
  unique_hits: number;
  /** Null for an archived day. */
  visitors: number | null;
  confirmed: number;
}

/** The totals of a period: the same numbers as one link's {@link LinkStats}. */
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
  return row ?? { hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 };
}

/** Revenue and commission of a link in one currency (a `link_revenue` row); minor units. */
export interface RevenueRow {
  identifier: string;
  currency: string;
  conversions: number;
  revenue: number;
  commission: number;
}

/** Revenue and commission in one currency, across links or of one. */
export type RevenueTotals = Omit<RevenueRow, "identifier">;

/** A referrer's earnings in one currency (a `referrer_earnings` row) and what is due now. */
export interface EarningsRow {
  referrer_user_id: string;
  currency: string;
  pending: number;
  approved: number;
  paid: number;
  reversed: number;
  due: number;
}

/** Every referrer's earnings in one currency. */
export type EarningsTotals = Omit<EarningsRow, "referrer_user_id">;

/** Per link and currency, by identifier then currency; `identifiers` keeps only those links. */
export function revenueReport(
  db: Database,
  options: Period & { identifiers?: readonly string[] } = {},
): Promise<RevenueRow[]> {
  return run<RevenueRow>(db, revenueReportQuery(options));
}

/** Per currency, of every link or of one (`linkId`). */
export function revenueTotals(
  db: Database,
  options: Period & { linkId?: number } = {},
): Promise<RevenueTotals[]> {
  return run<RevenueTotals>(db, revenueTotalsQuery(options));
}

/** Per referrer and currency, as of now, by referrer then currency. */
export function earningsReport(
  db: Database,
  options: { limit?: number; offset?: number } = {},
): Promise<EarningsRow[]> {
  return run<EarningsRow>(db, earningsReportQuery(options));
}

/** Per currency, every referrer's earnings summed. */
export function earningsTotals(db: Database): Promise<EarningsTotals[]> {
  return run<EarningsTotals>(db, earningsTotalsQuery());
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
