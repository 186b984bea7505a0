/**
 * The dashboard's money on the known dataset: revenue and commission per link and per currency
 * over the period, each referrer's earnings and what is due as of now, and the totals per
 * currency: the numbers of the dataset (worked out by hand), of the money views and of the API,
 * as the page writes them, and never an amount that adds two currencies.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { apiJson } from "../support/api";
import { type Element, openDashboard, select, texts } from "../support/dashboard";
import {
  CROSS_CURRENCY_SUMS,
  DATASET_PERIOD,
  DATASET_SQL,
  EXPECTED_DUE,
  EXPECTED_EARNINGS,
  EXPECTED_EARNINGS_TOTALS,
  EXPECTED_LINKS,
  EXPECTED_REVENUE,
  EXPECTED_REVENUE_NARROW,
  EXPECTED_REVENUE_TOTALS,
  EXPECTED_REVENUE_TOTALS_NARROW,
  HOSTILE,
  NARROW_PERIOD,
  showsAmount,
} from "../support/report-dataset";

beforeAll(async () => {
  await env.DB.batch(DATASET_SQL.map((statement) => env.DB.prepare(statement)));
});

const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

async function page(search: string): Promise<string> {
  const response = await openDashboard(search);
  const html = await response.text();
  expect(response.status, html).toBe(200);
  return html;
}

/** Text as the browser shows it: the page's entities decoded. */
const shown = (text: string) =>
  text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&")
    .trim();

/**
 * `160.00 EUR` as 16000 and EUR: every amount of the dataset has two decimals (EUR, USD), so the
 * digits are the minor units. Read from the text a person sees, not from data attributes.
 */
function minorUnits(text: string): { amount: number; currency: string } {
  const match = /^(-?[\d,]+)\.(\d{2})(?: ([A-Z]{3}))?$/.exec(text);
  if (!match) throw new Error(`not an amount: "${text}"`);
  return { amount: Number(`${match[1]?.replaceAll(",", "")}${match[2]}`), currency: match[3] ?? "" };
}

/** The amounts of a page region, per currency line: `[{currency, amount}]`. */
async function moneyLines(html: string, selector: string) {
  return (await texts(html, `${selector} .money`)).map(minorUnits);
}

/** Per link row of the links table: its identifier and its revenue and commission lines. */
async function linkMoney(html: string) {
  const rows = await select(html, "table[data-table=links] tbody tr");
  const result = [];
  for (const row of rows) {
    const identifier = row.attributes["data-link"] ?? "";
    const cell = (name: string) =>
      moneyLines(html, `table[data-table=links] tbody tr[data-link="${identifier}"] td[data-money=${name}]`);
    result.push({ identifier, revenue: await cell("revenue"), commission: await cell("commission") });
  }
  return result;
}

/** What the links table must show: each link of the page with its rows of `expected`. */
function expectedLinkMoney(expected: typeof EXPECTED_REVENUE) {
  return EXPECTED_LINKS.map(({ identifier }) => {
    const mine = expected.filter((row) => row.identifier === identifier);
    return {
      identifier,
      revenue: mine.map((row) => ({ amount: row.revenue, currency: row.currency })),
      commission: mine.map((row) => ({ amount: row.commission, currency: row.currency })),
    };
  });
}

/** The rows of the earnings table (tbody, or tfoot for the totals) as the report's rows. */
async function earningsRows(html: string, part: "tbody" | "tfoot") {
  const rows = await select(html, `table[data-table=earnings] ${part} tr`);
  const cells = await select(html, `table[data-table=earnings] ${part} tr > *`);
  const perRow = cells.length / Math.max(rows.length, 1);
  expect(perRow).toBe(7);
  return rows.map((_, index) => {
    const [who, currency, ...amounts] = cells.slice(index * perRow, (index + 1) * perRow) as Element[];
    const row: Record<string, string | number> = { currency: shown(currency?.text ?? "") };
    if (part === "tbody") row.referrer_user_id = shown(who?.text ?? "");
    for (const [at, column] of ["pending", "approved", "paid", "reversed", "due"].entries()) {
      row[column] = minorUnits(shown(amounts[at]?.text ?? "")).amount;
    }
    return row;
  });
}

describe("revenue and commission over the dataset's period", () => {
  it("totals per currency, one line each: the conversions made in the period", async () => {
    const html = await page(query(DATASET_PERIOD));
    expect(await texts(html, "[data-money-total=revenue] .money")).toEqual(["197.00 EUR", "105.00 USD"]);
    expect(await texts(html, "[data-money-total=commission] .money")).toEqual(["25.00 EUR", "10.50 USD"]);
    expect(await moneyLines(html, "[data-money-total=revenue]")).toEqual(
      EXPECTED_REVENUE_TOTALS.map(({ currency, revenue }) => ({ amount: revenue, currency })),
    );
    expect(await moneyLines(html, "[data-money-total=commission]")).toEqual(
      EXPECTED_REVENUE_TOTALS.map(({ currency, commission }) => ({ amount: commission, currency })),
    );
    // The conversions are in the tooltip.
    const revenue = await select(html, "[data-money-total=revenue] .money");
    expect(revenue.map((line) => line.attributes.title)).toEqual(["5 conversions", "3 conversions"]);
  });

  it("per link, a line per currency: the link_revenue view and GET /reports/revenue", async () => {
    const html = await page(query(DATASET_PERIOD));
    const alpha = 'table[data-table=links] tbody tr[data-link="rep-alpha"]';
    expect(await texts(html, `${alpha} td[data-money=revenue] .money`)).toEqual(["160.00 EUR", "105.00 USD"]);
    expect(await texts(html, `${alpha} td[data-money=commission] .money`)).toEqual([
      "16.00 EUR",
      "10.50 USD",
    ]);
    expect(await linkMoney(html)).toEqual(expectedLinkMoney(EXPECTED_REVENUE));
    // Links without a conversion show a dash, not 0 in some currency.
    expect(await texts(html, 'tr[data-link="rep-idle"] td[data-money]')).toEqual(["—", "—"]);
    const api = await apiJson(`/reports/revenue?${query(DATASET_PERIOD)}`);
    expect(api.body.rows).toEqual(EXPECTED_REVENUE);
  });

  it("a narrower period: the conversions made in it", async () => {
    const html = await page(query(NARROW_PERIOD));
    expect(await moneyLines(html, "[data-money-total=revenue]")).toEqual(
      EXPECTED_REVENUE_TOTALS_NARROW.map(({ currency, revenue }) => ({ amount: revenue, currency })),
    );
    expect(await linkMoney(html)).toEqual(expectedLinkMoney(EXPECTED_REVENUE_NARROW));
  });

  it("narrowed to one link: the totals are the link's, per currency", async () => {
    const html = await page(query({ ...DATASET_PERIOD, link: "rep-beta" }));
    expect(await texts(html, "[data-money-total=revenue] .money")).toEqual(["37.00 EUR"]);
    expect(await texts(html, "[data-money-total=commission] .money")).toEqual(["9.00 EUR"]);
  });

  it("a period without conversions: dashes", async () => {
    const html = await page("from=2025-06-01&to=2025-06-02");
    expect(await texts(html, "[data-money-total]")).toEqual(["—", "—"]);
    expect(new Set(await texts(html, "table[data-table=links] td[data-money]"))).toEqual(new Set(["—"]));
  });
});

describe("earnings and payouts due", () => {
  it("every referrer and currency: the referrer_earnings view, due as GET /payouts/due", async () => {
    const html = await page(query(DATASET_PERIOD));
    expect(await earningsRows(html, "tbody")).toEqual(EXPECTED_EARNINGS);
    // As written: amounts in the currency's unit, the currency in its own column.
    expect(await texts(html, "table[data-table=earnings] tbody tr:nth-child(2) > *")).toEqual([
      "alice",
      "USD",
      "0.00",
      "4.50",
      "7.00",
      "3.00",
      "3.50",
    ]);

    const due = await apiJson("/payouts/due");
    expect(due.body.rows).toEqual(EXPECTED_DUE);
    const shownDue = (await earningsRows(html, "tbody")).filter((row) => Number(row.due) > 0);
    expect(
      shownDue.map(({ referrer_user_id, currency, due }) => ({ referrer_user_id, currency, due })),
    ).toEqual(
      EXPECTED_DUE.map(({ referrer_user_id, currency, amount }) => ({
        referrer_user_id,
        currency,
        due: amount,
      })),
    );
  });

  it("totals per currency below the table: what is due to everyone, in each currency", async () => {
    const html = await page(query(DATASET_PERIOD));
    expect(await earningsRows(html, "tfoot")).toEqual(EXPECTED_EARNINGS_TOTALS);
    expect(
      await texts(html, "table[data-table=earnings] tfoot tr[data-currency=EUR] td[data-money=due]"),
    ).toEqual(["21.00"]);
  });

  it("are as of now: the same whatever the period or link", async () => {
    const all = await earningsRows(await page(query(DATASET_PERIOD)), "tbody");
    for (const search of [query(NARROW_PERIOD), query({ ...NARROW_PERIOD, link: "rep-beta" }), ""]) {
      expect(await earningsRows(await page(search), "tbody"), search).toEqual(all);
    }
  });

  it("the deleted link's referrer is shown, as text", async () => {
    const html = await page(query(DATASET_PERIOD));
    const referrers = (await texts(html, "table[data-table=earnings] tbody td[data-referrer]")).map(shown);
    expect(referrers).toEqual(["alice", "alice", "bob", HOSTILE.referrer]);
    expect(html).not.toContain(HOSTILE.referrer);
  });
});

it("no amount on the page adds two currencies", async () => {
  for (const search of [query(DATASET_PERIOD), query({ ...DATASET_PERIOD, link: "rep-alpha" })]) {
    const html = await page(search);
    const text = (await select(html, "main")).map((main) => main.text).join(" ");
    expect(text).toContain("160.00 EUR"); // the check reads the amounts the page shows
    for (const amount of CROSS_CURRENCY_SUMS)
      expect(showsAmount(text, amount), `${amount} in ${search}`).toBe(false);
  }
});
