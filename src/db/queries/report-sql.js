/**
 * The report queries as SQL text with numbered parameters (`?1`, `?2`…), written once and run by
 * every way of reading a report: the Worker binds the parameters with D1 (the API and the
 * dashboard), `npm run report` inlines them as literals for `wrangler d1 execute --command`. Plain
 * JavaScript (types in report-sql.d.ts) because Node 20 runs that script without a build step.
 *
 * The numbers are those of the `link_stats` and `daily_hits` views (src/db/schema.ts), restricted
 * to a period when one is given; docs/reports.md defines them. Days are UTC days. A hit belongs to
 * the day of its `created_at`; a confirmation to the day of its own `created_at`, not its hit's.
 */

/** A visitor: the user when the hit has one, else the browser's anonymous id (as in the views). */
const VISITOR = "COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const LAST_DAY = "9999-12-31";

/**
 * Whether `value` is a calendar day written `YYYY-MM-DD` (`2026-02-30` is not).
 *
 * @example isDay("2026-11-24") // true
 */
export function isDay(value) {
  if (typeof value !== "string" || !DAY.test(value)) return false;
  const date = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/**
 * The day after `day`, or null after 9999-12-31 (ISO timestamps end there, and a five-digit year
 * would sort before every four-digit one).
 */
export function nextDay(day) {
  if (day === LAST_DAY) return null;
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The period as conditions on `created_at`: `>= from` and `< the day after to`. Comparing the
 * column itself (not `substr(created_at, 1, 10)`) lets SQLite search the indexes by time.
 */
function periodConditions(column, period, params) {
  const conditions = [];
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

function where(conditions) {
  return conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
}

function page(options, params) {
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

/**
 * The link report: one row per link, most hits first (ties by identifier). Without a period it is
 * the `link_stats` view itself; with one, the same correlated subqueries restricted to it, each a
 * search of `referral_hits_link_created_idx` by link and time.
 */
export function linkReportQuery(options = {}) {
  const params = [];
  const order = " ORDER BY hits DESC, identifier";
  if (options.from === undefined && options.to === undefined) {
    const sql = `SELECT identifier, user_id, hits, visitors, users, confirmed FROM link_stats${order}`;
    return { sql: sql + page(options, params), params };
  }
  const hitPeriod = periodConditions("h.created_at", options, params).map((c) => ` AND ${c}`);
  const hitsOfLink = `FROM referral_hits h WHERE h.link_id = l.id${hitPeriod.join("")}`;
  // Both bounds were pushed once and are numbered: the confirmations reuse them.
  const confirmedPeriod = hitPeriod.map((c) => c.replace("h.created_at", "c.created_at")).join("");
  const sql =
    "SELECT l.identifier AS identifier, l.user_id AS user_id, " +
    `(SELECT COUNT(*) ${hitsOfLink}) AS hits, ` +
    `(SELECT COUNT(DISTINCT ${VISITOR}) ${hitsOfLink}) AS visitors, ` +
    `(SELECT COUNT(DISTINCT h.hit_user_id) ${hitsOfLink}) AS users, ` +
    `(SELECT COUNT(*) FROM confirmed_referrals c WHERE c.link_id = l.id${confirmedPeriod}) AS confirmed ` +
    `FROM referral_links l${order}`;
  return { sql: sql + page(options, params), params };
}

/**
 * The WHERE conditions on hits (`h`) and confirmations (`c`) for a link (`linkId`) and a period,
 * with their bound parameters.
 */
function scopeConditions(options) {
  const params = [];
  const hitConditions = [];
  const confirmedConditions = [];
  if (options.linkId !== undefined) {
    params.push(options.linkId);
    hitConditions.push(`h.link_id = ?${params.length}`);
    confirmedConditions.push(`c.link_id = ?${params.length}`);
  } else {
    // As the view's join does: a confirmation outlives its deleted link, but not in the reports.
    confirmedConditions.push("c.link_id IN (SELECT id FROM referral_links)");
  }
  const period = periodConditions("h.created_at", options, params);
  hitConditions.push(...period);
  confirmedConditions.push(...period.map((c) => c.replace("h.created_at", "c.created_at")));
  return { params, hitConditions, confirmedConditions };
}

/**
 * Hits, visitors and confirmations per day, oldest first; only days with a hit or a confirmation.
 * For one link (`linkId`) the rows are that link's rows of the `daily_hits` view. Across every link,
 * `hits` and `confirmed` are the sums of the view's rows of the day, and `visitors` counts each
 * visitor once that day, whichever links they used.
 */
export function dailyReportQuery(options = {}) {
  const { params, hitConditions, confirmedConditions } = scopeConditions(options);
  const sql =
    "SELECT day, SUM(hits) AS hits, SUM(visitors) AS visitors, SUM(confirmed) AS confirmed FROM (" +
    `SELECT substr(h.created_at, 1, 10) AS day, COUNT(*) AS hits, COUNT(DISTINCT ${VISITOR}) AS visitors, ` +
    `0 AS confirmed FROM referral_hits h${where(hitConditions)} GROUP BY 1 ` +
    "UNION ALL SELECT substr(c.created_at, 1, 10), 0, 0, COUNT(*) " +
    `FROM confirmed_referrals c${where(confirmedConditions)} GROUP BY 1` +
    ") GROUP BY day ORDER BY day";
  return { sql, params };
}

/**
 * One row of totals for a period (and a link): hits, distinct visitors and users over the whole
 * period, and confirmations, as one `link_stats` row would count them.
 */
export function totalsQuery(options = {}) {
  const { params, hitConditions, confirmedConditions } = scopeConditions(options);
  const hits = `FROM referral_hits h${where(hitConditions)}`;
  const sql =
    `SELECT (SELECT COUNT(*) ${hits}) AS hits, (SELECT COUNT(DISTINCT ${VISITOR}) ${hits}) AS visitors, ` +
    `(SELECT COUNT(DISTINCT h.hit_user_id) ${hits}) AS users, ` +
    `(SELECT COUNT(*) FROM confirmed_referrals c${where(confirmedConditions)}) AS confirmed`;
  return { sql, params };
}

/** An SQL literal: a number as it is, text quoted with its quotes doubled, null as NULL. */
export function sqlLiteral(value) {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * The query as one self-contained statement, for `wrangler d1 execute --command`, which takes no
 * parameters. The SQL above never puts `?` inside a string literal, so the replacement is exact.
 */
export function inlineParams(query) {
  return query.sql.replace(/\?(\d+)/g, (_, n) => sqlLiteral(query.params[Number(n) - 1]));
}
