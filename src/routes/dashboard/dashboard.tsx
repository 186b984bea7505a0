/**
 * `GET /_reflinks/dashboard`: one server-rendered page of the reports (the same queries as
 * `/_reflinks/reports/*`) for a person with the API token: HTTP Basic, the token as the password.
 * Money is per currency everywhere on it: revenue and commission per link over the period, and
 * each referrer's earnings and what is due, as of now. Its forms act (./actions.ts): create,
 * disable and enable links, set their commission, record payouts, send a failed webhook event
 * again, and review held referrals (release, reject, ban their referrer).
 *
 * Query: `from`, `to` (days, default the last 30 days), `link` (narrow to one link), `page` (of the
 * links table), `hits` (cursor of the recent hits); `done`/`failed` and their subject, set by an
 * action's redirect (./flash.ts).
 */

import { Hono } from "hono/tiny";
import type { HonoEnv } from "../../app-env";
import { payoutMinimumOf } from "../../config";
import { listReferrals } from "../../db/queries/fraud-review";
import { linkSettingsOf } from "../../db/queries/link-settings";
import { findLink, findLinkTarget } from "../../db/queries/links";
import { payoutMethodsOf } from "../../db/queries/payout-methods";
import { listRuns } from "../../db/queries/payout-runs";
import { listPayouts, type PayoutJson, payoutsDue } from "../../db/queries/payouts";
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
import { formatCommissionRule } from "../../lib/commission";
import { addDays } from "../../lib/days";
import { errorMessage, log } from "../../lib/log";
import { requestIdOf } from "../../lib/request-id";
import { decodeHitCursor, encodeHitCursor, queryOf, validate } from "../api/input";
import { attachment, runFile, runJson } from "../api/payout-runs";
import { periodOf } from "../api/reports";
import { dashboardQuery, runFileQuery, runParams } from "../api/schemas";
import { linkJson } from "../api/serialize";
import {
  ACTIONS,
  banAction,
  createLinkAction,
  DASHBOARD_PATH,
  payAction,
  type Refusal,
  registerAction,
  rejectAction,
  releaseAction,
  retryAction,
  runAction,
  setCommissionAction,
  setDisabledAction,
  setRewardAction,
} from "./actions";
import type { ChartDay } from "./chart";
import { flashText, type Outcome, type OutcomeFacts, outcomeOf } from "./flash";
import { formToken } from "./form-token";
import { DashboardPage, formatCount, formatMoney, type RunView } from "./page";
import { styleHashSource } from "./style";
import { webhookFailures } from "./webhook-failures";

/** "1 conversion", "2 conversions": a count with its noun. */
const countOf = (n: number, noun: string) => `${formatCount(n)} ${n === 1 ? noun : `${noun}s`}`;

export const LINKS_PER_PAGE = 25;
export const HITS_PER_PAGE = 20;
/** Earnings rows shown (by referrer, then currency); the API and `npm run report` have them all. */
export const EARNINGS_ROWS = 100;
/** Rows of what is due shown, each with its payout button; the API has them all. */
export const DUE_ROWS = 100;
/** The newest payouts shown. */
export const PAYOUT_ROWS = 20;
/** The newest payout runs shown, each with its files. */
export const RUN_ROWS = 5;
/** The newest held referrals shown in the review queue; `GET /referrals?status=held` has them all. */
export const QUEUE_ROWS = 50;
const DEFAULT_DAYS = 30;
/** One bar a day: a longer period would make bars thinner than a pixel. */
export const MAX_DAYS = 366;

/**
 * No script runs on this page and nothing may load from elsewhere: with the user agents and
 * referers of strangers on it, an escaping mistake must still not run anything. The one
 * stylesheet is allowed by its hash, so no other style applies either; forms post only here; no
 * other site may frame the page (clickjacking its buttons).
 */
async function securityHeaders(): Promise<Record<string, string>> {
  return {
    "Content-Security-Policy":
      `default-src 'none'; style-src ${await styleHashSource()}; img-src 'self' data:; form-action 'self'; ` +
      "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
  };
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
  for (const [name, value] of Object.entries(await securityHeaders())) c.res.headers.set(name, value);
});

/** A refused post: a short page saying why, and the way back; nothing was done. */
const refuse: Refusal = (c, status, message) =>
  c.html(
    <ErrorPage status={status} message={message} code="refused" requestId={requestIdOf(c.req.raw)} />,
    status,
  );

registerAction(dashboard, "/links", createLinkAction, refuse);
registerAction(dashboard, "/links/:identifier/disabled", setDisabledAction, refuse);
registerAction(dashboard, "/links/:identifier/commission", setCommissionAction, refuse);
registerAction(dashboard, "/links/:identifier/reward", setRewardAction, refuse);
registerAction(dashboard, "/payouts", payAction, refuse);
registerAction(dashboard, "/payout-runs", runAction, refuse);
registerAction(dashboard, "/webhooks/:webhook_id/retry", retryAction, refuse);
registerAction(dashboard, "/referrals/:id/release", releaseAction, refuse);
registerAction(dashboard, "/referrals/:id/reject", rejectAction, refuse);
registerAction(dashboard, "/bans", banAction, refuse);

/**
 * A run's file, as `GET /payout-runs/:id/file` answers it, for the browser: the dashboard's
 * links carry Basic credentials, not the API's bearer token.
 */
dashboard.all("/payout-runs/:id/file", async (c) => {
  // Registered for every method, as the actions are, so that another method is a 405 page.
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    c.header("Allow", "GET, HEAD");
    return refuse(c, 405, "This address is a download: open it with the dashboard's link.");
  }
  const { id } = validate(runParams, c.req.param());
  const { format } = validate(runFileQuery, queryOf(c));
  const file = await runFile(c, Number(id), format);
  c.header("Cache-Control", "no-store");
  return attachment(c, file);
});

/** The sentence for the outcome the redirect named, with facts read from the database. */
async function flashOf(
  c: Parameters<Refusal>[0],
  outcome: Outcome | null,
  payouts: PayoutJson[],
  runs: RunView[],
): Promise<{ kind: "done" | "failed"; text: string } | null> {
  if (!outcome) return null;
  const facts: OutcomeFacts = {};
  if ("done" in outcome) {
    if (outcome.done === "link_created" && outcome.subject) {
      const link = await findLink(c.var.db, outcome.subject);
      // On a host of its own, the dashboard does not know the site's host: the link's path, which
      // the site's host completes (on localhost the site is the same host, so the whole URL).
      if (link) {
        facts.linkUrl = c.var.config.dashboardHost.own
          ? `${c.var.config.refPath}${link.identifier} on your site`
          : linkJson(link, new URL(c.req.url), c.var.config, []).url;
        facts.ownerless = link.userId === null;
      }
    }
    const run = runs.find((row) => row.id === outcome.run);
    if (run) {
      facts.run = `${countOf(run.payouts.length, "payout")}, ${formatMoney(run.amount, run.currency)}`;
    }
    const payout = payouts.find((row) => row.id === outcome.payout);
    if (payout) {
      facts.payout =
        `${formatMoney(payout.amount, payout.currency)} to ${payout.referrer_user_id} ` +
        `(${countOf(payout.conversions, "conversion")}, ${countOf(payout.clawbacks, "clawback")})`;
    }
  }
  return { kind: "done" in outcome ? "done" : "failed", text: flashText(outcome, facts) };
}

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
  const [
    totals,
    daily,
    [links, linkRevenue, settings],
    linkCount,
    hits,
    money,
    earnings,
    owed,
    due,
    payouts,
    webhooks,
    runs,
    held,
  ] = await Promise.all([
    reportTotals(db, { from, to, linkId }),
    dailyReport(db, { from, to, linkId }),
    // The revenue of the links on this page only, once they are known.
    linkReport(db, { from, to, limit: LINKS_PER_PAGE, offset: (page - 1) * LINKS_PER_PAGE }).then(
      async (rows) => {
        const identifiers = rows.map((row) => row.identifier);
        return [
          rows,
          await revenueReport(db, { from, to, identifiers }),
          await linkSettingsOf(db, identifiers),
        ] as const;
      },
    ),
    countLinks(db),
    recentHits(db, { from, to, linkId, cursor, limit: HITS_PER_PAGE + 1 }),
    revenueTotals(db, { from, to, linkId }),
    earningsReport(db, { limit: EARNINGS_ROWS + 1 }),
    earningsTotals(db),
    payoutsDue(db),
    listPayouts(db, { limit: PAYOUT_ROWS }),
    webhookFailures(db),
    listRuns(db, { limit: RUN_ROWS }).then((rows) => Promise.all(rows.map((run) => runJson(db, run)))),
    listReferrals(db, { status: "held", limit: QUEUE_ROWS + 1 }),
  ]);

  const byDay = new Map(daily.map((row) => [row.day, row]));
  const days: ChartDay[] = daysOf(from, to).map((day) => ({
    day,
    hits: byDay.get(day)?.hits ?? 0,
    uniqueHits: byDay.get(day)?.unique_hits ?? 0,
    confirmed: byDay.get(day)?.confirmed ?? 0,
  }));
  const shownHits = hits.slice(0, HITS_PER_PAGE);
  const lastHit = shownHits.at(-1);
  const current: Record<string, string> = { from, to };
  if (options.link) current.link = options.link;
  if (page > 1) current.page = String(page);
  if (options.hits) current.hits = options.hits;
  const back = new URLSearchParams(current);
  back.delete("hits");

  const outcome = outcomeOf(query);
  // PAYOUT_MINIMUM: only what a payout would pay now (as GET /payouts/due).
  const payable = due.filter((row) => row.amount >= payoutMinimumOf(c.var.config, row.currency));
  const shownDue = payable.slice(0, DUE_ROWS);
  // A run per currency with someone due, and who of them has no payout method yet.
  const methods = await payoutMethodsOf(
    db,
    payable.map((row) => row.referrer_user_id),
  );
  const runCurrencies = [...new Set(payable.map((row) => row.currency))].sort().map((currency) => {
    const rows = payable.filter((row) => row.currency === currency);
    return {
      currency,
      referrers: rows.length,
      amount: rows.reduce((sum, row) => sum + row.amount, 0),
      withoutMethod: rows.map((row) => row.referrer_user_id).filter((referrer) => !methods.has(referrer)),
      key: crypto.randomUUID(),
    };
  });
  const queue = held.slice(0, QUEUE_ROWS);
  const apiToken = c.var.config.apiToken ?? "";
  const actions = [
    ...queue.flatMap((row) => [ACTIONS.release(row.id), ACTIONS.reject(row.id)]),
    ...(queue.length > 0 ? [ACTIONS.ban()] : []),
    ACTIONS.createLink(),
    ACTIONS.pay(),
    ACTIONS.run(),
    ...links.flatMap((row) => [
      ACTIONS.setDisabled(row.identifier),
      ACTIONS.setCommission(row.identifier),
      ACTIONS.setReward(row.identifier),
    ]),
    ...webhooks.filter((webhook) => webhook.failures.length > 0).map((webhook) => ACTIONS.retry(webhook.id)),
  ];
  const tokens = new Map(
    await Promise.all(actions.map(async (action) => [action, await formToken(apiToken, action)] as const)),
  );

  const html = (
    <DashboardPage
      view={{
        from,
        to,
        link: options.link ?? null,
        flash: await flashOf(c, outcome, payouts, runs),
        totals,
        days,
        links,
        linkSettings: new Map(settings.map((row) => [row.identifier, row])),
        defaultCommission: c.var.config.commission ? formatCommissionRule(c.var.config.commission) : null,
        linkRevenue,
        revenueTotals: money,
        earnings: earnings.slice(0, EARNINGS_ROWS),
        moreEarnings: earnings.length > EARNINGS_ROWS,
        earningsTotals: owed,
        due: shownDue.map((row) => ({ ...row, key: crypto.randomUUID() })),
        moreDue: payable.length > DUE_ROWS,
        runCurrencies,
        runs,
        markedRun: outcome && "done" in outcome ? (outcome.run ?? null) : null,
        payouts,
        markedPayout: outcome && "done" in outcome ? (outcome.payout ?? null) : null,
        webhooks,
        queue,
        moreQueue: held.length > QUEUE_ROWS,
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
        back: back.toString(),
        tokenFor: (action) => tokens.get(action) ?? "",
      }}
    />
  );
  return c.html(`<!doctype html>${html}`);
});

const TITLES: Record<number, string> = {
  403: "Refused",
  404: "Not found",
  405: "Not a page",
  415: "Refused",
  422: "Invalid request",
};

/** An error or a refusal, as a page: a person reads it, not a program. */
const ErrorPage = ({
  status,
  message,
  code,
  requestId,
}: {
  status: number;
  message: string;
  code: string;
  requestId: string;
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>reflinks dashboard: error</title>
    </head>
    <body>
      <h1>{TITLES[status] ?? "Error"}</h1>
      <p data-error={code}>{message}</p>
      <p>
        Request id: <code data-request-id>{requestId}</code>
      </p>
      <p>
        <a href={DASHBOARD_PATH}>Back to the dashboard</a>
      </p>
    </body>
  </html>
);

/** Errors of the page as a page. */
dashboard.onError((error, c) => {
  const known = error instanceof ApiError;
  const requestId = requestIdOf(c.req.raw);
  if (!known)
    log("error", "dashboard_unhandled_error", { request_id: requestId, error: errorMessage(error) });
  const status = known ? error.status : 500;
  const message = known ? error.message : "Internal error.";
  c.header("Cache-Control", "no-store");
  return c.html(
    <ErrorPage
      status={status}
      message={message}
      code={known ? error.code : "internal_error"}
      requestId={requestId}
    />,
    status,
  );
});
