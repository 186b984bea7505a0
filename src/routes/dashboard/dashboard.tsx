/**
 * `GET /_reflinks/dashboard`: one server-rendered page of the reports (the same queries as
 * `/_reflinks/reports/*`) for a person with the API token: HTTP Basic, the token as the password.
 * Money is per currency everywhere on it: revenue and commission per link over the period, and
 * each referrer's earnings and what is due, as of now.
 *
 * Query: `from`, `to` (days, default the last 30 days), `link` (narrow to one link), `page` (of the
 * links table), `hits` (cursor of the recent hits).
 */
import { Hono } from "hono";
import type { HonoEnv } from "../../app-env";
import { findLinkTarget } from "../../db/queries/links";
import { nextDay } from "../../db/queries/report-sql.js";
import {
  countLinks,
  dailyReport,
  earningsReport,
  earningsTotals,
  linkReport,
  recentHits,
  reportTotals,
  revenueReport,
  revenueTotals,
} from "../../db/queries/reports";
import { ApiError } from "../../errors";
import { errorMessage, log } from "../../lib/log";
import { requestIdOf } from "../../lib/request-id";
import { decodeHitCursor, encodeHitCursor, queryOf, validate } from "../api/input";
import { periodOf } from "../api/reports";
import { dashboardQuery } from "../api/schemas";
import type { ChartDay } from "./chart";
import { DashboardPage } from "./page";

export const LINKS_PER_PAGE = 25;
export const HITS_PER_PAGE = 20;
/** Earnings rows shown (by referrer, then currency); the API and `npm run report` have them all. */
export const EARNINGS_ROWS = 100;
const DEFAULT_DAYS = 30;
/** One bar a day: a longer period would make bars thinner than a pixel. */
export const MAX_DAYS = 366;

/**
 * No script runs on this page and nothing may load from elsewhere: with the user agents and
 * referers of strangers on it, an escaping mistake must still not run anything.
 */
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; " +
    "base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
} as const;

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, both included. */
function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day: string | null = from; day !== null && day <= to; day = nextDay(day)) days.push(day);
  return days;
}

/** The period shown: the one asked for, completed with defaults, at most {@link MAX_DAYS} days. */
export function resolvePeriod(asked: { from?: string; to?: string }, today: string) {
  let { from, to } = asked;
  if (from === undefined && to === undefined) to = today;
  if (to === undefined) to = from !== undefined && from > today ? from : today;
  if (from === undefined) from = addDays(to, 1 - DEFAULT_DAYS);
  if (addDays(from, MAX_DAYS - 1) < to) {
    throw new ApiError("validation_failed", `The period is at most ${MAX_DAYS} days; choose a later from.`);
  }
  return { from, to };
}

export const dashboard = new Hono<HonoEnv>();

dashboard.use(async function dashboardHeaders(c, next) {
  await next();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
});

dashboard.get("/", async (c) => {
  const query = queryOf(c);
  const today = new Date().toISOString().slice(0, 10);
  const { from, to } = resolvePeriod(periodOf(query), today);
  const options = validate(dashboardQuery, query);
  const page = options.page ?? 1;
  const cursor = options.hits === undefined ? undefined : decodeHitCursor(options.hits);

  let linkId: number | undefined;
  if (options.link !== undefined) {
    const target = await findLinkTarget(c.var.db, options.link);
    if (!target) throw new ApiError("not_found", `No link "${options.link}".`);
    linkId = target.id;
  }

  const db = c.var.db;
  const [totals, daily, [links, linkRevenue], linkCount, hits, money, earnings, owed] = await Promise.all([
    reportTotals(db, { from, to, linkId }),
    dailyReport(db, { from, to, linkId }),
    // The revenue of the links on this page only, once they are known.
    linkReport(db, { from, to, limit: LINKS_PER_PAGE, offset: (page - 1) * LINKS_PER_PAGE }).then(
      async (rows) =>
        [
          rows,
          await revenueReport(db, { from, to, identifiers: rows.map((row) => row.identifier) }),
        ] as const,
    ),
    countLinks(db),
    recentHits(db, { from, to, linkId, cursor, limit: HITS_PER_PAGE + 1 }),
    revenueTotals(db, { from, to, linkId }),
    earningsReport(db, { limit: EARNINGS_ROWS + 1 }),
    earningsTotals(db),
  ]);

  const byDay = new Map(daily.map((row) => [row.day, row]));
  const days: ChartDay[] = daysOf(from, to).map((day) => ({
    day,
    hits: byDay.get(day)?.hits ?? 0,
    confirmed: byDay.get(day)?.confirmed ?? 0,
  }));
  const shownHits = hits.slice(0, HITS_PER_PAGE);
  const lastHit = shownHits.at(-1);
  const current: Record<string, string> = { from, to };
  if (options.link) current.link = options.link;
  if (page > 1) current.page = String(page);
  if (options.hits) current.hits = options.hits;

  const html = (
    <DashboardPage
      view={{
        from,
        to,
        link: options.link ?? null,
        totals,
        days,
        links,
        linkRevenue,
        revenueTotals: money,
        earnings: earnings.slice(0, EARNINGS_ROWS),
        moreEarnings: earnings.length > EARNINGS_ROWS,
        earningsTotals: owed,
        linkCount,
        page,
        pageCount: Math.max(1, Math.ceil(linkCount / LINKS_PER_PAGE)),
        hits: shownHits,
        olderHits: cursor !== undefined,
        nextHitsCursor: hits.length > HITS_PER_PAGE && lastHit ? encodeHitCursor(lastHit) : null,
        quickPeriods: [7, 30, 90, 365].map((n) => ({
          label: `Last ${n} days`,
          from: addDays(today, 1 - n),
          to: today,
        })),
        href: (changes) => {
          const params = new URLSearchParams(current);
          for (const [name, value] of Object.entries(changes)) {
            if (value === null) params.delete(name);
            else params.set(name, value);
          }
          return `?${params}`;
        },
      }}
    />
  );
  return c.html(`<!doctype html>${html}`);
});

/** Errors of the page as a page: a person reads them, not a program. */
dashboard.onError((error, c) => {
  const known = error instanceof ApiError;
  const requestId = requestIdOf(c.req.raw);
  if (!known)
    log("error", "dashboard_unhandled_error", { request_id: requestId, error: errorMessage(error) });
  const status = known ? error.status : 500;
  const message = known ? error.message : "Internal error.";
  c.header("Cache-Control", "no-store");
  return c.html(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>reflinks dashboard: error</title>
      </head>
      <body>
        <h1>{status === 404 ? "Not found" : status === 422 ? "Invalid request" : "Error"}</h1>
        <p data-error={known ? error.code : "internal_error"}>{message}</p>
        <p>
          Request id: <code data-request-id>{requestId}</code>
        </p>
        <p>
          <a href="?">Back to the dashboard</a>
        </p>
      </body>
    </html>,
    status,
  );
});
