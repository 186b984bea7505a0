/**
 * Coupon codes at confirmation (docs/api.md#coupons) and `COMMISSION_PAYMENTS` (docs/money.md):
 * a coupon that names a link the user does not own confirms the referral to it (`source:
 * "coupon"`, no hit), even over a qualifying click; anything else leaves Confirmation's rules.
 * Only a referral's first N conversions earn, also when they race.
 */
import { describe, expect, it } from "vitest";
import { apiJson, daysAgo, hitById, uniqueUser } from "../support/api";
import { createLink } from "../support/db";
import { convert, DUE_AT_ONCE, externalId, referredUser, reverse } from "../support/money";
import { uniqueIdentifier } from "../support/worker";

async function couponFor(owner: string | null, code = `C${crypto.randomUUID().slice(0, 8)}`) {
  const link = await createLink(uniqueIdentifier("coupon"), { userId: owner });
  const made = await apiJson(`/links/${link.identifier}/coupons`, { method: "POST", json: { code } });
  expect(made.status).toBe(201);
  return { link, code: made.body.coupon.code as string };
}

describe("coupon on /confirm", () => {
  it("a user with no click is confirmed to the coupon's link: source coupon, hit_id null; the same again answers it", async () => {
    const { link, code } = await couponFor("podcaster");
    const user = uniqueUser("listener");
    const first = await apiJson("/confirm", {
      method: "POST",
      json: { user_id: user, coupon: code.toLowerCase() },
    });
    expect(first.status).toBe(201);
    expect(first.body.referral).toMatchObject({
      link: link.identifier,
      referrer_user_id: "podcaster",
      hit_id: null,
      source: "coupon",
    });
    const again = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(again.status).toBe(200);
    expect(again.body.referral).toEqual(first.body.referral);
  });

  it("the coupon wins over a qualifying click, which stays unconfirmed", async () => {
    const { user, link: clicked } = await referredUser();
    const { link, code } = await couponFor("podcaster");
    const answer = await apiJson("/confirm", { method: "POST", json: { user_id: user, coupon: code } });
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({ link: link.identifier, source: "coupon", hit_id: null });
    expect(answer.body.referral.link).not.toBe(clicked.identifier);
  });

  it("an unknown, malformed or own coupon is ignored: the click is credited (source link), or 404 without one", async () => {
    const { user, link: clicked } = await referredUser();
    const own = await couponFor(user);
    for (const coupon of ["NO-SUCH-CODE", "x", "bad code!", null]) {
      const none = await apiJson("/confirm", {
        method: "POST",
        json: { user_id: uniqueUser("nobody"), coupon },
      });
      expect(none.status, String(coupon)).toBe(404);
    }
    const answer = await apiJson("/confirm", { method: "POST", json: { user_id: user, coupon: own.code } });
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({ link: clicked.identifier, source: "link" });
    expect(answer.body.referral.hit_id).toEqual(expect.any(String));
    expect((await hitById(answer.body.referral.hit_id))?.confirmedAt).toEqual(expect.any(String));
  });

  it("a coupon of a disabled or expired link is ignored", async () => {
    const disabled = await couponFor("p1");
    await apiJson(`/links/${disabled.link.identifier}`, { method: "PATCH", json: { disabled: true } });
    const expired = await couponFor("p2");
    await apiJson(`/links/${expired.link.identifier}`, { method: "PATCH", json: { expires_at: daysAgo(1) } });
    for (const { code } of [disabled, expired]) {
      const answer = await apiJson("/confirm", {
        method: "POST",
        json: { user_id: uniqueUser(), coupon: code },
      });
      expect(answer.status, code).toBe(404);
    }
  });

  it("an existing referral is kept: a later coupon changes nothing", async () => {
    const { user, link: clicked } = await referredUser();
    const first = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(first.status).toBe(201);
    const { code } = await couponFor("late");
    const later = await apiJson("/confirm", { method: "POST", json: { user_id: user, coupon: code } });
    expect(later.status).toBe(200);
    expect(later.body.referral).toMatchObject({ link: clicked.identifier, source: "link" });
  });
});

describe("coupon on /conversions", () => {
  it("a payment with a coupon and no click confirms to the coupon's link and earns its owner", async () => {
    const { link, code } = await couponFor("streamer");
    const user = uniqueUser("buyer");
    const answer = await convert({
      user_id: user,
      external_id: externalId(),
      amount: 1000,
      currency: "EUR",
      coupon: code,
    });
    expect(answer.status).toBe(201);
    expect(answer.body.conversion).toMatchObject({
      link: link.identifier,
      referrer_user_id: "streamer",
      commission: 100,
    });
    const referral = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(referral.body.referral.source).toBe("coupon");
  });

  it("an unknown coupon with a qualifying click still records the payment", async () => {
    const { user, link } = await referredUser();
    const answer = await convert({
      user_id: user,
      external_id: externalId(),
      amount: 1000,
      currency: "EUR",
      coupon: "NOPE-123",
    });
    expect(answer.status).toBe(201);
    expect(answer.body.conversion.link).toBe(link.identifier);
  });
});

describe("COMMISSION_PAYMENTS", () => {
  const LIMIT_2 = { ...DUE_AT_ONCE, COMMISSION_PAYMENTS: "2" };

  it("only the referral's first N conversions earn; later ones are recorded with commission 0, and a refund of one takes nothing back", async () => {
    const { user } = await referredUser();
    const commissions: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = externalId();
      ids.push(id);
      const answer = await convert(
        { user_id: user, external_id: id, amount: 1000, currency: "EUR" },
        LIMIT_2,
      );
      expect(answer.status).toBe(201);
      commissions.push(answer.body.conversion.commission);
    }
    expect(commissions).toEqual([100, 100, 0]);
    const refund = await reverse(ids[2] as string, { reversal_id: `re-${ids[2]}`, amount: 500 }, LIMIT_2);
    expect(refund.status).toBe(201);
    expect(refund.body.conversion.commission).toBe(0);
    expect(refund.body.reversal.commission_delta).toBe(0);
  });

  it("a link's commission_payments overrides the setting (0: no limit)", async () => {
    const { user, link } = await referredUser();
    await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { commission_payments: 1 } });
    const first = await convert({ user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" });
    const second = await convert({ user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" });
    expect([first.body.conversion.commission, second.body.conversion.commission]).toEqual([100, 0]);

    const unlimited = await referredUser();
    await apiJson(`/links/${unlimited.link.identifier}`, {
      method: "PATCH",
      json: { commission_payments: 0 },
    });
    for (let i = 0; i < 3; i++) {
      const answer = await convert(
        { user_id: unlimited.user, external_id: externalId(), amount: 1000, currency: "EUR" },
        { ...DUE_AT_ONCE, COMMISSION_PAYMENTS: "1" },
      );
      expect(answer.body.conversion.commission).toBe(100);
    }
  });

  it("racing conversions never let more than N earn", async () => {
    const { user } = await referredUser();
    // Confirmed first, so that every racer adds to the same referral.
    expect((await apiJson("/confirm", { method: "POST", json: { user_id: user } })).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        convert({ user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" }, LIMIT_2),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(201));
    const earning = answers.filter((answer) => answer.body.conversion.commission > 0);
    expect(earning).toHaveLength(2);
  });

  it("a bad COMMISSION_PAYMENTS is a misconfiguration naming it", async () => {
    const answer = await apiJson("/health", { token: null, bindings: { COMMISSION_PAYMENTS: "-1" } });
    expect(answer.status).toBe(500);
    expect(answer.body.error.message).toMatch(/COMMISSION_PAYMENTS/);
  });
});
