/**
 * The report queries as SQL text with numbered parameters (`?1`, `?2`…), written once and run by
 * every way of reading a report: the Worker binds the parameters with D1 (the API and the
 * dashboard), `npm run report` inlines them as literals for `wrangler d1 execute --command`. Plain
 * JavaScript (types in report-sql.d.ts) because Node 20 runs that script without a build step.
 *
 * The numbers are those of the `link_stats` and `daily_hits` views (src/db/schema.ts), and of the
 * money views `link_revenue` and `referrer_earnings`, restricted to a period when one is given;
 * docs/reports.md defines them. Days are UTC days. A hit belongs to
 * the day of its `created_at`; a confirmation to the day of its own `created_at`, not its hit's.
 */

/** A visitor: the user when the hit has one, else the browser's anonymous id (as in the views). */
const VISITOR = "COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)";

/** Hits that are not duplicates (`DEDUPE_SECONDS`), as the views' `unique_hits` counts them. */
const UNIQUE = "COALESCE(SUM(CASE WHEN h.duplicate = 0 THEN 1 ELSE 0 END), 0)";

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
    const sql = `SELECT identifier, user_id, hits, unique_hits, visitors, users, confirmed FROM link_stats${order}`;
    return { sql: sql + page(options, params), params };
  }
  const hitPeriod = periodConditions("h.created_at", options, params).map((c) => ` AND ${c}`);
  const hitsOfLink = `FROM referral_hits h WHERE h.link_id = l.id${hitPeriod.join("")}`;
  // Both bounds were pushed once and are numbered: the confirmations reuse them.
  const confirmedPeriod = hitPeriod.map((c) => c.replace("h.created_at", "c.created_at")).join("");
  const sql =
    "SELECT l.identifier AS identifier, l.user_id AS user_id, " +
    `(SELECT COUNT(*) ${hitsOfLink}) AS hits, ` +
    `(SELECT COUNT(*) ${hitsOfLink} AND h.duplicate = 0) AS unique_hits, ` +
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
    "SELECT day, SUM(hits) AS hits, SUM(unique_hits) AS unique_hits, SUM(visitors) AS visitors, " +
    "SUM(confirmed) AS confirmed FROM (" +
    `SELECT substr(h.created_at, 1, 10) AS day, COUNT(*) AS hits, ${UNIQUE} AS unique_hits, ` +
    `COUNT(DISTINCT ${VISITOR}) AS visitors, ` +
    `0 AS confirmed FROM referral_hits h${where(hitConditions)} GROUP BY 1 ` +
    "UNION ALL SELECT substr(c.created_at, 1, 10), 0, 0, 0, COUNT(*) " +
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
    `SELECT (SELECT COUNT(*) ${hits}) AS hits, (SELECT ${UNIQUE} ${hits}) AS unique_hits, ` +
    `(SELECT COUNT(DISTINCT ${VISITOR}) ${hits}) AS visitors, ` +
    `(SELECT COUNT(DISTINCT h.hit_user_id) ${hits}) AS users, ` +
    `(SELECT COUNT(*) FROM confirmed_referrals c${where(confirmedConditions)}) AS confirmed`;
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
export function revenueReportQuery(options = {}) {
  const params = [];
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
export function revenueTotalsQuery(options = {}) {
  const params = [];
  const conditions = [];
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
  `AND (c.status = 'approved' OR (c.status = 'pending' AND c.approve_at <= ${NOW})) ` +
  "UNION ALL SELECT c.referrer_user_id, c.currency, r.commission_delta, 0, 1 " +
  "FROM reversals r JOIN conversions c ON c.id = r.conversion_id " +
  "WHERE c.referrer_user_id IS NOT NULL AND r.clawback = 1 AND r.payout_id IS NULL" +
  ") d GROUP BY d.referrer_user_id, d.currency HAVING SUM(d.amount) > 0";

/** {@link DUE}, optionally of one currency, by referrer then currency. */
export function dueQuery(options = {}) {
  const params = [];
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
export function earningsReportQuery(options = {}) {
  const params = [];
  const sql =
    "SELECT e.referrer_user_id AS referrer_user_id, e.currency AS currency, e.pending AS pending, " +
    "e.approved AS approved, e.paid AS paid, e.reversed AS reversed, COALESCE(d.amount, 0) AS due " +
    `FROM referrer_earnings e LEFT JOIN (${DUE}) d ` +
    "ON d.referrer_user_id = e.referrer_user_id AND d.currency = e.currency " +
    "ORDER BY e.referrer_user_id, e.currency";
  return { sql: sql + page(options, params), params };
}

/** The earnings of every referrer summed per currency (what is due to everyone, in each currency). */
export function earningsTotalsQuery() {
  const { sql, params } = earningsReportQuery();
  return {
    sql:
      "SELECT currency, SUM(pending) AS pending, SUM(approved) AS approved, SUM(paid) AS paid, " +
      `SUM(reversed) AS reversed, SUM(due) AS due FROM (${sql}) GROUP BY currency ORDER BY currency`,
    params,
  };
}

/** Digits after the decimal point of a currency (2 for EUR, 0 for JPY, 3 for KWD); 2 if unknown. */
export function minorDigits(currency) {
  try {
    const digits = new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
    return Number.isInteger(digits) ? digits : 2;
  } catch {
    return 2;
  }
}

/**
 * An amount of minor units as people read it in its currency, without the currency:
 * `formatMinor(1234567, "EUR")` is `12,345.67`, `formatMinor(1500, "JPY")` is `1,500`. Exact:
 * the integer's digits are placed, never divided as a float.
 */
export function formatMinor(amount, currency) {
  const digits = minorDigits(currency);
  const text = String(Math.abs(amount)).padStart(digits + 1, "0");
  const whole = text.slice(0, text.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = digits > 0 ? `.${text.slice(text.length - digits)}` : "";
  return `${amount < 0 ? "-" : ""}${whole}${fraction}`;
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
