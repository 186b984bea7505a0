/**
 * The dashboard page, rendered on the server with Hono JSX. Every string from the database (user
 * ids, user agents, referers, `next`, countries) is text in the page: JSX escapes it, and nothing
 * from a visitor becomes a link, so a `javascript:` referer is only ever shown. Money is shown per
 * currency, in the currency's own unit (docs/reports.md#money), never added across currencies.
 */
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import { formatMinor } from "../../db/queries/report-sql.js";
import type {
  EarningsRow,
  EarningsTotals,
  LinkReportRow,
  RecentHit,
  ReportTotals,
  RevenueRow,
  RevenueTotals,
} from "../../db/queries/reports";
import { type ChartDay, DailyChart } from "./chart";

export interface DashboardView {
  from: string;
  to: string;
  /** The link the page is narrowed to, if any. */
  link: string | null;
  totals: ReportTotals;
  /** Every day of the period, oldest first, zero when nothing happened. */
  days: ChartDay[];
  links: LinkReportRow[];
  /** Revenue and commission of the links shown, per currency, over the period. */
  linkRevenue: RevenueRow[];
  /** Revenue and commission per currency over the period (of the link, when narrowed to one). */
  revenueTotals: RevenueTotals[];
  /** Each referrer's earnings per currency as of now, the first rows (EARNINGS_ROWS in dashboard.tsx). */
  earnings: EarningsRow[];
  moreEarnings: boolean;
  /** Every referrer's earnings summed per currency. */
  earningsTotals: EarningsTotals[];
  linkCount: number;
  page: number;
  pageCount: number;
  hits: RecentHit[];
  /** Whether this is a later page of the recent hits. */
  olderHits: boolean;
  nextHitsCursor: string | null;
  /** Query strings of the quick periods, ending today. */
  quickPeriods: { label: string; from: string; to: string }[];
  /** `?…` of this page with some parameters changed (null removes one). */
  href: (changes: Record<string, string | null>) => string;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6678; --bg: #f6f7f9; --card: #fff;
  --line: #dfe3ea; --accent: #2f6fde; --confirm: #d9480f; --mark: #eef4ff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b5; --bg: #14171d;
  --card: #1c2029; --line: #2d3340; --accent: #6b9cff; --confirm: #ff8a4c; --mark: #1f2a40; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header, main { max-width: 1100px; margin: 0 auto; padding: 16px 20px; }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: end; justify-content: space-between; }
h1 { font-size: 20px; margin: 0; } h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 16px; margin: 0 0 12px; }
a { color: var(--accent); }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
label { display: grid; gap: 2px; font-size: 12px; color: var(--muted); }
input, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
nav.quick { display: flex; gap: 10px; font-size: 13px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px;
  margin: 0 0 16px; overflow-x: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  background: none; border: 0; padding: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.card dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card dd { margin: 0; font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.note { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
.empty { color: var(--muted); padding: 24px 0; text-align: center; }
.filter { background: var(--mark); border-radius: 6px; padding: 2px 8px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr[aria-current] td { background: var(--mark); }
td.text { max-width: 260px; overflow-wrap: anywhere; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.pager { display: flex; gap: 16px; align-items: center; margin-top: 10px; font-size: 14px; }
.chart { width: 100%; height: auto; display: block; }
.chart text { font-size: 11px; fill: var(--muted); }
.chart .grid { stroke: var(--line); }
.chart .bar { fill: var(--accent); }
.chart .hover { fill: transparent; }
.chart .day:hover .hover { fill: var(--mark); }
.chart .confirmed { fill: none; stroke: var(--confirm); stroke-width: 2; }
.chart .confirmed-dot { fill: var(--confirm); }
.legend { display: flex; gap: 16px; font-size: 13px; color: var(--muted); margin-bottom: 6px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
details { margin-top: 10px; font-size: 14px; } summary { cursor: pointer; color: var(--muted); }
.money { display: block; white-space: nowrap; font-variant-numeric: tabular-nums; }
.card dd .money { font-size: 20px; }
tfoot th, tfoot td { font-weight: 600; border-bottom: 0; vertical-align: baseline; }
tfoot tr:first-child th, tfoot tr:first-child td { border-top: 2px solid var(--line); }
`;

const integer = new Intl.NumberFormat("en-US");

/** A count as people read it: `1,234`. */
export const formatCount = (value: number) => integer.format(value);

/** Confirmed referrals per visitor, as a percentage; a dash when there was no visitor. */
export function conversion(confirmed: number, visitors: number): string {
  return visitors === 0 ? "—" : `${((100 * confirmed) / visitors).toFixed(1)}%`;
}

/** `2026-11-24T09:00:00.000Z` as `2026-11-24 09:00:00` (the page says the times are UTC). */
const formatTime = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");

/** An amount of minor units with its currency, as people read it: `1,234.56 EUR`. */
export const formatMoney = (amount: number, currency: string) =>
  `${formatMinor(amount, currency)} ${currency}`;

/**
 * Amounts in several currencies, one line each, never added together; a dash when there are none.
 * Each line carries its currency and the exact minor units (`data-currency`, `data-amount`).
 */
const MoneyLines: FC<{ items: { currency: string; amount: number; title?: string }[] }> = ({ items }) => {
  if (items.length === 0) return <span class="note">—</span>;
  return (
    <>
      {items.map((item) => (
        <span
          class="money"
          data-currency={item.currency}
          data-amount={String(item.amount)}
          title={item.title}
        >
          {formatMoney(item.amount, item.currency)}
        </span>
      ))}
    </>
  );
};

const conversionsTitle = (n: number) => `${formatCount(n)} ${n === 1 ? "conversion" : "conversions"}`;

/** Long visitor-supplied text, shortened for a table cell; the whole text is in the tooltip. */
const Clipped: FC<{ text: string | null; max?: number }> = ({ text, max = 80 }) => {
  if (!text) return <span class="note">—</span>;
  return text.length > max ? <span title={text}>{`${text.slice(0, max)}…`}</span> : <span>{text}</span>;
};

const Pager: FC<{ children?: Child }> = ({ children }) => <div class="pager">{children}</div>;

export const DashboardPage: FC<{ view: DashboardView }> = ({ view }) => {
  const { totals, href } = view;
  const hasActivity = view.days.some((d) => d.hits > 0 || d.confirmed > 0);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        {/* No icon: else the browser asks the origin for /favicon.ico on every visit. */}
        <link rel="icon" href="data:," />
        <title>reflinks dashboard</title>
        {/* A constant of this file: raw, since JSX would escape its quotes inside <style>. */}
        <style>{raw(STYLE)}</style>
      </head>
      <body>
        <header>
          <h1>
            reflinks <span>dashboard</span>
          </h1>
          <div>
            <form method="get" action="">
              <label>
                From
                <input type="date" name="from" value={view.from} required />
              </label>
              <label>
                To
                <input type="date" name="to" value={view.to} required />
              </label>
              {view.link ? <input type="hidden" name="link" value={view.link} /> : null}
              <button type="submit">Show</button>
            </form>
            <nav class="quick" aria-label="Quick periods">
              {view.quickPeriods.map((p) => (
                <a href={href({ from: p.from, to: p.to, page: null, hits: null })}>{p.label}</a>
              ))}
            </nav>
          </div>
        </header>
        <main>
          <p class="note" data-period={`${view.from}..${view.to}`}>
            {`${view.from} to ${view.to} (UTC days)`}
            {view.link ? (
              <>
                {" · link "}
                <strong class="filter" data-link-filter={view.link}>
                  {view.link}
                </strong>{" "}
                <a href={href({ link: null, hits: null })}>show all links</a>
              </>
            ) : null}
          </p>

          <section class="cards" aria-label="Totals">
            <dl class="card">
              <dt>Hits</dt>
              <dd data-total="hits">{formatCount(totals.hits)}</dd>
            </dl>
            <dl class="card">
              <dt>Visitors</dt>
              <dd data-total="visitors">{formatCount(totals.visitors)}</dd>
            </dl>
            <dl class="card">
              <dt>Confirmed</dt>
              <dd data-total="confirmed">{formatCount(totals.confirmed)}</dd>
            </dl>
            <dl class="card">
              <dt>Conversion</dt>
              <dd data-total="conversion">{conversion(totals.confirmed, totals.visitors)}</dd>
            </dl>
            <dl class="card">
              <dt>Revenue</dt>
              <dd data-money-total="revenue">
                <MoneyLines
                  items={view.revenueTotals.map((t) => ({
                    currency: t.currency,
                    amount: t.revenue,
                    title: conversionsTitle(t.conversions),
                  }))}
                />
              </dd>
            </dl>
            <dl class="card">
              <dt>Commission</dt>
              <dd data-money-total="commission">
                <MoneyLines
                  items={view.revenueTotals.map((t) => ({ currency: t.currency, amount: t.commission }))}
                />
              </dd>
            </dl>
          </section>

          <section aria-labelledby="daily-heading">
            <h2 id="daily-heading">Per day</h2>
            {hasActivity ? (
              <>
                <div class="legend">
                  <span>
                    <i style="background: var(--accent)" />
                    hits
                  </span>
                  <span>
                    <i style="background: var(--confirm)" />
                    confirmed referrals
                  </span>
                </div>
                <DailyChart days={view.days} />
                <details>
                  <summary>The numbers per day</summary>
                  <table data-table="daily">
                    <thead>
                      <tr>
                        <th>day</th>
                        <th class="n">hits</th>
                        <th class="n">confirmed</th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.days
                        .filter((d) => d.hits > 0 || d.confirmed > 0)
                        .map((d) => (
                          <tr data-day={d.day}>
                            <td>{d.day}</td>
                            <td class="n">{formatCount(d.hits)}</td>
                            <td class="n">{formatCount(d.confirmed)}</td>
                          </tr>
                        ))}
                    </tbody>
                  </table>
                </details>
              </>
            ) : (
              <p class="empty" data-empty="daily">
                No hits and no confirmed referrals in this period.
              </p>
            )}
          </section>

          <section aria-labelledby="links-heading">
            <h2 id="links-heading">Links</h2>
            <LinksTable view={view} />
          </section>

          <section aria-labelledby="earnings-heading">
            <h2 id="earnings-heading">Earnings and payouts due</h2>
            <EarningsTable view={view} />
          </section>

          <section aria-labelledby="hits-heading">
            <h2 id="hits-heading">{view.olderHits ? "Earlier hits" : "Recent hits"}</h2>
            <HitsTable view={view} />
          </section>
          <p class="note">
            Visitors are counted once each over the whole period (a signed-in user, or else a browser).
            Confirmed referrals count on the day they were confirmed. Revenue (payments less refunds) and
            commission are those of the conversions made in the period, per currency: amounts in two
            currencies are never added.
          </p>
        </main>
      </body>
    </html>
  );
};

const LinksTable: FC<{ view: DashboardView }> = ({ view }) => {
  const { href } = view;
  const revenueOf = new Map<string, RevenueRow[]>();
  for (const row of view.linkRevenue) {
    revenueOf.set(row.identifier, [...(revenueOf.get(row.identifier) ?? []), row]);
  }
  if (view.linkCount === 0) {
    return (
      <p class="empty" data-empty="links">
        No referral links yet. Create one with <code>POST /_reflinks/links</code>.
      </p>
    );
  }
  if (view.links.length === 0) {
    return (
      <p class="empty" data-empty="links-page">
        No links on this page. <a href={href({ page: null })}>First page</a>
      </p>
    );
  }
  return (
    <>
      <table data-table="links">
        <thead>
          <tr>
            <th>link</th>
            <th>owner</th>
            <th class="n">hits</th>
            <th class="n">visitors</th>
            <th class="n">users</th>
            <th class="n">confirmed</th>
            <th class="n">conversion</th>
            <th class="n">revenue</th>
            <th class="n">commission</th>
          </tr>
        </thead>
        <tbody>
          {view.links.map((row) => (
            <tr data-link={row.identifier} aria-current={row.identifier === view.link ? "true" : undefined}>
              <td>
                <a href={href({ link: row.identifier, hits: null })}>{row.identifier}</a>
              </td>
              <td class="text">
                <Clipped text={row.user_id} max={40} />
              </td>
              <td class="n" data-col="hits">
                {formatCount(row.hits)}
              </td>
              <td class="n" data-col="visitors">
                {formatCount(row.visitors)}
              </td>
              <td class="n" data-col="users">
                {formatCount(row.users)}
              </td>
              <td class="n" data-col="confirmed">
                {formatCount(row.confirmed)}
              </td>
              <td class="n">{conversion(row.confirmed, row.visitors)}</td>
              <td class="n" data-money="revenue">
                <MoneyLines
                  items={(revenueOf.get(row.identifier) ?? []).map((r) => ({
                    currency: r.currency,
                    amount: r.revenue,
                    title: conversionsTitle(r.conversions),
                  }))}
                />
              </td>
              <td class="n" data-money="commission">
                <MoneyLines
                  items={(revenueOf.get(row.identifier) ?? []).map((r) => ({
                    currency: r.currency,
                    amount: r.commission,
                  }))}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.pageCount > 1 ? (
        <Pager>
          {view.page > 1 ? (
            <a href={href({ page: view.page === 2 ? null : String(view.page - 1) })}>← Previous</a>
          ) : null}
          <span>{`Page ${view.page} of ${view.pageCount} (${formatCount(view.linkCount)} links)`}</span>
          {view.page < view.pageCount ? <a href={href({ page: String(view.page + 1) })}>Next →</a> : null}
        </Pager>
      ) : null}
    </>
  );
};

const EARNINGS_COLUMNS = ["pending", "approved", "paid", "reversed", "due"] as const;

/** Each referrer's earnings per currency as of now, what is due, and the totals per currency. */
const EarningsTable: FC<{ view: DashboardView }> = ({ view }) => {
  if (view.earnings.length === 0) {
    return (
      <p class="empty" data-empty="earnings">
        No commissions yet. Record payments with <code>POST /_reflinks/conversions</code>.
      </p>
    );
  }
  return (
    <>
      <p class="note">
        As of now, whatever the period. Due: what <code>POST /_reflinks/payouts</code> would pay now (approved
        and unpaid, less clawbacks of refunded payouts).
      </p>
      <table data-table="earnings">
        <thead>
          <tr>
            <th>referrer</th>
            <th>currency</th>
            {EARNINGS_COLUMNS.map((column) => (
              <th class="n">{column}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {view.earnings.map((row) => (
            <tr data-currency={row.currency}>
              <td class="text" data-referrer>
                <Clipped text={row.referrer_user_id} max={40} />
              </td>
              <td>{row.currency}</td>
              {EARNINGS_COLUMNS.map((column) => (
                <td class="n" data-money={column} data-amount={String(row[column])}>
                  {formatMinor(row[column], row.currency)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        <tfoot>
          {view.earningsTotals.map((total) => (
            <tr data-currency={total.currency} data-totals>
              <th>all referrers</th>
              <td>{total.currency}</td>
              {EARNINGS_COLUMNS.map((column) => (
                <td class="n" data-money={column} data-amount={String(total[column])}>
                  {formatMinor(total[column], total.currency)}
                </td>
              ))}
            </tr>
          ))}
        </tfoot>
      </table>
      {view.moreEarnings ? (
        <p class="note" data-more="earnings">
          {`Only the first ${formatCount(view.earnings.length)} rows, by referrer. All of them: `}
          <code>GET /_reflinks/reports/earnings</code> or <code>npm run report</code>.
        </p>
      ) : null}
    </>
  );
};

const HitsTable: FC<{ view: DashboardView }> = ({ view }) => {
  const { href } = view;
  if (view.hits.length === 0) {
    return (
      <>
        <p class="empty" data-empty="hits">
          {view.olderHits ? "No earlier hits in this period." : "No hits in this period."}
        </p>
        {view.olderHits ? (
          <Pager>
            <a href={href({ hits: null })}>Newest hits</a>
          </Pager>
        ) : null}
      </>
    );
  }
  return (
    <>
      <table data-table="hits">
        <thead>
          <tr>
            <th>time (UTC)</th>
            <th>link</th>
            <th>visitor</th>
            <th>country</th>
            <th>referer</th>
            <th>next</th>
            <th>user agent</th>
          </tr>
        </thead>
        <tbody>
          {view.hits.map((hit) => (
            <tr data-hit={hit.id}>
              <td class="time">{formatTime(hit.createdAt)}</td>
              <td>{hit.identifier}</td>
              <td class="text">
                {hit.hitUserId !== null ? (
                  <>
                    {"user "}
                    <Clipped text={hit.hitUserId} max={40} />
                  </>
                ) : hit.anonymousId ? (
                  <span title={hit.anonymousId}>{`anonymous ${hit.anonymousId.slice(0, 8)}`}</span>
                ) : (
                  <span class="note">unknown</span>
                )}
                {hit.confirmedAt ? <strong title={`confirmed ${hit.confirmedAt}`}> ✓</strong> : null}
              </td>
              <td>{hit.country ?? "—"}</td>
              <td class="text">
                <Clipped text={hit.httpReferer} />
              </td>
              <td class="text">
                <Clipped text={hit.next} />
              </td>
              <td class="text">
                <Clipped text={hit.userAgent} max={60} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.olderHits || view.nextHitsCursor ? (
        <Pager>
          {view.olderHits ? <a href={href({ hits: null })}>Newest hits</a> : null}
          {view.nextHitsCursor ? <a href={href({ hits: view.nextHitsCursor })}>Earlier hits →</a> : null}
        </Pager>
      ) : null}
    </>
  );
};
