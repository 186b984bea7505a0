/**
 * The report queries as SQL text with numbered parameters (`?1`, `?2`…), written once and run by
 * every way of reading a report: the Worker binds the parameters with D1 (the API and the
 * dashboard), `npm run report` inlines them as literals for `wrangler d1 execute --command` (it
 * loads this module through esbuild: scripts/lib/import-worker-module.mjs).
 *
 * The numbers are those of the `link_stats` and `daily_hits` views (src/db/schema.ts), and of the
 * money views `link_revenue` and `referrer_earnings`, restricted to a period when one is given;
 * docs/reports.md defines them. Days are UTC days. A hit belongs to
 * the day of its `created_at`; a confirmation to the day of its own `created_at`, not its hit's.
 */

import { addDays } from "../../lib/days";
import { readsApproved } from "./hold-sql";

/** SQL text with numbered parameters `?1`, `?2`… and their values, in order. */
export interface ReportQuery {
  sql: string;
  params: (string | number)[];
}

/** Days `YYYY-MM-DD` (UTC), both included; either may be left open. */
export interface Period {
  from?: string;
  to?: string;
}

/** A page of rows. */
interface Paging {
  limit?: number;
  offset?: number;
}

/** A period, of one link's rows when `linkId` is given. */
type Scope = Period & { linkId?: number };

/** The bound parameters of a query being built: each condition pushes its own. */
type Params = (string | number)[];

/** A visitor: the user when the hit has one, else the browser's anonymous id (as in the views). */
const VISITOR = "COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const LAST_DAY = "9999-12-31";

/**
 * Whether `value` is a calendar day written `YYYY-MM-DD` (`2026-02-30` is not).
 *
 * @example isDay("2026-11-24") // true
 */
export function isDay(value: unknown): value is string {
  if (typeof value !== "string" || !DAY.test(value)) return false;
  const date = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/**
 * The day after `day`, or null after 9999-12-31 (ISO timestamps end there, and a five-digit year
 * would sort before every four-digit one).
 */
export function nextDay(day: string): string | null {
  if (day === LAST_DAY) return null;
  return addDays(day, 1);
}

/**
 * The period as conditions on `created_at`: `>= from` and `< the day after to`. Comparing the
 * column itself (not `substr(created_at, 1, 10)`) lets SQLite search the indexes by time.
 */
function periodConditions(column: string, period: Period, params: Params): string[] {
  const conditions: string[] = [];
  if (period.from !== undefined) {
    params.push(period.from);
    conditions.push(`${column} >= ?${params.length}`);
  }
  const end = period.to === undefined ? null : nextDay(period.to);
  if (end !== null) {
    params.push(end);
    conditions.push(`${column} < ?${params.length}`);
  }
  return conditions;
}

function where(conditions: string[]): string {
  return conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
}

function page(options: Paging, params: Params): string {
  let sql = "";
  if (options.limit !== undefined) {
    params.push(options.limit);
    sql += ` LIMIT ?${params.length}`;
    if (options.offset !== undefined) {
      params.push(options.offset);
      sql += ` OFFSET ?${params.length}`;
    }
  }
  return sql;
}

/** The period as conditions on a `YYYY-MM-DD` column (`link_daily_totals.day`, `archived_days.day`). */
function dayConditions(column: string, period: Period, params: Params): string[] {
  const conditions: string[] = [];
  if (period.from !== undefined) {
    params.push(period.from);
    conditions.push(`${column} >= ?${params.length}`);
  }
  if (period.to !== undefined) {
    params.push(period.to);
    conditions.push(`${column} <= ?${params.length}`);
  }
  return conditions;
}

/**
 * The link report: one row per link, most hits first (ties by identifier). Without a period it is
 * the `link_stats` view itself; with one, the same numbers restricted to it: `hits`, `unique_hits`
 * and `confirmed` summed from the link's `link_daily_totals` rows of the period (O(days)),
 * `visitors` and `users` counted over its hits in D1 (a search of
 * `referral_hits_link_created_idx` by link and time), null when one of the link's days in the
 * period is archived (docs/scaling.md).
 */
export function linkReportQuery(options: Period & Paging = {}): ReportQuery {
  const params: Params = [];
  const order = " ORDER BY hits DESC, identifier";
  if (options.from === undefined && options.to === undefined) {
    const sql = `SELECT identifier, user_id, hits, unique_hits, visitors, users, confirmed FROM link_stats${order}`;
    return { sql: sql + page(options, params), params };
  }
  const days = dayConditions("t.day", options, params)
    .map((c) => ` AND ${c}`)
    .join("");
  const hitsOfLink = `FROM referral_hits h WHERE h.link_id = l.id${periodConditions(
    "h.created_at",
    options,
    params,
  )
    .map((c) => ` AND ${c}`)
    .join("")}`;
  const totals = (column: string) =>
    `(SELECT COALESCE(SUM(t.${column}), 0) FROM link_daily_totals t WHERE t.link_id = l.id${days})`;
  const archived =
    "EXISTS (SELECT 1 FROM link_daily_totals t JOIN archived_days a ON a.day = t.day " +
    `WHERE t.link_id = l.id AND t.hits > 0${days})`;
  const sql =
    "SELECT l.identifier AS identifier, l.user_id AS user_id, " +
    `${totals("hits")} AS hits, ${totals("unique_hits")} AS unique_hits, ` +
    `CASE WHEN ${archived} THEN NULL ELSE (SELECT COUNT(DISTINCT ${VISITOR}) ${hitsOfLink}) END AS visitors, ` +
    `CASE WHEN ${archived} THEN NULL ELSE (SELECT COUNT(DISTINCT h.hit_user_id) ${hitsOfLink}) END AS users, ` +
    `${totals("confirmed")} AS confirmed ` +
    `FROM referral_links l${order}`;
  return { sql: sql + page(options, params), params };
}

/**
 * The conditions on totals (`t`), hits (`h`) and archived days (`a`) for a link (`linkId`) and a
 * period, with their bound parameters.
 */
function scopeConditions(options: Scope) {
  const params: Params = [];
  const totalConditions: string[] = [];
  const hitConditions: string[] = [];
  if (options.linkId !== undefined) {
    params.push(options.linkId);
    totalConditions.push(`t.link_id = ?${params.length}`);
    hitConditions.push(`h.link_id = ?${params.length}`);
  }
  const days = dayConditions("t.day", options, params);
  totalConditions.push(...days);
  const archivedConditions = days.map((c) => c.replace("t.day", "a.day"));
  hitConditions.push(...periodConditions("h.created_at", options, params));
  return { params, totalConditions, hitConditions, archivedConditions };
}

/**
 * Hits, visitors and confirmations per day, oldest first; only days with a hit or a confirmation.
 * `hits`, `unique_hits` and `confirmed` are sums of the day's `link_daily_totals` rows (of one
 * link, `linkId`, or of all); `visitors` counts each visitor once that day, whichever links they
 * used, over the day's hits in D1: null for an archived day.
 */
export function dailyReportQuery(options: Period & { linkId?: number } = {}): ReportQuery {
  const params: Params = [];
  const totalConditions: string[] = [];
  if (options.linkId !== undefined) {
    params.push(options.linkId);
    totalConditions.push("t.link_id = ?1");
  }
  totalConditions.push(...dayConditions("t.day", options, params));
  const link = options.linkId === undefined ? "" : " AND h.link_id = ?1";
  const sql =
    "SELECT t.day AS day, SUM(t.hits) AS hits, SUM(t.unique_hits) AS unique_hits, " +
    "CASE WHEN EXISTS (SELECT 1 FROM archived_days a WHERE a.day = t.day) THEN NULL " +
    `ELSE (SELECT COUNT(DISTINCT ${VISITOR}) FROM referral_hits h WHERE h.created_at >= t.day ` +
    `AND h.created_at < date(t.day, '+1 day')${link}) END AS visitors, ` +
    `SUM(t.confirmed) AS confirmed FROM link_daily_totals t${where(totalConditions)} ` +
    "GROUP BY t.day HAVING SUM(t.hits) > 0 OR SUM(t.confirmed) > 0 ORDER BY t.day";
  return { sql, params };
}

/**
 * One row of totals for a period (and a link): hits and confirmations summed from
 * `link_daily_totals`; distinct visitors and users over the period's hits in D1, as one
 * `link_stats` row would count them, or null when a day of the period with hits is archived.
 */
export function totalsQuery(options: Period & { linkId?: number } = {}): ReportQuery {
  const { params, totalConditions, hitConditions, archivedConditions } = scopeConditions(options);
  const totals = `FROM link_daily_totals t${where(totalConditions)}`;
  const hits = `FROM referral_hits h${where(hitConditions)}`;
  // An archived day counts when this scope has hits on it.
  const archived =
    `EXISTS (SELECT 1 FROM archived_days a JOIN link_daily_totals t2 ON t2.day = a.day AND t2.hits > 0` +
    `${options.linkId === undefined ? "" : ` AND t2.link_id = ?1`}${where(archivedConditions)})`;
  const sql =
    `SELECT (SELECT COALESCE(SUM(t.hits), 0) ${totals}) AS hits, ` +
    `(SELECT COALESCE(SUM(t.unique_hits), 0) ${totals}) AS unique_hits, ` +
    `CASE WHEN ${archived} THEN NULL ELSE (SELECT COUNT(DISTINCT ${VISITOR}) ${hits}) END AS visitors, ` +
    `CASE WHEN ${archived} THEN NULL ELSE (SELECT COUNT(DISTINCT h.hit_user_id) ${hits}) END AS users, ` +
    `(SELECT COALESCE(SUM(t.confirmed), 0) ${totals}) AS confirmed`;
  return { sql, params };
}

// ——— money (docs/reports.md#money) ———
//
// Amounts are integers of the currency's minor unit, and every number below is per currency: no
// query adds amounts of two currencies together.

/** The moment of reading, written as stored timestamps are (as the money views compare it). */
const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/** Revenue and commission of conversions, as the `link_revenue` view sums them. */
const REVENUE_COLUMNS =
  "COUNT(*) AS conversions, SUM(c.amount - c.reversed_amount) AS revenue, SUM(c.commission) AS commission";

/**
 * Revenue and commission per link and currency, by identifier then currency. Without options it
 * is the `link_revenue` view itself; with a period, the view's sums over the conversions whose
 * `created_at` is in it (each with what is left of it after every reversal, whenever made).
 * `identifiers` keeps only those links. A conversion of a deleted link is in no row, as in the view.
 */
export function revenueReportQuery(options: Period & { identifiers?: readonly string[] } = {}): ReportQuery {
  const params: Params = [];
  const order = " ORDER BY identifier, currency";
  const identifiers = options.identifiers;
  if (options.from === undefined && options.to === undefined && identifiers === undefined) {
    const sql = `SELECT identifier, currency, conversions, revenue, commission FROM link_revenue${order}`;
    return { sql, params };
  }
  const conditions = periodConditions("c.created_at", options, params);
  if (identifiers !== undefined) {
    if (identifiers.length === 0) conditions.push("0");
    const numbers = identifiers.map((identifier) => {
      params.push(identifier);
      return `?${params.length}`;
    });
    if (numbers.length > 0) conditions.push(`l.identifier IN (${numbers.join(", ")})`);
  }
  const sql =
    `SELECT l.identifier AS identifier, c.currency AS currency, ${REVENUE_COLUMNS} ` +
    `FROM conversions c JOIN referral_links l ON l.id = c.link_id${where(conditions)} ` +
    `GROUP BY c.link_id, c.currency${order}`;
  return { sql, params };
}

/**
 * Revenue and commission per currency across links (or of one, `linkId`), over a period: the sums
 * of {@link revenueReportQuery}'s rows of each currency. Conversions of deleted links are left out.
 */
export function revenueTotalsQuery(options: Period & { linkId?: number } = {}): ReportQuery {
  const params: Params = [];
  const conditions: string[] = [];
  if (options.linkId !== undefined) {
    params.push(options.linkId);
    conditions.push(`c.link_id = ?${params.length}`);
  } else {
    conditions.push("c.link_id IN (SELECT id FROM referral_links)");
  }
  conditions.push(...periodConditions("c.created_at", options, params));
  const sql =
    `SELECT c.currency AS currency, ${REVENUE_COLUMNS} FROM conversions c${where(conditions)} ` +
    "GROUP BY c.currency ORDER BY currency";
  return { sql, params };
}

/**
 * What a payout would pay now (`GET /payouts/due`), per referrer and currency, as of the moment of
 * reading: the approved commissions not yet paid less the clawbacks not yet settled, only where
 * that is above 0, with the counts of each. The one definition of "due" outside the payout batch
 * itself (src/db/queries/payouts.ts), which must decide inside its transaction.
 */
const DUE =
  "SELECT d.referrer_user_id AS referrer_user_id, d.currency AS currency, SUM(d.amount) AS amount, " +
  "SUM(d.conversions) AS conversions, SUM(d.clawbacks) AS clawbacks FROM (" +
  "SELECT c.referrer_user_id AS referrer_user_id, c.currency AS currency, c.commission AS amount, " +
  "1 AS conversions, 0 AS clawbacks " +
  "FROM conversions c WHERE c.referrer_user_id IS NOT NULL AND c.payout_id IS NULL AND c.commission > 0 " +
  `AND ${readsApproved("c", NOW)} ` +
  "UNION ALL SELECT c.referrer_user_id, c.currency, r.commission_delta, 0, 1 " +
  "FROM reversals r JOIN conversions c ON c.id = r.conversion_id " +
  "WHERE c.referrer_user_id IS NOT NULL AND r.clawback = 1 AND r.payout_id IS NULL" +
  ") d GROUP BY d.referrer_user_id, d.currency HAVING SUM(d.amount) > 0";

/** {@link DUE}, optionally of one currency, by referrer then currency. */
export function dueQuery(options: { currency?: string } = {}): ReportQuery {
  const params: Params = [];
  let sql = `SELECT * FROM (${DUE})`;
  if (options.currency !== undefined) {
    sql += " WHERE currency = ?";
    params.push(options.currency);
  }
  return { sql: `${sql} ORDER BY referrer_user_id, currency`, params };
}

/**
 * Each referrer's earnings per currency, as of the moment of reading, by referrer then currency:
 * the rows of the `referrer_earnings` view, each with `due`, what a payout would pay now (0 when
 * nothing is due). Not over a period: a commission's status is a state, not an event of a day.
 */
export function earningsReportQuery(options: Paging = {}): ReportQuery {
  const params: Params = [];
  const sql =
    "SELECT e.referrer_user_id AS referrer_user_id, e.currency AS currency, e.pending AS pending, " +
    "e.approved AS approved, e.paid AS paid, e.reversed AS reversed, COALESCE(d.amount, 0) AS due " +
    `FROM referrer_earnings e LEFT JOIN (${DUE}) d ` +
    "ON d.referrer_user_id = e.referrer_user_id AND d.currency = e.currency " +
    "ORDER BY e.referrer_user_id, e.currency";
  return { sql: sql + page(options, params), params };
}

/** The earnings of every referrer summed per currency (what is due to everyone, in each currency). */
export function earningsTotalsQuery(): ReportQuery {
  const { sql, params } = earningsReportQuery();
  return {
    sql:
      "SELECT currency, SUM(pending) AS pending, SUM(approved) AS approved, SUM(paid) AS paid, " +
      `SUM(reversed) AS reversed, SUM(due) AS due FROM (${sql}) GROUP BY currency ORDER BY currency`,
    params,
  };
}

/** Digits after the decimal point of a currency (2 for EUR, 0 for JPY, 3 for KWD); 2 if unknown. */
export function minorDigits(currency: string): number {
  try {
    const digits = new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
    return digits !== undefined && Number.isInteger(digits) ? digits : 2;
  } catch {
    return 2;
  }
}

/**
 * An amount of minor units as people read it in its currency, without the currency:
 * `formatMinor(1234567, "EUR")` is `12,345.67`, `formatMinor(1500, "JPY")` is `1,500`. Exact:
 * the integer's digits are placed, never divided as a float.
 */
export function formatMinor(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  const text = String(Math.abs(amount)).padStart(digits + 1, "0");
  const whole = text.slice(0, text.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = digits > 0 ? `.${text.slice(text.length - digits)}` : "";
  return `${amount < 0 ? "-" : ""}${whole}${fraction}`;
}

/** An SQL literal: a number as it is, text quoted with its quotes doubled, null as NULL. */
export function sqlLiteral(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * The query as one self-contained statement, for `wrangler d1 execute --command`, which takes no
 * parameters. The SQL above never puts `?` inside a string literal, so the replacement is exact.
 */
export function inlineParams(query: ReportQuery): string {
  return query.sql.replace(/\?(\d+)/g, (_, n) => sqlLiteral(query.params[Number(n) - 1]));
}
