/**
 * The dashboard page, rendered on the server with Hono JSX. Every string from the database (user
 * ids, user agents, referers, `next`, countries) is text in the page: JSX escapes it, and nothing
 * from a visitor becomes a link, so a `javascript:` referer is only ever shown. Money is shown per
 * currency, in the currency's own unit, never added across currencies.
 *
 * Its forms post to ./actions.ts, each with its own token and the view it was sent from, and the
 * answer comes back here with a sentence saying what was done (./flash.ts), shown as text.
 */
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import type { ReviewedReferral } from "../../db/queries/fraud-review";
import type { PayoutJson } from "../../db/queries/payouts";
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
import { ACTIONS, BACK_FIELD, DASHBOARD_PATH, TOKEN_FIELD } from "./actions";
import { type ChartDay, DailyChart } from "./chart";
import { STYLE } from "./style";

/** A link's settings, for its row's forms. */
export interface LinkSettings {
  disabled: boolean;
  commission: string | null;
  /** What a referred friend gets (docs/referred-visitor.md); null: nothing. */
  refereeReward: string | null;
}

/** A row of what is due now, with the idempotency key its payout form carries. */
export interface DueView {
  referrer_user_id: string;
  currency: string;
  amount: number;
  conversions: number;
  clawbacks: number;
  /** Made when the page was rendered: a double click or a reload-and-resend pays once. */
  key: string;
}

/** A currency with referrers due at least its minimum: the run button's form. */
export interface RunCurrencyView {
  currency: string;
  referrers: number;
  amount: number;
  /** Referrers due in it with no payout method at all. */
  withoutMethod: string[];
  /** Made when the page was rendered: a double click or a reload-and-resend makes one run. */
  key: string;
}

/** A run as the API answers it. */
export interface RunView {
  id: number;
  currency: string;
  amount: number;
  payouts: PayoutJson[];
  missing_method: { paypal: string[]; wise: string[]; sepa: string[] };
  created_at: string;
}

/** A webhook endpoint and its newest failed deliveries. */
export interface WebhookFailuresView {
  id: string;
  url: string;
  failures: {
    deliveryId: number;
    eventId: string;
    type: string;
    attempt: number;
    statusCode: number | null;
    error: string | null;
    createdAt: string;
    /** The event's state now: `pending` (retries to come), `failed` (given up) or `delivered`. */
    eventStatus: string;
  }[];
}

export interface DashboardView {
  from: string;
  to: string;
  /** The link the page is narrowed to, if any. */
  link: string | null;
  /** What the last action did, as a sentence; null when the page was not opened by an action. */
  flash: { kind: "done" | "failed"; text: string } | null;
  totals: ReportTotals;
  /** Every day of the period, oldest first, zero when nothing happened. */
  days: ChartDay[];
  links: LinkReportRow[];
  /** The settings of the links shown, by identifier. */
  linkSettings: Map<string, LinkSettings>;
  /** The `COMMISSION` setting as written, or null when unset. */
  defaultCommission: string | null;
  /** Revenue and commission of the links shown, per currency, over the period. */
  linkRevenue: RevenueRow[];
  /** Revenue and commission per currency over the period (of the link, when narrowed to one). */
  revenueTotals: RevenueTotals[];
  /** Each referrer's earnings per currency as of now, the first rows (EARNINGS_ROWS in dashboard.tsx). */
  earnings: EarningsRow[];
  moreEarnings: boolean;
  /** Every referrer's earnings summed per currency. */
  earningsTotals: EarningsTotals[];
  /** What is due now, per referrer and currency (the first DUE_ROWS rows). */
  due: DueView[];
  moreDue: boolean;
  /** The currencies a run would pay now. */
  runCurrencies: RunCurrencyView[];
  /** The newest payout runs. */
  runs: RunView[];
  /** The run the last action made, to mark its row. */
  markedRun: number | null;
  /** The newest payouts. */
  payouts: PayoutJson[];
  /** The payout the last action recorded, to mark its row. */
  markedPayout: number | null;
  /** Each webhook with its newest failures. */
  webhooks: WebhookFailuresView[];
  /** The newest held referrals (QUEUE_ROWS in dashboard.tsx), with their evidence. */
  queue: ReviewedReferral[];
  moreQueue: boolean;
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
  /** The view the forms come back to: `from=…&to=…` (and link, page). */
  back: string;
  /** The token of the form posting to `action`, made for this page. */
  tokenFor: (action: string) => string;
}

const integer = new Intl.NumberFormat("en-US");

/** A count as people read it: `1,234`. */
/** A count; null (a distinct count over archived days) is shown as a dash. */
export const formatCount = (value: number | null) => (value === null ? "—" : integer.format(value));

/** Confirmed referrals per visitor, as a percentage; a dash when there was no visitor. */
export function conversion(confirmed: number, visitors: number | null): string {
  return visitors === null || visitors === 0 ? "—" : `${((100 * confirmed) / visitors).toFixed(1)}%`;
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

/**
 * An identifier or a user id: never broken in the middle; a long one is cut with an ellipsis by the
 * stylesheet and is whole in its tooltip.
 */
const Id: FC<{ text: string | null; prefix?: string }> = ({ text, prefix = "" }) => {
  if (text === null || text === "") return <span class="note">—</span>;
  return (
    <span class="id" title={text}>
      {`${prefix}${text}`}
    </span>
  );
};

const Pager: FC<{ children?: Child }> = ({ children }) => <div class="pager">{children}</div>;

/** A form posting to one of the dashboard's actions, with its token and the view to come back to. */
const ActionForm: FC<{ view: DashboardView; action: string; class?: string; children?: Child }> = ({
  view,
  action,
  children,
  ...rest
}) => (
  <form method="post" action={action} class={rest.class}>
    <input type="hidden" name={TOKEN_FIELD} value={view.tokenFor(action)} />
    <input type="hidden" name={BACK_FIELD} value={view.back} />
    {children}
  </form>
);

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
        {/* A constant (./style.ts), allowed by its hash: raw, since JSX would escape its quotes. */}
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
          {view.flash ? (
            <p class="flash" role="status" data-flash={view.flash.kind}>
              {view.flash.text}
            </p>
          ) : null}
          <nav class="sections" aria-label="Sections">
            <a href="#review-heading">Review queue</a>
            <a href="#links-heading">Links</a>
            <a href="#earnings-heading">Earnings</a>
            <a href="#due-heading">Payouts due</a>
            <a href="#runs-heading">Payout runs</a>
            <a href="#payouts-heading">Payouts made</a>
            <a href="#webhooks-heading">Webhook failures</a>
            <a href="#hits-heading">Recent hits</a>
          </nav>
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
              <dt>Unique hits</dt>
              <dd data-total="unique_hits">{formatCount(totals.unique_hits)}</dd>
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
                    <i class="hits" />
                    hits
                  </span>
                  <span>
                    <i class="confirmed" />
                    confirmed referrals
                  </span>
                </div>
                <DailyChart days={view.days} size="wide" />
                <DailyChart days={view.days} size="narrow" />
                <details>
                  <summary>The numbers per day</summary>
                  <div class="scroll">
                    <table data-table="daily">
                      <thead>
                        <tr>
                          <th>day</th>
                          <th class="n">hits</th>
                          <th class="n">unique hits</th>
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
                              <td class="n">{formatCount(d.uniqueHits)}</td>
                              <td class="n">{formatCount(d.confirmed)}</td>
                            </tr>
                          ))}
                      </tbody>
                    </table>
                  </div>
                </details>
              </>
            ) : (
              <p class="empty" data-empty="daily">
                No hits and no confirmed referrals in this period.
              </p>
            )}
          </section>

          <section aria-labelledby="review-heading">
            <h2 id="review-heading">Review queue</h2>
            <ReviewQueue view={view} />
          </section>

          <section aria-labelledby="links-heading">
            <h2 id="links-heading">Links</h2>
            <CreateLinkForm view={view} />
            <LinksTable view={view} />
          </section>

          <section aria-labelledby="earnings-heading">
            <h2 id="earnings-heading">Earnings</h2>
            <EarningsTable view={view} />
          </section>

          <section aria-labelledby="due-heading">
            <h2 id="due-heading">Payouts due</h2>
            <DueTable view={view} />
          </section>

          <section aria-labelledby="runs-heading">
            <h2 id="runs-heading">Payout runs</h2>
            <RunsSection view={view} />
          </section>

          <section aria-labelledby="payouts-heading">
            <h2 id="payouts-heading">Payouts made</h2>
            <PayoutsTable view={view} />
          </section>

          <section aria-labelledby="webhooks-heading">
            <h2 id="webhooks-heading">Webhook failures</h2>
            <WebhookFailures view={view} />
          </section>

          <section aria-labelledby="hits-heading">
            <h2 id="hits-heading">{view.olderHits ? "Earlier hits" : "Recent hits"}</h2>
            <HitsTable view={view} />
          </section>
          <p class="note">
            Visitors are counted once each over the whole period (a signed-in user, or else a browser). Unique
            hits leave out a visitor's repeat clicks on a link within the dedupe window. Confirmed referrals
            count on the day they were confirmed. Revenue (payments less refunds) and commission are those of
            the conversions made in the period, per currency: amounts in two currencies are never added.
          </p>
        </main>
      </body>
    </html>
  );
};

const CreateLinkForm: FC<{ view: DashboardView }> = ({ view }) => (
  <ActionForm view={view} action={ACTIONS.createLink()} class="create">
    <label>
      Owner (user id)
      <input type="text" name="user_id" maxlength={255} placeholder="alice" autocomplete="off" />
    </label>
    <label>
      Identifier (empty: random)
      <input
        type="text"
        name="identifier"
        maxlength={50}
        pattern="[A-Za-z0-9_\-]{1,50}"
        placeholder="alice-1"
        autocomplete="off"
      />
    </label>
    <button type="submit" data-action="create-link">
      Create link
    </button>
  </ActionForm>
);

/** A link's state and the forms that change it: enable or disable, and its commission. */
const ManageLink: FC<{ view: DashboardView; identifier: string }> = ({ view, identifier }) => {
  const settings = view.linkSettings.get(identifier);
  if (!settings) return <span class="note">—</span>;
  const rule =
    settings.commission ?? (view.defaultCommission ? `default (${view.defaultCommission})` : "none");
  return (
    <>
      <span
        class={settings.disabled ? "badge off" : "badge"}
        data-status={settings.disabled ? "disabled" : "enabled"}
      >
        {settings.disabled ? "disabled" : "enabled"}
      </span>{" "}
      <ActionForm view={view} action={ACTIONS.setDisabled(identifier)} class="inline">
        <input type="hidden" name="disabled" value={settings.disabled ? "false" : "true"} />
        <button type="submit" class="quiet" data-action={settings.disabled ? "enable" : "disable"}>
          {settings.disabled ? "Enable" : "Disable"}
        </button>
      </ActionForm>
      <details>
        <summary data-commission={settings.commission ?? ""}>{`Commission: ${rule}`}</summary>
        <ActionForm view={view} action={ACTIONS.setCommission(identifier)}>
          <label>
            percent:N or fixed:N (empty: default)
            <input
              type="text"
              class="short"
              name="commission"
              value={settings.commission ?? ""}
              placeholder="percent:20"
              autocomplete="off"
            />
          </label>
          <button type="submit" data-action="set-commission">
            Save
          </button>
        </ActionForm>
      </details>
      <details>
        <summary
          data-reward={settings.refereeReward ?? ""}
        >{`Reward for friends: ${settings.refereeReward ?? "none"}`}</summary>
        <ActionForm view={view} action={ACTIONS.setReward(identifier)}>
          <label>
            What a referred friend gets (empty: nothing)
            <input
              type="text"
              name="referee_reward"
              value={settings.refereeReward ?? ""}
              maxlength={200}
              placeholder="20% off"
              autocomplete="off"
            />
          </label>
          <button type="submit" data-action="set-reward">
            Save
          </button>
        </ActionForm>
      </details>
    </>
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
        No referral links yet: create one above.
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
      <table data-table="links" class="cards-narrow">
        <thead>
          <tr>
            <th>link</th>
            <th>owner</th>
            <th class="n">hits</th>
            <th class="n">unique</th>
            <th class="n">visitors</th>
            <th class="n">users</th>
            <th class="n">confirmed</th>
            <th class="n">conversion</th>
            <th class="n">revenue</th>
            <th class="n">commission</th>
            <th>manage</th>
          </tr>
        </thead>
        <tbody>
          {view.links.map((row) => (
            <tr data-link={row.identifier} aria-current={row.identifier === view.link ? "true" : undefined}>
              <td data-label="link" class="who">
                <a href={href({ link: row.identifier, hits: null })} class="id" title={row.identifier}>
                  {row.identifier}
                </a>
              </td>
              <td data-label="owner" class="who" data-owner>
                <Id text={row.user_id} />
              </td>
              <td class="n" data-col="hits" data-label="hits">
                {formatCount(row.hits)}
              </td>
              <td class="n" data-col="unique_hits" data-label="unique hits">
                {formatCount(row.unique_hits)}
              </td>
              <td class="n" data-col="visitors" data-label="visitors">
                {formatCount(row.visitors)}
              </td>
              <td class="n" data-col="users" data-label="users">
                {formatCount(row.users)}
              </td>
              <td class="n" data-col="confirmed" data-label="confirmed">
                {formatCount(row.confirmed)}
              </td>
              <td class="n" data-label="conversion">
                {conversion(row.confirmed, row.visitors)}
              </td>
              <td class="n" data-money="revenue" data-label="revenue">
                <span>
                  <MoneyLines
                    items={(revenueOf.get(row.identifier) ?? []).map((r) => ({
                      currency: r.currency,
                      amount: r.revenue,
                      title: conversionsTitle(r.conversions),
                    }))}
                  />
                </span>
              </td>
              <td class="n" data-money="commission" data-label="commission">
                <span>
                  <MoneyLines
                    items={(revenueOf.get(row.identifier) ?? []).map((r) => ({
                      currency: r.currency,
                      amount: r.commission,
                    }))}
                  />
                </span>
              </td>
              <td class="manage" data-label="manage">
                <ManageLink view={view} identifier={row.identifier} />
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
        As of now, whatever the period. Due: approved and unpaid, less clawbacks of refunded payouts: what a
        payout pays now.
      </p>
      <div class="scroll">
        {/* Cards on a phone, as the other wide tables: at 390 px a scrolled table hid "due". */}
        <table data-table="earnings" class="cards-narrow">
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
                <td class="who" data-referrer data-label="referrer">
                  <Id text={row.referrer_user_id} />
                </td>
                <td data-label="currency">{row.currency}</td>
                {EARNINGS_COLUMNS.map((column) => (
                  <td class="n" data-money={column} data-amount={String(row[column])} data-label={column}>
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
                <td data-label="currency">{total.currency}</td>
                {EARNINGS_COLUMNS.map((column) => (
                  <td class="n" data-money={column} data-amount={String(total[column])} data-label={column}>
                    {formatMinor(total[column], total.currency)}
                  </td>
                ))}
              </tr>
            ))}
          </tfoot>
        </table>
      </div>
      {view.moreEarnings ? (
        <p class="note" data-more="earnings">
          {`Only the first ${formatCount(view.earnings.length)} rows, by referrer. All of them: `}
          <code>GET /_reflinks/reports/earnings</code> or <code>npm run report</code>.
        </p>
      ) : null}
    </>
  );
};

/** What is due now per referrer and currency, each with the button that pays it. */
const DueTable: FC<{ view: DashboardView }> = ({ view }) => {
  if (view.due.length === 0) {
    return (
      <p class="empty" data-empty="due">
        Nothing is due: no approved commission is waiting to be paid.
      </p>
    );
  }
  return (
    <>
      <p class="note">
        A payout pays everything due to the referrer in that currency at the moment of the click, marks those
        conversions paid and settles their clawbacks. Each button pays once: a second click, or the same page
        sent again, answers the payout the first one made.
      </p>
      <table data-table="due" class="cards-narrow">
        <thead>
          <tr>
            <th>referrer</th>
            <th>currency</th>
            <th class="n">due</th>
            <th class="n">conversions</th>
            <th class="n">clawbacks</th>
            <th>pay</th>
          </tr>
        </thead>
        <tbody>
          {view.due.map((row) => (
            <tr data-referrer={row.referrer_user_id} data-currency={row.currency}>
              <td data-label="referrer" class="who">
                <Id text={row.referrer_user_id} />
              </td>
              <td data-label="currency">{row.currency}</td>
              <td class="n" data-label="due" data-money="due" data-amount={String(row.amount)}>
                {formatMoney(row.amount, row.currency)}
              </td>
              <td class="n" data-label="conversions">
                {formatCount(row.conversions)}
              </td>
              <td class="n" data-label="clawbacks">
                {formatCount(row.clawbacks)}
              </td>
              <td class="manage" data-label="pay">
                <ActionForm view={view} action={ACTIONS.pay()}>
                  <input type="hidden" name="referrer_user_id" value={row.referrer_user_id} />
                  <input type="hidden" name="currency" value={row.currency} />
                  <input type="hidden" name="idempotency_key" value={row.key} />
                  <button
                    type="submit"
                    data-action="pay"
                  >{`Record payout of ${formatMoney(row.amount, row.currency)}`}</button>
                </ActionForm>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.moreDue ? (
        <p class="note" data-more="due">
          Only the first rows, by referrer. All of them: <code>GET /_reflinks/payouts/due</code>.
        </p>
      ) : null}
    </>
  );
};

const FILE_FORMATS = [
  ["paypal", "PayPal (CSV)"],
  ["wise", "Wise (CSV)"],
  ["sepa", "SEPA (XML)"],
  ["csv", "All payouts (CSV)"],
] as const;

/**
 * A run button per currency with referrers due (and who of them has no payout method), then the
 * newest runs with their files and, per file, the referrers it leaves out for want of a method.
 */
const RunsSection: FC<{ view: DashboardView }> = ({ view }) => (
  <>
    {view.runCurrencies.length === 0 ? (
      <p class="empty" data-empty="run-currencies">
        No currency has a referrer due at least its minimum: there is nothing for a run to pay.
      </p>
    ) : (
      <>
        <p class="note">
          A run pays every referrer due at least the minimum (PAYOUT_MINIMUM) in that currency, one payout
          each, at the moment of the click. Then download the file for PayPal, Wise or your bank and upload it
          there: no money leaves through reflinks. Each button makes one run: a second click answers the first
          run.
        </p>
        <ul data-list="run-currencies">
          {view.runCurrencies.map((row) => (
            <li data-currency={row.currency}>
              <ActionForm view={view} action={ACTIONS.run()}>
                <input type="hidden" name="currency" value={row.currency} />
                <input type="hidden" name="idempotency_key" value={row.key} />
                <button type="submit" data-action="run">
                  {`Pay ${formatCount(row.referrers)} ${row.referrers === 1 ? "referrer" : "referrers"} ${formatMoney(row.amount, row.currency)} (payout run)`}
                </button>
              </ActionForm>
              {row.withoutMethod.length > 0 ? (
                <p class="note" data-without-method={row.currency}>
                  {"Due but without a payout method (in no file but the CSV): "}
                  {row.withoutMethod.map((referrer, index) => (
                    <>
                      {index > 0 ? ", " : ""}
                      <Id text={referrer} />
                    </>
                  ))}
                </p>
              ) : null}
            </li>
          ))}
        </ul>
      </>
    )}
    {view.runs.length === 0 ? (
      <p class="empty" data-empty="runs">
        No payout runs yet.
      </p>
    ) : (
      <table data-table="runs" class="cards-narrow">
        <thead>
          <tr>
            <th>run</th>
            <th>time (UTC)</th>
            <th class="n">amount</th>
            <th class="n">payouts</th>
            <th>files</th>
          </tr>
        </thead>
        <tbody>
          {view.runs.map((run) => (
            <tr data-run={String(run.id)} aria-current={run.id === view.markedRun ? "true" : undefined}>
              <td data-label="run">{`#${run.id}`}</td>
              <td class="time" data-label="time (UTC)">
                {formatTime(run.created_at)}
              </td>
              <td class="n" data-label="amount" data-money="amount" data-amount={String(run.amount)}>
                {formatMoney(run.amount, run.currency)}
              </td>
              <td class="n" data-label="payouts">
                {formatCount(run.payouts.length)}
              </td>
              <td data-label="files">
                <ul>
                  {FILE_FORMATS.map(([format, label]) => {
                    const missing = format === "csv" ? [] : run.missing_method[format];
                    return (
                      <li>
                        <a
                          href={`${DASHBOARD_PATH}/payout-runs/${run.id}/file?format=${format}`}
                          data-file={format}
                        >
                          {label}
                        </a>
                        {missing.length > 0 ? (
                          <span data-missing={format}>
                            {` — not in it, no ${format === "sepa" ? "IBAN" : format} method: `}
                            {missing.map((referrer, index) => (
                              <>
                                {index > 0 ? ", " : ""}
                                <Id text={referrer} />
                              </>
                            ))}
                          </span>
                        ) : null}
                      </li>
                    );
                  })}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </>
);

const PayoutsTable: FC<{ view: DashboardView }> = ({ view }) => {
  if (view.payouts.length === 0) {
    return (
      <p class="empty" data-empty="payouts">
        No payouts recorded yet.
      </p>
    );
  }
  return (
    <>
      <table data-table="payouts" class="cards-narrow">
        <thead>
          <tr>
            <th>payout</th>
            <th>time (UTC)</th>
            <th>referrer</th>
            <th class="n">amount</th>
            <th class="n">conversions</th>
            <th class="n">clawbacks</th>
          </tr>
        </thead>
        <tbody>
          {view.payouts.map((payout) => (
            <tr
              data-payout={String(payout.id)}
              aria-current={payout.id === view.markedPayout ? "true" : undefined}
            >
              <td data-label="payout">{`#${payout.id}`}</td>
              <td class="time" data-label="time (UTC)">
                {formatTime(payout.created_at)}
              </td>
              <td data-label="referrer" class="who">
                <Id text={payout.referrer_user_id} />
              </td>
              <td class="n" data-label="amount" data-money="amount" data-amount={String(payout.amount)}>
                {formatMoney(payout.amount, payout.currency)}
              </td>
              <td class="n" data-label="conversions">
                {formatCount(payout.conversions)}
              </td>
              <td class="n" data-label="clawbacks">
                {formatCount(payout.clawbacks)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="note">
        {`The newest ${formatCount(view.payouts.length)}. All of them: `}
        <code>GET /_reflinks/payouts</code>.
      </p>
    </>
  );
};

const WebhookFailures: FC<{ view: DashboardView }> = ({ view }) => {
  const failing = view.webhooks.filter((webhook) => webhook.failures.length > 0);
  if (failing.length === 0) {
    return (
      <p class="empty" data-empty="webhooks">
        {view.webhooks.length === 0 ? "No webhooks." : "No failed deliveries: every webhook is answering."}
      </p>
    );
  }
  return (
    <>
      {failing.map((webhook) => (
        <div data-webhook={webhook.id}>
          <h3>
            <Id text={webhook.url} />
          </h3>
          <table data-table="failures" class="cards-narrow">
            <thead>
              <tr>
                <th>time (UTC)</th>
                <th>event</th>
                <th class="n">attempt</th>
                <th>answer</th>
                <th>now</th>
                <th>retry</th>
              </tr>
            </thead>
            <tbody>
              {webhook.failures.map((failure) => (
                <tr data-event={failure.eventId} data-delivery={String(failure.deliveryId)}>
                  <td class="time" data-label="time (UTC)">
                    {formatTime(failure.createdAt)}
                  </td>
                  <td data-label="event" class="who">
                    <Id text={failure.type} />
                  </td>
                  <td class="n" data-label="attempt">
                    {String(failure.attempt)}
                  </td>
                  <td class="text" data-label="answer">
                    {failure.statusCode !== null ? (
                      `HTTP ${failure.statusCode}`
                    ) : (
                      <Clipped text={failure.error ?? "no answer"} max={80} />
                    )}
                  </td>
                  <td data-label="now" data-event-status={failure.eventStatus}>
                    {failure.eventStatus === "pending"
                      ? "retrying"
                      : failure.eventStatus === "failed"
                        ? "given up"
                        : "delivered since"}
                  </td>
                  <td class="manage" data-label="retry">
                    {failure.eventStatus !== "delivered" ? (
                      <ActionForm view={view} action={ACTIONS.retry(webhook.id)}>
                        <input type="hidden" name="delivery_id" value={String(failure.deliveryId)} />
                        <button type="submit" class="quiet" data-action="retry">
                          Send again now
                        </button>
                      </ActionForm>
                    ) : (
                      <span class="note">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
};

/** What each fraud rule's flag means, in plain words (docs/fraud.md). */
export const FLAG_WORDS: Record<string, string> = {
  self_referral_ip: "same network as the referrer",
  paid_ads: "came through a paid ad",
  velocity: "many sign-ups from one network in a day",
};

/** A flag in plain words; one this page does not know, by its name. */
export const flagWords = (flag: string) => FLAG_WORDS[flag] ?? flag;

/**
 * The held referrals, newest first, each with its evidence and its Release and Reject forms; below
 * them, a Ban form per referrer in the queue.
 */
const ReviewQueue: FC<{ view: DashboardView }> = ({ view }) => {
  if (view.queue.length === 0) {
    return (
      <p class="empty" data-empty="review">
        Nothing to review: no referral is held.
      </p>
    );
  }
  const referrers = [
    ...new Set(view.queue.flatMap((row) => (row.referrer_user_id === null ? [] : [row.referrer_user_id]))),
  ];
  return (
    <>
      <p class="note">
        A rule held these referrals (FRAUD_RULES): they earn nothing until released. Release: the referral
        counts, and its commissions go on as if never held. Reject: its unpaid commissions, and any later
        ones, earn nothing. The reason is stored with the rejection. Sending a form again changes nothing.
      </p>
      <div class="scroll">
        <table data-table="review" class="cards-narrow">
          <thead>
            <tr>
              <th>referred user</th>
              <th>link</th>
              <th>referrer</th>
              <th>confirmed (UTC)</th>
              <th>held because</th>
              <th>country</th>
              <th>network (ASN)</th>
              <th>paid click</th>
              <th class="n">same network</th>
              <th>decide</th>
            </tr>
          </thead>
          <tbody>
            {view.queue.map((row) => (
              <tr data-referral={String(row.id)}>
                <td data-label="referred user" class="who">
                  <Id text={row.user_id} />
                </td>
                <td data-label="link" class="who">
                  <Id text={row.link} />
                </td>
                <td data-label="referrer" class="who">
                  <Id text={row.referrer_user_id} />
                </td>
                <td class="time" data-label="confirmed (UTC)">
                  {formatTime(row.created_at)}
                </td>
                <td data-label="held because" data-flags={row.flags.join(" ")}>
                  {row.flags.length === 0 ? <span class="note">—</span> : row.flags.map(flagWords).join("; ")}
                </td>
                <td data-label="country">{row.evidence.country ?? <span class="note">—</span>}</td>
                <td data-label="network (ASN)">
                  {row.evidence.asn === null ? <span class="note">—</span> : `AS${row.evidence.asn}`}
                </td>
                <td data-label="paid click">{row.evidence.paid_click ?? <span class="note">—</span>}</td>
                <td
                  class="n"
                  data-label="same network"
                  title="referrals to this link from the same network, this one included"
                >
                  {formatCount(row.evidence.same_network_referrals)}
                </td>
                <td class="manage" data-label="decide">
                  <ActionForm view={view} action={ACTIONS.release(row.id)}>
                    <button type="submit" data-action="release">
                      Release
                    </button>
                  </ActionForm>
                  <ActionForm view={view} action={ACTIONS.reject(row.id)}>
                    <label>
                      Reason
                      <input type="text" name="reason" maxlength={1000} autocomplete="off" />
                    </label>
                    <button type="submit" class="quiet" data-action="reject">
                      Reject
                    </button>
                  </ActionForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {view.moreQueue ? (
        <p class="note" data-more="review">
          Only the newest held referrals. All of them: <code>GET /_reflinks/referrals?status=held</code>.
        </p>
      ) : null}
      <h3>Ban a referrer</h3>
      <p class="note">
        A ban disables every link the referrer owns, rejects every unpaid commission they earn and every held
        referral to them, and rejects later referrals to their links at once. It cannot be undone here.
      </p>
      <ul class="bans">
        {referrers.map((referrer) => (
          <li data-ban={referrer}>
            <ActionForm view={view} action={ACTIONS.ban()}>
              <input type="hidden" name="user_id" value={referrer} />
              <label>
                Reason
                <input type="text" name="reason" maxlength={1000} autocomplete="off" />
              </label>
              <button type="submit" class="quiet" data-action="ban">{`Ban ${referrer}`}</button>
            </ActionForm>
          </li>
        ))}
      </ul>
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
      <table data-table="hits" class="cards-narrow">
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
              <td class="time" data-label="time (UTC)">
                {formatTime(hit.createdAt)}
              </td>
              <td data-label="link" class="who" data-hit-link>
                <Id text={hit.identifier} />
              </td>
              <td class="who" data-label="visitor" data-visitor>
                <span>
                  {hit.hitUserId !== null ? (
                    <Id text={hit.hitUserId} prefix="user " />
                  ) : hit.anonymousId ? (
                    <span
                      class="id"
                      title={hit.anonymousId}
                    >{`anonymous ${hit.anonymousId.slice(0, 8)}`}</span>
                  ) : (
                    <span class="note">unknown</span>
                  )}
                  {hit.confirmedAt ? <strong title={`confirmed ${hit.confirmedAt}`}> ✓</strong> : null}
                </span>
              </td>
              <td data-label="country">{hit.country ?? "—"}</td>
              <td class="text" data-label="referer">
                <Clipped text={hit.httpReferer} />
              </td>
              <td class="text" data-label="next">
                <Clipped text={hit.next} />
              </td>
              <td class="text" data-label="user agent">
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
