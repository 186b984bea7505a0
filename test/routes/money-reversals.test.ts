/**
 * `POST /_reflinks/conversions/:external_id/reverse` (docs/money.md#reversals): refunds that add
 * up to at most the payment, each applied once per reversal_id also when calls race, the
 * commission recomputed on what is left.
 */
import { describe, expect, it } from "vitest";
import { apiError } from "../support/api";
import {
  convert,
  converted,
  countRows,
  DUE_AT_ONCE,
  externalId,
  getConversion,
  referredUser,
  referrerEarnings,
  reverse,
} from "../support/money";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("reversals add up; the commission follows what is left", () => {
  it("percent: a partial reversal leaves the rule's commission on the rest; the rest (no amount) reverses it wholly", async () => {
    const { user, referrer } = await referredUser();
    const conversion = await converted(user, 1000); // 10 %: 100

    const partialId = externalId("refund");
    const partial = await reverse(conversion.external_id, { reversal_id: partialId, amount: 255 });
    expect(partial.status).toBe(201);
    expect(partial.body).toEqual({
      created: true,
      conversion: { ...conversion, reversed_amount: 255, commission: 75, status: "approved" }, // 10 % of 745 = 74.5 → 75
      reversal: {
        id: expect.any(Number),
        reversal_id: partialId,
        amount: 255,
        commission_delta: -25,
        payout_id: null,
        created_at: expect.stringMatching(ISO),
      },
    });

    const rest = await reverse(conversion.external_id, { reversal_id: externalId("refund") });
    expect(rest.status).toBe(201);
    expect(rest.body.reversal).toMatchObject({ amount: 745, commission_delta: -75 });
    expect(rest.body.conversion).toMatchObject({ reversed_amount: 1000, commission: 0, status: "reversed" });
    expect((await getConversion(conversion.external_id)).body).toEqual(rest.body.conversion);
    expect(await referrerEarnings(referrer)).toEqual([
      { referrer_user_id: referrer, currency: "EUR", pending: 0, approved: 0, paid: 0, reversed: 100 },
    ]);
  });

  it("a pending conversion partly reversed stays pending; wholly reversed, it is reversed", async () => {
    const { user } = await referredUser();
    const answer = await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );
    const external = answer.body.conversion.external_id;
    const partial = await reverse(external, { reversal_id: externalId("refund"), amount: 1 });
    expect(partial.body.conversion).toMatchObject({ status: "pending", commission: 100, reversed_amount: 1 });
    const whole = await reverse(external, { reversal_id: externalId("refund"), amount: 999 });
    expect(whole.body.conversion).toMatchObject({ status: "reversed", commission: 0, reversed_amount: 1000 });
  });

  it("fixed: the commission stays while anything is left, 0 once wholly reversed", async () => {
    const { user } = await referredUser({ commission: "fixed:300" });
    const conversion = await converted(user, 1000);
    const partial = await reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 999 });
    expect(partial.body.conversion).toMatchObject({
      commission: 300,
      reversed_amount: 999,
      status: "approved",
    });
    expect(partial.body.reversal.commission_delta).toBe(0);
    const whole = await reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 1 });
    expect(whole.body.conversion).toMatchObject({ commission: 0, reversed_amount: 1000, status: "reversed" });
    expect(whole.body.reversal.commission_delta).toBe(-300);
  });

  it("past what is left: 422, nothing reversed; a wholly reversed payment takes no more", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const tooMuch = await reverse(conversion.external_id, {
      reversal_id: externalId("refund"),
      amount: 1001,
    });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body).toEqual(apiError("validation_failed", /amount/));

    expect(
      (await reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 600 })).status,
    ).toBe(201);
    const pastRest = await reverse(conversion.external_id, {
      reversal_id: externalId("refund"),
      amount: 401,
    });
    expect(pastRest.status).toBe(422);
    expect(pastRest.body).toEqual(apiError("validation_failed", /400/));
    expect((await getConversion(conversion.external_id)).body.reversed_amount).toBe(600);

    expect(
      (await reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 400 })).status,
    ).toBe(201);
    const nothingLeft = await reverse(conversion.external_id, { reversal_id: externalId("refund") });
    expect(nothingLeft.status).toBe(422);
    expect(nothingLeft.body).toEqual(apiError("validation_failed", /wholly reversed/));
    expect(await countRows("reversals", "conversion_id = ?", conversion.id)).toBe(2);
  });

  it.each([
    [{ amount: 0 }, /amount/],
    [{ amount: 1.5 }, /amount/],
    [{ amount: -5 }, /amount/],
    [{ reversal_id: "" }, /reversal_id/],
    [{ reversal_id: undefined }, /reversal_id/],
  ])("%j: 422 naming the field", async (change, message) => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const answer = await reverse(conversion.external_id, { reversal_id: externalId("refund"), ...change });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", message));
    expect(await countRows("reversals", "conversion_id = ?", conversion.id)).toBe(0);
  });

  it("an unknown conversion: 404 not_found", async () => {
    const answer = await reverse("no-such-invoice", { reversal_id: externalId("refund") });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("not_found"));
  });
});

describe("once per reversal_id", () => {
  it("the same reversal_id again: 200 {created: false} with the same reversal, nothing reversed twice", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const json = { reversal_id: externalId("refund"), amount: 300 };
    const first = await reverse(conversion.external_id, json);
    const again = await reverse(conversion.external_id, json);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, created: false });
    expect(again.body.conversion.reversed_amount).toBe(300);
    // Without the amount, a retry of a partial refund still is that refund, not "the rest".
    const retry = await reverse(conversion.external_id, { reversal_id: json.reversal_id });
    expect(retry.status).toBe(200);
    expect(retry.body.reversal).toEqual(first.body.reversal);
    expect((await getConversion(conversion.external_id)).body.reversed_amount).toBe(300);
  });

  it("the same reversal_id with another amount: 409 conflict naming it, nothing reversed twice", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const reversalId = externalId("refund");
    const first = await reverse(conversion.external_id, { reversal_id: reversalId, amount: 300 });
    expect(first.status).toBe(201);
    const other = await reverse(conversion.external_id, { reversal_id: reversalId, amount: 400 });
    expect(other.status).toBe(409);
    expect(other.body).toEqual(apiError("conflict", /reversal_id .*another amount/));
    expect(await countRows("reversals", "conversion_id = ?", conversion.id)).toBe(1);
    expect((await getConversion(conversion.external_id)).body.reversed_amount).toBe(300);
  });

  it("one reversal_id with two amounts at once: one 201, the other 409, one reversal applied", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const reversalId = externalId("refund");
    const answers = await Promise.all(
      [100, 200, 100, 200].map((amount) =>
        reverse(conversion.external_id, { reversal_id: reversalId, amount }),
      ),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    const winner = answers.find((answer) => answer.status === 201)?.body.reversal.amount;
    // The winner's twin is the same call (200); the other amount is a conflict (409).
    expect(statuses).toEqual([200, 201, 409, 409]);
    expect(await countRows("reversals", "conversion_id = ?", conversion.id)).toBe(1);
    expect((await getConversion(conversion.external_id)).body.reversed_amount).toBe(winner);
  });

  it("a reversal_id used for another conversion: 409 conflict, nothing reversed", async () => {
    const { user } = await referredUser();
    const a = await converted(user, 1000);
    const b = await converted(user, 1000);
    const reversalId = externalId("refund");
    expect((await reverse(a.external_id, { reversal_id: reversalId, amount: 100 })).status).toBe(201);
    const other = await reverse(b.external_id, { reversal_id: reversalId, amount: 100 });
    expect(other.status).toBe(409);
    expect(other.body).toEqual(apiError("conflict", /reversal_id/));
    expect((await getConversion(b.external_id)).body.reversed_amount).toBe(0);
  });

  it("20 identical reversals at once: one 201, nineteen 200 naming it, applied once", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 1000);
    const json = { reversal_id: externalId("refund"), amount: 400 };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => reverse(conversion.external_id, json)),
    );

    expect(answers.map((a) => a.status).filter((s) => s === 201)).toHaveLength(1);
    expect(answers.map((a) => a.status).filter((s) => s === 200)).toHaveLength(19);
    expect(new Set(answers.map((a) => a.body.reversal.id)).size).toBe(1);
    expect(await countRows("reversals", "conversion_id = ?", conversion.id)).toBe(1);
    const after = (await getConversion(conversion.external_id)).body;
    expect(after).toMatchObject({ reversed_amount: 400, commission: 60 });
  });

  it("20 different reversals of 100 at once on 1000: exactly ten applied, the others 422; never past the amount", async () => {
    const { user, referrer } = await referredUser();
    const conversion = await converted(user, 1000);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        reverse(conversion.external_id, { reversal_id: externalId("refund"), amount: 100 }),
      ),
    );

    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 422)).toHaveLength(10);
    const applied = answers.filter((a) => a.status === 201).map((a) => a.body.reversal);
    expect(applied.reduce((sum, r) => sum + r.amount, 0)).toBe(1000);
    expect(applied.reduce((sum, r) => sum + r.commission_delta, 0)).toBe(-100);
    expect(await countRows("reversals", "conversion_id = ?", conversion.id)).toBe(10);
    expect((await getConversion(conversion.external_id)).body).toMatchObject({
      reversed_amount: 1000,
      commission: 0,
      status: "reversed",
    });
    expect((await referrerEarnings(referrer))[0]?.reversed).toBe(100);
  });

  it("15 different reversals of 70, 30, and the rest racing: what is applied adds up to the payment at most", async () => {
    const { user } = await referredUser();
    const conversion = await converted(user, 999, {
      bindings: { ...DUE_AT_ONCE, COMMISSION: "percent:12.5" },
    });
    const requests = Array.from({ length: 15 }, (_, i) =>
      reverse(conversion.external_id, {
        reversal_id: externalId("refund"),
        ...(i % 3 === 2 ? {} : { amount: i % 3 === 0 ? 70 : 30 }),
      }),
    );
    const answers = await Promise.all(requests);
    expect(answers.every((a) => a.status === 201 || a.status === 422)).toBe(true);
    const applied = answers.filter((a) => a.status === 201).map((a) => a.body.reversal);
    const after = (await getConversion(conversion.external_id)).body;
    const reversed = applied.reduce((sum, r) => sum + r.amount, 0);
    expect(reversed).toBe(after.reversed_amount);
    expect(reversed).toBeLessThanOrEqual(999);
    // The commission is the rule's on what is left, and the deltas account for all that was taken back.
    const left = 999 - reversed;
    expect(after.commission).toBe(Number((BigInt(left) * 1250n + 5000n) / 10000n));
    expect(applied.reduce((sum, r) => sum + r.commission_delta, 0)).toBe(after.commission - 125);
  });
});
