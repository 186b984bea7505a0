/**
 * `/_reflinks/payouts` (docs/money.md#payouts): what is due per referrer and currency, paid in one
 * atomic batch once per Idempotency-Key, clawbacks netted, and a commission never paid twice
 * however many calls race.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_AMOUNT } from "../../src/lib/money";
import { apiError, apiJson, uniqueUser } from "../support/api";
import {
  convert,
  converted,
  countRows,
  DUE_AT_ONCE,
  dueRow,
  endHold,
  externalId,
  getConversion,
  linkRevenue,
  listConversions,
  listPayouts,
  pay,
  referredUser,
  referrerEarnings,
  reverse,
} from "../support/money";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A referrer with two referred users and approved conversions of theirs (10 %). */
async function referrerWith(amounts: number[], currency = "EUR") {
  const referrer = uniqueUser("referrer");
  const first = await referredUser({ referrer });
  const second = await referredUser({ referrer });
  const conversions = [];
  for (const [index, amount] of amounts.entries()) {
    conversions.push(await converted(index % 2 ? second.user : first.user, amount, { currency }));
  }
  return { referrer, users: [first.user, second.user] as const, conversions };
}

describe("GET /payouts/due", () => {
  it("approved unpaid commissions per referrer and currency; pending and zero ones are not due", async () => {
    const { referrer, users } = await referrerWith([1000, 2000]);
    // Pending (the default 30-day hold) and commission 0 (COMMISSION unset): neither is due.
    await convert(
      { user_id: users[0], external_id: externalId(), amount: 5000, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );
    await convert(
      { user_id: users[0], external_id: externalId(), amount: 5000, currency: "EUR" },
      { HOLD_DAYS: "0" },
    );

    expect(await dueRow(referrer, "EUR")).toEqual({
      referrer_user_id: referrer,
      currency: "EUR",
      amount: 300,
      conversions: 2,
      clawbacks: 0,
    });
    const all = await apiJson("/payouts/due");
    expect(all.status).toBe(200);
    expect(
      all.body.rows.filter((row: { referrer_user_id: string }) => row.referrer_user_id === referrer),
    ).toEqual([{ referrer_user_id: referrer, currency: "EUR", amount: 300, conversions: 2, clawbacks: 0 }]);
    expect(all.body.rows.every((row: { amount: number }) => row.amount > 0)).toBe(true);
  });

  it("?currency filters; a currency that is not three capitals: 422", async () => {
    const { referrer } = await referrerWith([1000]);
    expect(await dueRow(referrer, "USD")).toBeUndefined();
    const bad = await apiJson("/payouts/due?currency=eur");
    expect(bad.status).toBe(422);
    expect(bad.body).toEqual(apiError("validation_failed", /currency/));
  });
});

describe("POST /payouts: once per Idempotency-Key", () => {
  it("201 {payout} pays every approved commission; the conversions become paid and nothing is due after", async () => {
    const { referrer, conversions } = await referrerWith([1000, 2001, 333]);
    const held = await convert(
      { user_id: conversions[0].user_id, external_id: externalId(), amount: 9000, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );

    const answer = await pay(referrer, "EUR");
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      payout: {
        id: expect.any(Number),
        referrer_user_id: referrer,
        currency: "EUR",
        amount: 100 + 200 + 33,
        conversions: 3,
        clawbacks: 0,
        created_at: expect.stringMatching(ISO),
      },
    });
    const payoutId = answer.body.payout.id;
    for (const conversion of conversions) {
      expect((await getConversion(conversion.external_id)).body).toMatchObject({
        status: "paid",
        payout_id: payoutId,
      });
    }
    expect((await getConversion(held.body.conversion.external_id)).body).toMatchObject({
      status: "pending",
      payout_id: null,
    });
    expect(await dueRow(referrer, "EUR")).toBeUndefined();
    expect(
      (await listConversions({ referrer_user_id: referrer, status: "paid" })).body.conversions,
    ).toHaveLength(3);
    expect(await referrerEarnings(referrer)).toEqual([
      { referrer_user_id: referrer, currency: "EUR", pending: 900, approved: 0, paid: 333, reversed: 0 },
    ]);

    const again = await pay(referrer, "EUR");
    expect(again.status).toBe(409);
    expect(again.body).toEqual(apiError("nothing_due"));
  });

  it("no Idempotency-Key (or an empty one): 422, nothing paid", async () => {
    const { referrer } = await referrerWith([1000]);
    for (const key of [null, "", "   "]) {
      const answer = await pay(referrer, "EUR", key);
      expect(answer.status, JSON.stringify(key)).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /Idempotency-Key/));
    }
    const tooLong = await pay(referrer, "EUR", "k".repeat(256));
    expect(tooLong.status).toBe(422);
    expect(await countRows("payouts", "referrer_user_id = ?", referrer)).toBe(0);
    expect((await dueRow(referrer, "EUR"))?.amount).toBe(100);
  });

  it("a bad body: 422 naming the field", async () => {
    const referrer = uniqueUser("referrer");
    for (const [json, field] of [
      [{ referrer_user_id: referrer, currency: "eur" }, /currency/],
      [{ referrer_user_id: referrer }, /currency/],
      [{ currency: "EUR" }, /referrer_user_id/],
      [{ referrer_user_id: referrer, currency: "EUR", amount: 5 }, /amount/],
    ] as const) {
      const answer = await apiJson("/payouts", {
        method: "POST",
        json,
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
      expect(answer.status, JSON.stringify(json)).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", field));
    }
  });

  it("nothing due (no conversions, only pending ones, or a referrer nobody knows): 409 nothing_due", async () => {
    expect((await pay(uniqueUser("nobody"), "EUR")).body).toEqual(apiError("nothing_due"));
    const { user, referrer } = await referredUser();
    await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );
    const pending = await pay(referrer, "EUR");
    expect(pending.status).toBe(409);
    expect(pending.body).toEqual(apiError("nothing_due"));
    expect(await countRows("payouts", "referrer_user_id = ?", referrer)).toBe(0);
  });

  it("the same key again: 200 with the same payout, even after more became due (it is paid by another key)", async () => {
    const { referrer, users } = await referrerWith([1000]);
    const key = crypto.randomUUID();
    const first = await pay(referrer, "EUR", key);
    expect(first.status).toBe(201);

    await converted(users[0], 5000);
    const again = await pay(referrer, "EUR", key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((await dueRow(referrer, "EUR"))?.amount).toBe(500);
    const next = await pay(referrer, "EUR");
    expect(next.status).toBe(201);
    expect(next.body.payout.amount).toBe(500);
    expect(next.body.payout.id).not.toBe(first.body.payout.id);
  });

  it("a key used for another referrer or another currency: 409 conflict, nothing paid", async () => {
    const one = await referrerWith([1000]);
    const two = await referrerWith([2000]);
    await converted(one.users[0], 3000, { currency: "USD" });
    const key = crypto.randomUUID();
    expect((await pay(one.referrer, "EUR", key)).status).toBe(201);

    const otherReferrer = await pay(two.referrer, "EUR", key);
    expect(otherReferrer.status).toBe(409);
    expect(otherReferrer.body).toEqual(apiError("conflict", /Idempotency-Key/));
    const otherCurrency = await pay(one.referrer, "USD", key);
    expect(otherCurrency.status).toBe(409);
    expect(otherCurrency.body).toEqual(apiError("conflict", /Idempotency-Key/));

    expect((await dueRow(two.referrer, "EUR"))?.amount).toBe(200);
    expect((await dueRow(one.referrer, "USD"))?.amount).toBe(300);
  });

  it("a key that paid nothing (nothing_due) can pay later, when something is due", async () => {
    const { user, referrer } = await referredUser();
    const key = crypto.randomUUID();
    expect((await pay(referrer, "EUR", key)).status).toBe(409);
    await converted(user, 1000);
    const later = await pay(referrer, "EUR", key);
    expect(later.status).toBe(201);
    expect(later.body.payout.amount).toBe(100);
  });

  it("a conversion whose hold ended (no job) is paid like an approved one", async () => {
    const { user, referrer } = await referredUser();
    const held = await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );
    await endHold(held.body.conversion.external_id);
    const answer = await pay(referrer, "EUR");
    expect(answer.status).toBe(201);
    expect(answer.body.payout).toMatchObject({ amount: 100, conversions: 1 });
    expect((await getConversion(held.body.conversion.external_id)).body.status).toBe("paid");
  });
});

describe("currencies are never mixed", () => {
  it("EUR and USD are two due rows and two payouts, each of its own conversions", async () => {
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer });
    const eur = [
      await converted(user, 1000, { currency: "EUR" }),
      await converted(user, 2000, { currency: "EUR" }),
    ];
    const usd = await converted(user, 5000, { currency: "USD" });
    const jpy = await converted(user, 70, { currency: "JPY" });

    const due = await apiJson("/payouts/due");
    expect(
      due.body.rows.filter((row: { referrer_user_id: string }) => row.referrer_user_id === referrer),
    ).toEqual([
      { referrer_user_id: referrer, currency: "EUR", amount: 300, conversions: 2, clawbacks: 0 },
      { referrer_user_id: referrer, currency: "JPY", amount: 7, conversions: 1, clawbacks: 0 },
      { referrer_user_id: referrer, currency: "USD", amount: 500, conversions: 1, clawbacks: 0 },
    ]);

    const eurPayout = await pay(referrer, "EUR");
    expect(eurPayout.body.payout).toMatchObject({ currency: "EUR", amount: 300, conversions: 2 });
    expect((await getConversion(usd.external_id)).body).toMatchObject({
      status: "approved",
      payout_id: null,
    });
    expect((await dueRow(referrer, "USD"))?.amount).toBe(500);

    const usdPayout = await pay(referrer, "USD");
    expect(usdPayout.body.payout).toMatchObject({ currency: "USD", amount: 500, conversions: 1 });
    for (const conversion of eur) {
      expect((await getConversion(conversion.external_id)).body.payout_id).toBe(eurPayout.body.payout.id);
    }
    expect((await getConversion(usd.external_id)).body.payout_id).toBe(usdPayout.body.payout.id);
    expect((await getConversion(jpy.external_id)).body.payout_id).toBeNull();
    expect(await referrerEarnings(referrer)).toEqual([
      { referrer_user_id: referrer, currency: "EUR", pending: 0, approved: 0, paid: 300, reversed: 0 },
      { referrer_user_id: referrer, currency: "JPY", pending: 0, approved: 7, paid: 0, reversed: 0 },
      { referrer_user_id: referrer, currency: "USD", pending: 0, approved: 0, paid: 500, reversed: 0 },
    ]);
  });

  it("a USD clawback is netted in the USD payout only", async () => {
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer });
    const usd = await converted(user, 5000, { currency: "USD" });
    expect((await pay(referrer, "USD")).status).toBe(201);
    await reverse(usd.external_id, { reversal_id: externalId("refund"), amount: 1000 }); // claws back 100
    await converted(user, 4000, { currency: "EUR" }); // 400 due in EUR
    await converted(user, 3000, { currency: "USD" }); // 300 due in USD, less the 100

    expect((await pay(referrer, "EUR")).body.payout).toMatchObject({
      amount: 400,
      conversions: 1,
      clawbacks: 0,
    });
    expect((await pay(referrer, "USD")).body.payout).toMatchObject({
      amount: 200,
      conversions: 1,
      clawbacks: 1,
    });
  });
});

describe("clawbacks: a reversal of a paid conversion is taken back from the next payout", () => {
  it("the conversion stays paid; the next payout nets the clawback (amount and counts); the reversal names that payout", async () => {
    const { referrer, users, conversions } = await referrerWith([1000, 2000]);
    const first = await pay(referrer, "EUR");
    expect(first.body.payout.amount).toBe(300);

    const refundId = externalId("refund");
    const refund = await reverse(conversions[1].external_id, { reversal_id: refundId, amount: 1500 });
    expect(refund.status).toBe(201);
    expect(refund.body.conversion).toMatchObject({ status: "paid", commission: 50, reversed_amount: 1500 });
    expect(refund.body.reversal).toMatchObject({ commission_delta: -150, payout_id: null });
    // A clawback alone is never a payout: nothing is due.
    expect(await dueRow(referrer, "EUR")).toBeUndefined();
    expect((await pay(referrer, "EUR")).body).toEqual(apiError("nothing_due"));

    await converted(users[0], 4000); // 400
    expect(await dueRow(referrer, "EUR")).toEqual({
      referrer_user_id: referrer,
      currency: "EUR",
      amount: 250,
      conversions: 1,
      clawbacks: 1,
    });
    const second = await pay(referrer, "EUR");
    expect(second.status).toBe(201);
    expect(second.body.payout).toMatchObject({ amount: 250, conversions: 1, clawbacks: 1 });

    // The reversal, asked for again, now names the payout that settled it.
    const settled = await reverse(conversions[1].external_id, { reversal_id: refundId, amount: 1500 });
    expect(settled.status).toBe(200);
    expect(settled.body.reversal.payout_id).toBe(second.body.payout.id);
    expect(await dueRow(referrer, "EUR")).toBeUndefined();
    // The first payout is unchanged: a clawback is settled once.
    const listed = await listPayouts({ referrer_user_id: referrer });
    expect(listed.body.payouts.map((p: { amount: number }) => p.amount)).toEqual([250, 300]);
    expect(await referrerEarnings(referrer)).toEqual([
      { referrer_user_id: referrer, currency: "EUR", pending: 0, approved: 0, paid: 700, reversed: 150 },
    ]);
  });

  it("clawbacks larger than what is due wait: nothing is due until the commissions exceed them", async () => {
    const { referrer, users, conversions } = await referrerWith([10_000]);
    expect((await pay(referrer, "EUR")).body.payout.amount).toBe(1000);
    const whole = await reverse(conversions[0].external_id, { reversal_id: externalId("refund") });
    expect(whole.body.conversion).toMatchObject({ status: "paid", commission: 0, reversed_amount: 10_000 });
    expect(whole.body.reversal.commission_delta).toBe(-1000);

    await converted(users[0], 4000); // 400 < 1000
    expect(await dueRow(referrer, "EUR")).toBeUndefined();
    expect((await pay(referrer, "EUR")).status).toBe(409);
    await converted(users[1], 7000); // 400 + 700 - 1000 = 100
    expect(await dueRow(referrer, "EUR")).toMatchObject({ amount: 100, conversions: 2, clawbacks: 1 });
    expect((await pay(referrer, "EUR")).body.payout).toMatchObject({
      amount: 100,
      conversions: 2,
      clawbacks: 1,
    });
  });

  it("a fixed commission is clawed back only when the payment is wholly reversed", async () => {
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer, commission: "fixed:250" });
    const conversion = await converted(user, 1000);
    expect((await pay(referrer, "EUR")).body.payout.amount).toBe(250);
    const partial = await reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 500 });
    expect(partial.body.reversal.commission_delta).toBe(0);
    const rest = await reverse(conversion.external_id, { reversal_id: externalId("refund") });
    expect(rest.body.reversal.commission_delta).toBe(-250);
    await converted(user, 1000);
    await converted(user, 1000);
    expect((await pay(referrer, "EUR")).body.payout).toMatchObject({
      amount: 250,
      conversions: 2,
      clawbacks: 1,
    });
  });

  it("a refund of a paid conversion that takes no commission back (it rounds the same) is no clawback", async () => {
    const { referrer, users, conversions } = await referrerWith([1000]); // 100
    expect((await pay(referrer, "EUR")).body.payout.amount).toBe(100);
    const refund = await reverse(conversions[0].external_id, {
      reversal_id: externalId("refund"),
      amount: 4,
    });
    expect(refund.status).toBe(201);
    expect(refund.body.reversal.commission_delta).toBe(0); // 10 % of 996 = 99.6 → 100
    expect(refund.body.conversion).toMatchObject({ status: "paid", commission: 100, reversed_amount: 4 });
    await converted(users[0], 1000);
    expect(await dueRow(referrer, "EUR")).toMatchObject({ amount: 100, conversions: 1, clawbacks: 0 });
    expect((await pay(referrer, "EUR")).body.payout).toMatchObject({
      amount: 100,
      conversions: 1,
      clawbacks: 0,
    });
  });

  it("a reversal racing a payout: either it is netted now (before) or clawed back later (after), never lost", async () => {
    for (let round = 0; round < 5; round++) {
      const { referrer, users, conversions } = await referrerWith([1000, 2000]);
      const [payout, refund] = await Promise.all([
        pay(referrer, "EUR"),
        reverse(conversions[1].external_id, { reversal_id: externalId("refund"), amount: 2000 }),
      ]);
      expect(payout.status).toBe(201);
      expect(refund.status).toBe(201);
      expect(refund.body.reversal.commission_delta).toBe(-200);
      // Paid before the refund: 300 paid, the conversion stays paid and 200 is clawed back next;
      // refunded before the payout: reversed, and only 100 paid.
      const paidFirst = refund.body.conversion.status === "paid";
      if (!paidFirst) expect(refund.body.conversion.status).toBe("reversed");
      expect(payout.body.payout.amount).toBe(paidFirst ? 300 : 100);
      await converted(users[0], 5000); // 500
      const next = await pay(referrer, "EUR");
      expect(next.body.payout).toMatchObject({ amount: paidFirst ? 300 : 500, clawbacks: paidFirst ? 1 : 0 });
      // Either way the referrer got the commission on what was not refunded: 100 + 500.
      expect(payout.body.payout.amount + next.body.payout.amount).toBe(600);
    }
  });
});

describe("however many calls race, a commission is paid once", () => {
  it("30 calls at once with different keys: one 201, 29 409 nothing_due; the payout is the commissions' sum", async () => {
    const { referrer, conversions } = await referrerWith([1000, 1999, 5, 12345, 700]);
    const expected = conversions.reduce((sum, c) => sum + c.commission, 0);
    expect(expected).toBe(100 + 200 + 1 + 1235 + 70);

    const answers = await Promise.all(Array.from({ length: 30 }, () => pay(referrer, "EUR")));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(29);
    for (const answer of answers.filter((a) => a.status === 409))
      expect(answer.body).toEqual(apiError("nothing_due"));

    const listed = await listPayouts({ referrer_user_id: referrer });
    expect(listed.body.payouts).toHaveLength(1);
    expect(listed.body.payouts[0].amount).toBe(expected);
    expect(listed.body.payouts[0].conversions).toBe(5);
    expect(await countRows("conversions", "referrer_user_id = ? AND status = 'paid'", referrer)).toBe(5);
  });

  it("30 calls at once with the same key: one payout, every answer names it", async () => {
    const { referrer } = await referrerWith([1000, 2000, 3000]);
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 30 }, () => pay(referrer, "EUR", key)));

    expect(answers.map((a) => a.status).filter((s) => s === 201)).toHaveLength(1);
    expect(answers.map((a) => a.status).filter((s) => s === 200)).toHaveLength(29);
    const ids = new Set(answers.map((a) => a.body.payout?.id));
    expect(ids.size).toBe(1);
    expect(answers.every((a) => a.body.payout.amount === 600 && a.body.payout.conversions === 3)).toBe(true);
    expect(await countRows("payouts", "referrer_user_id = ?", referrer)).toBe(1);
  });

  it("conversions arriving while 30 payouts race: every commission is in exactly one payout", async () => {
    const { referrer, users } = await referrerWith([1000]);
    const calls: Promise<unknown>[] = [];
    const made: Promise<{ commission: number }>[] = [];
    for (let i = 0; i < 30; i++) {
      calls.push(pay(referrer, "EUR"));
      if (i % 3 === 0) made.push(converted(users[i % 2] as string, 100 * (i + 1)));
    }
    await Promise.all(calls);
    const commissions = [100, ...(await Promise.all(made)).map((c) => c.commission)];
    // Pay the rest, if the last conversions came after the last payout.
    await pay(referrer, "EUR");
    const { results } = await env.DB.prepare(
      `SELECT p.amount AS amount, (SELECT COALESCE(SUM(c.commission), 0) FROM conversions c WHERE c.payout_id = p.id) AS paid
       FROM payouts p WHERE p.referrer_user_id = ?`,
    )
      .bind(referrer)
      .all<{ amount: number; paid: number }>();
    for (const row of results) expect(row.amount).toBe(row.paid);
    expect(results.reduce((sum, row) => sum + row.amount, 0)).toBe(commissions.reduce((a, b) => a + b, 0));
    expect(await countRows("conversions", "referrer_user_id = ? AND payout_id IS NULL", referrer)).toBe(0);
  });
});

describe("however many calls race, a payout is what it paid", () => {
  it("30 calls with one key while conversions arrive: the payout's amount is the sum of the conversions it took", async () => {
    for (let round = 0; round < 3; round++) {
      const { referrer, users } = await referrerWith([1000]);
      const key = crypto.randomUUID();
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 30; i++) {
        calls.push(pay(referrer, "EUR", key));
        if (i % 2 === 0) calls.push(converted(users[i % 4 === 0 ? 0 : 1], 100 * (i + 1)));
      }
      await Promise.all(calls);
      const { results } = await env.DB.prepare(
        `SELECT p.amount AS amount,
          (SELECT COALESCE(SUM(c.commission), 0) FROM conversions c WHERE c.payout_id = p.id) AS paid
         FROM payouts p WHERE p.referrer_user_id = ?`,
      )
        .bind(referrer)
        .all<{ amount: number; paid: number }>();
      expect(results).toHaveLength(1);
      expect(results[0]?.amount).toBe(results[0]?.paid);
    }
  });
});

describe("GET /payouts: newest first, by referrer, in pages", () => {
  it("pages of 2 through 5 payouts of one referrer, each once; another referrer's are not listed", async () => {
    const { referrer, users } = await referrerWith([100]);
    const other = await referrerWith([100]);
    expect((await pay(other.referrer, "EUR")).status).toBe(201);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      if (i > 0) await converted(users[0], 100 * (i + 1));
      const answer = await pay(referrer, "EUR");
      expect(answer.status).toBe(201);
      ids.push(answer.body.payout.id);
    }

    const seen: number[] = [];
    const amounts: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string | number> = { referrer_user_id: referrer, limit: 2 };
      if (cursor) query.cursor = cursor;
      const page = await listPayouts(query);
      expect(page.status).toBe(200);
      seen.push(...page.body.payouts.map((p: { id: number }) => p.id));
      amounts.push(...page.body.payouts.map((p: { amount: number }) => p.amount));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    expect(amounts).toEqual([50, 40, 30, 20, 10]);

    const unfiltered = await listPayouts({ limit: 100 });
    const unfilteredIds = unfiltered.body.payouts.map((p: { id: number }) => p.id);
    expect(unfilteredIds).toEqual([...unfilteredIds].sort((a, b) => b - a));
    expect(unfilteredIds).toEqual(expect.arrayContaining(ids));
  });

  it("a bad limit or cursor: 422", async () => {
    for (const query of ["limit=0", "limit=1000000", "cursor=%%%"]) {
      const answer = await apiJson(`/payouts?${query}`);
      expect(answer.status, query).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed"));
    }
  });
});

describe("the views agree with the API on one data set", () => {
  it("link_revenue and referrer_earnings match the conversions, reversals and payouts the API answered", async () => {
    const referrer = uniqueUser("referrer");
    const a = await referredUser({ referrer });
    const b = await referredUser({ referrer, commission: "percent:12.5" });
    const c = await referredUser({ referrer, commission: "fixed:300" });

    // Paid, then partly refunded (a clawback): EUR on link a.
    const paidLater = await converted(a.user, 2000); // 200
    const paidPayout = await pay(referrer, "EUR");
    expect(paidPayout.body.payout.amount).toBe(200);
    await reverse(paidLater.external_id, { reversal_id: externalId("refund"), amount: 500 }); // 150 left, 50 back
    // Approved, partly refunded: EUR on link b.
    const partly = await converted(b.user, 1999); // 250
    await reverse(partly.external_id, { reversal_id: externalId("refund"), amount: 999 }); // 1000 → 125
    // Wholly refunded: EUR on link c (fixed 300 → 0).
    const gone = await converted(c.user, 5000);
    await reverse(gone.external_id, { reversal_id: externalId("refund") });
    // Pending (HOLD_DAYS=30): USD on link a; and one whose hold ended: USD on link c.
    const pendingUsd = await convert(
      { user_id: a.user, external_id: externalId(), amount: 3333, currency: "USD" },
      { COMMISSION: "percent:10" },
    );
    const endedUsd = await convert(
      { user_id: a.user, external_id: externalId(), amount: 100, currency: "USD" },
      { COMMISSION: "percent:10" },
    );
    await endHold(endedUsd.body.conversion.external_id);

    const listed = (await listConversions({ referrer_user_id: referrer, limit: 100 })).body.conversions as {
      link: string;
      currency: string;
      amount: number;
      reversed_amount: number;
      commission: number;
      status: string;
    }[];
    expect(listed).toHaveLength(5);
    expect(pendingUsd.body.conversion.commission).toBe(333);

    // referrer_earnings: commissions by the status the API shows, per currency.
    const sumWhere = (currency: string, status: string) =>
      listed
        .filter((x) => x.currency === currency && x.status === status)
        .reduce((sum, x) => sum + x.commission, 0);
    const earnings = await referrerEarnings(referrer);
    expect(earnings).toEqual([
      {
        referrer_user_id: referrer,
        currency: "EUR",
        pending: sumWhere("EUR", "pending"),
        approved: sumWhere("EUR", "approved"),
        // What the payout paid for the conversion, before the clawback.
        paid: paidPayout.body.payout.amount,
        reversed: 50 + 125 + 300,
      },
      {
        referrer_user_id: referrer,
        currency: "USD",
        pending: sumWhere("USD", "pending"),
        approved: sumWhere("USD", "approved"),
        paid: 0,
        reversed: 0,
      },
    ]);
    expect(earnings.map((row) => [row.pending, row.approved])).toEqual([
      [0, 125],
      [333, 10],
    ]);
    // What is due now: the approved commissions less the unsettled clawback.
    expect(await dueRow(referrer, "EUR")).toMatchObject({ amount: 125 - 50, conversions: 1, clawbacks: 1 });
    expect(await dueRow(referrer, "USD")).toMatchObject({ amount: 10, conversions: 1, clawbacks: 0 });

    // link_revenue: per link and currency, revenue = amount less reversed, commission as the API shows.
    for (const link of [a.link, b.link, c.link]) {
      const mine = listed.filter((x) => x.link === link.identifier);
      const currencies = [...new Set(mine.map((x) => x.currency))].sort();
      expect(await linkRevenue(link.identifier)).toEqual(
        currencies.map((currency) => {
          const rows = mine.filter((x) => x.currency === currency);
          return {
            identifier: link.identifier,
            currency,
            conversions: rows.length,
            revenue: rows.reduce((sum, x) => sum + x.amount - x.reversed_amount, 0),
            commission: rows.reduce((sum, x) => sum + x.commission, 0),
          };
        }),
      );
    }
    // A wholly reversed conversion still counts, with revenue 0.
    expect(await linkRevenue(c.link.identifier)).toEqual([
      { identifier: c.link.identifier, currency: "EUR", conversions: 1, revenue: 0, commission: 0 },
    ]);
    expect(await linkRevenue(a.link.identifier)).toEqual([
      { identifier: a.link.identifier, currency: "EUR", conversions: 1, revenue: 1500, commission: 150 },
      { identifier: a.link.identifier, currency: "USD", conversions: 2, revenue: 3433, commission: 343 },
    ]);
  });
});

describe("money is never a float", () => {
  it("a payout of the largest amount (percent:100) is exact in the due row, the payout and the views", async () => {
    const referrer = uniqueUser("referrer");
    const { user, link } = await referredUser({ referrer, commission: "percent:100" });
    const big = MAX_AMOUNT;
    await converted(user, big, { currency: "EUR", bindings: DUE_AT_ONCE });
    expect((await dueRow(referrer, "EUR"))?.amount).toBe(big);
    const payout = await pay(referrer, "EUR");
    expect(payout.body.payout.amount).toBe(big);
    expect(Number.isSafeInteger(payout.body.payout.amount)).toBe(true);
    expect(await linkRevenue(link.identifier)).toEqual([
      { identifier: link.identifier, currency: "EUR", conversions: 1, revenue: big, commission: big },
    ]);
    expect((await referrerEarnings(referrer))[0]?.paid).toBe(big);
  });

  it("no money column holds a REAL (D1 binds a JS number as one): conversions, reversals and payouts", async () => {
    const referrer = uniqueUser("referrer");
    const { user } = await referredUser({ referrer });
    const conversion = await converted(user, 1999, {
      bindings: { ...DUE_AT_ONCE, COMMISSION: "percent:12.5" },
    });
    await reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 999 });
    await converted(user, 5000);
    expect((await pay(referrer, "EUR")).status).toBe(201);
    const paidOne = await converted(user, 3000);
    await pay(referrer, "EUR");
    await reverse(paidOne.external_id, { reversal_id: externalId("refund") });
    const types = await env.DB.prepare(
      `SELECT typeof(c.amount) || typeof(c.commission) || typeof(c.reversed_amount) AS t FROM conversions c
         WHERE c.referrer_user_id = ?1
       UNION SELECT typeof(r.amount) || typeof(r.commission_delta) FROM reversals r
         JOIN conversions c ON c.id = r.conversion_id WHERE c.referrer_user_id = ?1
       UNION SELECT typeof(p.amount) FROM payouts p WHERE p.referrer_user_id = ?1`,
    )
      .bind(referrer)
      .all<{ t: string }>();
    expect(types.results.map((row) => row.t).sort()).toEqual([
      "integer",
      "integerinteger",
      "integerintegerinteger",
    ]);
  });
});
