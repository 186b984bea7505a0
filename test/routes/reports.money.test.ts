/**
 * `/_reflinks/reports/revenue` and `/reports/earnings` (docs/reports.md#money) on the known
 * dataset: the numbers worked out by hand, the same as the `link_revenue` and `referrer_earnings`
 * views, `due` the same as `GET /payouts/due`, and never a sum of two currencies. This file seeds
 * only the dataset, so whole answers can be compared with whole views.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  earningsReportQuery,
  earningsTotalsQuery,
  inlineParams,
  revenueReportQuery,
  revenueTotalsQuery,
} from "../../src/db/queries/report-sql";
import { apiJson } from "../support/api";
import { expectIntegerMoney } from "../support/money";
import {
  DATASET_PERIOD,
  DATASET_SQL,
  EXPECTED_DUE,
  EXPECTED_EARNINGS,
  EXPECTED_EARNINGS_TOTALS,
  EXPECTED_REVENUE,
  EXPECTED_REVENUE_NARROW,
  EXPECTED_REVENUE_TOTALS,
  EXPECTED_REVENUE_TOTALS_NARROW,
  HOSTILE,
  NARROW_PERIOD,
} from "../support/report-dataset";

type Row = Record<string, unknown>;

beforeAll(async () => {
  await env.DB.batch(DATASET_SQL.map((statement) => env.DB.prepare(statement)));
});

async function view(sql: string): Promise<Row[]> {
  return (await env.DB.prepare(sql).all<Row>()).results;
}

async function rows(path: string): Promise<Row[]> {
  const answer = await apiJson<{ rows: Row[] }>(path);
  expect(answer.status, path).toBe(200);
  expect(expectIntegerMoney(answer.body)).toBeGreaterThanOrEqual(0);
  return answer.body.rows;
}

const query = (period: { from?: string; to?: string }) => new URLSearchParams(period).toString();

describe("GET /reports/revenue", () => {
  it("without a period: the link_revenue view, row for row, by link then currency", async () => {
    const answer = await apiJson("/reports/revenue");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(answer.body).toEqual({ rows: EXPECTED_REVENUE });
    expect(answer.body.rows).toEqual(await view("SELECT * FROM link_revenue ORDER BY identifier, currency"));
    // Every money field is an integer of minor units.
    expect(expectIntegerMoney(answer.body)).toBe(2 * EXPECTED_REVENUE.length);
  });

  it("a link with two currencies has a row for each, never one that adds them", async () => {
    const alpha = (await rows("/reports/revenue")).filter((row) => row.identifier === "rep-alpha");
    expect(alpha).toEqual([
      { identifier: "rep-alpha", currency: "EUR", conversions: 3, revenue: 16_000, commission: 1600 },
      { identifier: "rep-alpha", currency: "USD", conversions: 3, revenue: 10_500, commission: 1050 },
    ]);
    const revenues = (await rows("/reports/revenue")).map((row) => row.revenue);
    expect(revenues).not.toContain(26_500);
  });

  it("a wholly refunded conversion counts, with revenue 0; refunds are taken off the revenue", async () => {
    // rep-c4 (USD 2,000, wholly refunded) alone in its period: one conversion, nothing earned.
    const onlyC4 = await rows("/reports/revenue?from=2025-06-04&to=2025-06-04");
    expect(onlyC4).toEqual([
      { identifier: "rep-alpha", currency: "EUR", conversions: 1, revenue: 10_000, commission: 1000 },
      { identifier: "rep-alpha", currency: "USD", conversions: 1, revenue: 0, commission: 0 },
    ]);
    // rep-c2: 5,000 less a refund of 2,000.
    expect(await rows("/reports/revenue?from=2025-06-05&to=2025-06-05")).toEqual([
      { identifier: "rep-alpha", currency: "EUR", conversions: 1, revenue: 3000, commission: 300 },
    ]);
  });

  it("the deleted link's conversion is in no row (its referrer still earns it: see earnings)", async () => {
    const all = await rows("/reports/revenue");
    expect(all.map((row) => row.identifier)).toEqual(["rep-alpha", "rep-alpha", "rep-beta"]);
    const stored = await view("SELECT SUM(amount) AS amount FROM conversions WHERE currency = 'EUR'");
    expect(stored[0]?.amount).toBe(10_000 + 5000 + 3000 + 2500 + 1200 + 8000);
  });

  it("over a period holding every conversion: the same rows as without one", async () => {
    expect(await rows(`/reports/revenue?${query(DATASET_PERIOD)}`)).toEqual(EXPECTED_REVENUE);
    expect(await rows("/reports/revenue?from=0000-01-01&to=9999-12-31")).toEqual(EXPECTED_REVENUE);
  });

  it("over a narrower period: the conversions made in it, with what is left of them now", async () => {
    // rep-c5 was made on 2025-06-03 and refunded 1,000 on 2025-06-10: its revenue is 6,000.
    expect(await rows(`/reports/revenue?${query(NARROW_PERIOD)}`)).toEqual(EXPECTED_REVENUE_NARROW);
  });

  it("days are whole UTC days; a period without conversions: no rows", async () => {
    // rep-c6 was made at 2025-06-11T00:30: on the 11th, not the 10th.
    expect(await rows("/reports/revenue?from=2025-06-10&to=2025-06-10")).toEqual([
      { identifier: "rep-alpha", currency: "EUR", conversions: 1, revenue: 3000, commission: 300 },
    ]);
    expect(await rows("/reports/revenue?from=2025-06-11")).toEqual([
      { identifier: "rep-alpha", currency: "USD", conversions: 1, revenue: 4500, commission: 450 },
    ]);
    expect(await rows("/reports/revenue?to=2025-06-02")).toEqual([]);
    expect(await rows("/reports/revenue?from=2024-01-01&to=2024-01-31")).toEqual([]);
  });

  it("the SQL `npm run report` and the dashboard run answers the same rows", async () => {
    for (const period of [{}, DATASET_PERIOD, NARROW_PERIOD]) {
      expect(await view(inlineParams(revenueReportQuery(period)))).toEqual(
        await rows(`/reports/revenue?${query(period)}`),
      );
    }
    // The dashboard asks for the links of its page only.
    expect(
      await view(
        inlineParams(revenueReportQuery({ ...DATASET_PERIOD, identifiers: ["rep-beta", "rep-idle"] })),
      ),
    ).toEqual(EXPECTED_REVENUE.filter((row) => row.identifier === "rep-beta"));
    expect(await view(inlineParams(revenueReportQuery({ identifiers: [] })))).toEqual([]);
  });

  it("per currency across links: the sums of the rows of each currency, never of two", async () => {
    for (const [period, expected, linkRows] of [
      [DATASET_PERIOD, EXPECTED_REVENUE_TOTALS, EXPECTED_REVENUE],
      [NARROW_PERIOD, EXPECTED_REVENUE_TOTALS_NARROW, EXPECTED_REVENUE_NARROW],
    ] as const) {
      const totals = await view(inlineParams(revenueTotalsQuery(period)));
      expect(totals).toEqual(expected);
      for (const total of totals) {
        const same = linkRows.filter((row) => row.currency === total.currency);
        expect(total.revenue).toBe(same.reduce((sum, row) => sum + row.revenue, 0));
        expect(total.commission).toBe(same.reduce((sum, row) => sum + row.commission, 0));
      }
    }
  });
});

describe("GET /reports/earnings", () => {
  it("the referrer_earnings view, row for row, each with what is due now", async () => {
    const answer = await apiJson("/reports/earnings");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(answer.body).toEqual({ rows: EXPECTED_EARNINGS });
    const fromView = await view("SELECT * FROM referrer_earnings ORDER BY referrer_user_id, currency");
    expect(answer.body.rows.map(({ due: _, ...row }: Row) => row)).toEqual(fromView);
    // pending, approved, paid and reversed are checked by name; due here.
    expect(expectIntegerMoney(answer.body)).toBe(4 * EXPECTED_EARNINGS.length);
    for (const row of answer.body.rows) expect(Number.isInteger(row.due)).toBe(true);
  });

  it("due is what GET /payouts/due would pay: its amount, or 0 when it has no row", async () => {
    const due = await apiJson<{ rows: Row[] }>("/payouts/due");
    expect(due.status).toBe(200);
    expect(due.body.rows).toEqual(EXPECTED_DUE);
    const earnings = await rows("/reports/earnings");
    for (const row of earnings) {
      const payable = due.body.rows.find(
        (d) => d.referrer_user_id === row.referrer_user_id && d.currency === row.currency,
      );
      expect(row.due, `${row.referrer_user_id} ${row.currency}`).toBe(payable?.amount ?? 0);
    }
    // Every row of /payouts/due is a row of the earnings.
    expect(due.body.rows.map((d) => `${d.referrer_user_id} ${d.currency}`)).toEqual(
      earnings.filter((row) => Number(row.due) > 0).map((row) => `${row.referrer_user_id} ${row.currency}`),
    );
  });

  it("per currency: a paid conversion's clawback is netted from what is due, in its own currency", async () => {
    const alice = (await rows("/reports/earnings")).filter((row) => row.referrer_user_id === "alice");
    // USD: 450 approved, less the 100 taken back from rep-c5 after it was paid.
    expect(alice.find((row) => row.currency === "USD")).toMatchObject({ approved: 450, paid: 700, due: 350 });
    // EUR is untouched by it.
    expect(alice.find((row) => row.currency === "EUR")).toMatchObject({ approved: 1300, due: 1300 });
  });

  it("a conversion of a deleted link is still money owed to its referrer", async () => {
    const earnings = await rows("/reports/earnings");
    expect(earnings.find((row) => row.referrer_user_id === HOSTILE.referrer)).toEqual({
      referrer_user_id: HOSTILE.referrer,
      currency: "EUR",
      pending: 0,
      approved: 800,
      paid: 0,
      reversed: 0,
      due: 800,
    });
  });

  it("the SQL `npm run report` and the dashboard run answers the same rows; totals per currency", async () => {
    expect(await view(inlineParams(earningsReportQuery()))).toEqual(await rows("/reports/earnings"));
    expect(await view(inlineParams(earningsReportQuery({ limit: 2, offset: 1 })))).toEqual(
      EXPECTED_EARNINGS.slice(1, 3),
    );
    expect(await view(inlineParams(earningsTotalsQuery()))).toEqual(EXPECTED_EARNINGS_TOTALS);
  });

  it("takes no period: from or to is a 422 naming it, not an all-time answer that looks like one", async () => {
    for (const name of ["from", "to"]) {
      const answer = await apiJson(`/reports/earnings?${name}=2025-06-01`);
      expect(answer.status, name).toBe(422);
      expect(answer.body.error.code).toBe("validation_failed");
      expect(answer.body.error.message).toMatch(new RegExp(`^${name} is not a parameter of this report`));
    }
    const unknown = await apiJson("/reports/earnings?currency=EUR");
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toBe("currency is not a known field");
    // Empty parameters count as not given.
    expect((await apiJson("/reports/earnings?from=&to=")).status).toBe(200);
  });

  it("follows a payout at once: what was due becomes paid, in that currency only", async () => {
    const paid = await apiJson("/payouts", {
      method: "POST",
      headers: { "Idempotency-Key": "reports-money-test" },
      json: { referrer_user_id: "alice", currency: "EUR" },
    });
    expect(paid.status).toBe(201);
    expect(paid.body.payout).toMatchObject({ amount: 1300, conversions: 2, clawbacks: 0 });
    const alice = (await rows("/reports/earnings")).filter((row) => row.referrer_user_id === "alice");
    expect(alice).toEqual([
      {
        referrer_user_id: "alice",
        currency: "EUR",
        pending: 300,
        approved: 0,
        paid: 1300,
        reversed: 200,
        due: 0,
      },
      EXPECTED_EARNINGS[1],
    ]);
    // Revenue does not move: a payout is not a payment of a referred user.
    expect(await rows("/reports/revenue")).toEqual(EXPECTED_REVENUE);
  });
});
