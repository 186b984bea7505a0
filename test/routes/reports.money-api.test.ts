/**
 * The money reports on money made through the API itself (conversions, refunds, a payout, a
 * clawback), not on seeded rows: `/reports/earnings` is the `referrer_earnings` view with `due`
 * equal to `GET /payouts/due`, and `/reports/revenue` the `link_revenue` view, whatever the API
 * writes. The seeded dataset (reports.money.test.ts) fixes the numbers; this keeps the report's own
 * `due` SQL from drifting from the payouts' own.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiJson } from "../support/api";
import { converted, externalId, pay, referredUser, reverse } from "../support/money";

type Row = Record<string, unknown>;

async function rows(path: string): Promise<Row[]> {
  const answer = await apiJson<{ rows: Row[] }>(path);
  expect(answer.status, path).toBe(200);
  return answer.body.rows;
}

describe("money made through the API", () => {
  it("earnings and revenue agree with the views and with /payouts/due at every step", async () => {
    const { user, referrer, link } = await referredUser();
    const mine = async () =>
      (await rows("/reports/earnings")).filter((row) => row.referrer_user_id === referrer);
    const dueOf = async () => (await rows("/payouts/due")).filter((row) => row.referrer_user_id === referrer);

    /** The report, the view and /payouts/due all say the same; answers the report's rows. */
    const agree = async () => {
      const earnings = await mine();
      const { results } = await env.DB.prepare(
        "SELECT * FROM referrer_earnings WHERE referrer_user_id = ? ORDER BY currency",
      )
        .bind(referrer)
        .all<Row>();
      expect(earnings.map(({ due: _, ...row }) => row)).toEqual(results);
      const due = await dueOf();
      for (const row of earnings) {
        const payable = due.find((d) => d.currency === row.currency);
        expect(row.due, String(row.currency)).toBe(payable?.amount ?? 0);
      }
      const revenue = (await rows("/reports/revenue")).filter((row) => row.identifier === link.identifier);
      const fromView = await env.DB.prepare(
        "SELECT * FROM link_revenue WHERE identifier = ? ORDER BY currency",
      )
        .bind(link.identifier)
        .all<Row>();
      expect(revenue).toEqual(fromView.results);
      return { earnings, revenue };
    };

    // 10 % at once (HOLD_DAYS=0): 10,000 EUR and 3,000 USD.
    const eur = externalId("eur");
    const usd = externalId("usd");
    await converted(user, 10_000, { externalId: eur });
    await converted(user, 3000, { externalId: usd, currency: "USD" });
    expect((await agree()).earnings).toEqual([
      {
        referrer_user_id: referrer,
        currency: "EUR",
        pending: 0,
        approved: 1000,
        paid: 0,
        reversed: 0,
        due: 1000,
      },
      {
        referrer_user_id: referrer,
        currency: "USD",
        pending: 0,
        approved: 300,
        paid: 0,
        reversed: 0,
        due: 300,
      },
    ]);

    // The EUR is paid, then a quarter of it refunded: a clawback of 250, due nowhere else.
    expect((await pay(referrer, "EUR")).status).toBe(201);
    expect((await reverse(eur, { reversal_id: externalId("re"), amount: 2500 })).status).toBe(201);
    // A new EUR payment (200) does not cover the clawback: nothing is due, and due says 0.
    await converted(user, 2000);
    // One still in its hold, and the USD wholly refunded.
    await converted(user, 5000, { bindings: { COMMISSION: "percent:10", HOLD_DAYS: "30" } });
    expect((await reverse(usd, { reversal_id: externalId("re") })).status).toBe(201);

    const { earnings, revenue } = await agree();
    expect(earnings).toEqual([
      {
        referrer_user_id: referrer,
        currency: "EUR",
        pending: 500,
        approved: 200,
        paid: 1000,
        reversed: 250,
        due: 0,
      },
      {
        referrer_user_id: referrer,
        currency: "USD",
        pending: 0,
        approved: 0,
        paid: 0,
        reversed: 300,
        due: 0,
      },
    ]);
    expect(await dueOf()).toEqual([]);
    expect(revenue).toEqual([
      { identifier: link.identifier, currency: "EUR", conversions: 3, revenue: 14_500, commission: 1450 },
      { identifier: link.identifier, currency: "USD", conversions: 1, revenue: 0, commission: 0 },
    ]);

    // Another 600 EUR: 200 + 600 − 250 = 550 due, and the report says so.
    await converted(user, 6000);
    expect((await agree()).earnings[0]).toMatchObject({ approved: 800, due: 550 });
    expect(await dueOf()).toEqual([
      { referrer_user_id: referrer, currency: "EUR", amount: 550, conversions: 2, clawbacks: 1 },
    ]);
  });
});
