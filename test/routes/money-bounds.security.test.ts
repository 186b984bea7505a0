/**
 * Money totals stay exact (SPEC "The operator's door", Money and ids): an `amount` is at most
 * MAX_AMOUNT minor units, so that no sum the API, the views or the dashboard answer passes what a
 * JSON number carries exactly, and one referrer's numbers cannot make another's report or payout
 * fail. Before the bound, three conversions of 2^53-1 answered a sum one minor unit off, and past
 * 2^63 SQLite's SUM overflowed and every referrer's `/payouts/due` answered 500.
 */
import { describe, expect, it } from "vitest";
import { formatMinor } from "../../src/db/queries/report-sql";
import { MAX_AMOUNT } from "../../src/lib/money";
import { apiError, apiJson } from "../support/api";
import { openDashboard } from "../support/dashboard";
import {
  convert,
  converted,
  countRows,
  DUE_AT_ONCE,
  dueRow,
  externalId,
  pay,
  referredUser,
  reverse,
} from "../support/money";

/** The commission is the payment: the sums are as large as the payments' own. */
const ALL_OF_IT = { ...DUE_AT_ONCE, COMMISSION: "percent:100" };

// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
type Row = any;

async function rows(path: string): Promise<Row[]> {
  const answer = await apiJson<{ rows: Row[] }>(path);
  expect(answer.status, path).toBe(200);
  return answer.body.rows;
}

describe("amount is at most MAX_AMOUNT minor units", () => {
  it("is 100,000,000,000 (a billion in a currency of cents)", () => {
    expect(MAX_AMOUNT).toBe(100_000_000_000);
  });

  it.each([MAX_AMOUNT + 1, Number.MAX_SAFE_INTEGER])(
    "a conversion of %d: 422 naming amount, nothing stored",
    async (amount) => {
      const { user } = await referredUser();
      const answer = await convert({ user_id: user, external_id: externalId(), amount, currency: "EUR" });
      expect(answer.status).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /^amount /));
      expect(await countRows("conversions", "user_id = ?", user)).toBe(0);
    },
  );

  it("a reversal above it: 422 naming amount, nothing reversed", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, MAX_AMOUNT);
    const answer = await reverse(conversion.external_id, {
      reversal_id: externalId("refund"),
      amount: MAX_AMOUNT + 1,
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", /^amount /));
    expect(await countRows("reversals", "conversion_id = ?", conversion.id)).toBe(0);
  });
});

describe("sums at the maximum are exact, and harm no other referrer", () => {
  it("three conversions at the maximum: /payouts/due, the reports and the dashboard answer exact figures; another referrer is paid", async () => {
    const big = await referredUser();
    const small = await referredUser();
    for (let i = 0; i < 3; i++) {
      await converted(big.user, MAX_AMOUNT, { currency: "CHF", bindings: ALL_OF_IT });
    }
    // What used to be stored and summed one minor unit off (3 * (2^53 - 1)) is refused now.
    const refused = await convert(
      { user_id: big.user, external_id: externalId(), amount: Number.MAX_SAFE_INTEGER, currency: "CHF" },
      ALL_OF_IT,
    );
    expect(refused.status).toBe(422);
    await converted(small.user, 1234, { currency: "CHF", bindings: ALL_OF_IT });

    const total = 3 * MAX_AMOUNT;
    expect(await dueRow(big.referrer, "CHF")).toEqual({
      referrer_user_id: big.referrer,
      currency: "CHF",
      amount: total,
      conversions: 3,
      clawbacks: 0,
    });
    expect((await rows("/reports/revenue")).find((row) => row.identifier === big.link.identifier)).toEqual({
      identifier: big.link.identifier,
      currency: "CHF",
      conversions: 3,
      revenue: total,
      commission: total,
    });
    expect(
      (await rows("/reports/earnings")).find((row) => row.referrer_user_id === big.referrer),
    ).toMatchObject({ approved: total, due: total });

    const dashboard = await openDashboard();
    const html = await dashboard.text();
    expect(dashboard.status, html).toBe(200);
    expect(html).toContain(formatMinor(total, "CHF"));
    expect(html).toContain(formatMinor(total + 1234, "CHF")); // every referrer's, summed

    const payout = await pay(small.referrer, "CHF");
    expect(payout.status).toBe(201);
    expect(payout.body.payout).toMatchObject({ amount: 1234, conversions: 1 });
    const bigPayout = await pay(big.referrer, "CHF");
    expect(bigPayout.status).toBe(201);
    expect(bigPayout.body.payout).toMatchObject({ amount: total, conversions: 3 });
  });
});

describe("a fixed commission is bounded as a payment is", () => {
  it("a link's fixed:N above MAX_AMOUNT: 422 naming commission; at it: taken", async () => {
    const identifier = `fixed-bound-${crypto.randomUUID().slice(0, 8)}`;
    expect((await apiJson("/links", { method: "POST", json: { identifier } })).status).toBe(201);
    const over = await apiJson(`/links/${identifier}`, {
      method: "PATCH",
      json: { commission: `fixed:${MAX_AMOUNT + 1}` },
    });
    expect(over.status).toBe(422);
    expect(over.body).toEqual(apiError("validation_failed", /commission/));
    const at = await apiJson(`/links/${identifier}`, {
      method: "PATCH",
      json: { commission: `fixed:${MAX_AMOUNT}` },
    });
    expect(at.status).toBe(200);
    expect(at.body.commission).toBe(`fixed:${MAX_AMOUNT}`);
  });

  it("COMMISSION=fixed:N above MAX_AMOUNT is a bad setting, named", async () => {
    const { parseConfig } = await import("../../src/config");
    expect(() => parseConfig({ COMMISSION: `fixed:${MAX_AMOUNT + 1}` })).toThrow(/COMMISSION must be/);
    expect(parseConfig({ COMMISSION: `fixed:${MAX_AMOUNT}` }).commission).toEqual({
      kind: "fixed",
      amount: MAX_AMOUNT,
    });
  });
});
