/**
 * `POST /_reflinks/conversions`, `GET /conversions[/:external_id]` (docs/money.md#conversions): a
 * payment of a referred user recorded once per external_id, the referrer's commission fixed by
 * the link's rule or COMMISSION (integer math, rounded half up), and its status as of reading.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addCalendarMonths } from "../../src/lib/commission";
import { MAX_AMOUNT } from "../../src/lib/money";
import { apiError, apiJson, referralsOf, uniqueUser } from "../support/api";
import {
  confirmReferral,
  convert,
  converted,
  countRows,
  DUE_AT_ONCE,
  dueRow,
  endHold,
  expectIntegerMoney,
  externalId,
  getConversion,
  listConversions,
  referredUser,
  referrerEarnings,
  reverse,
  setReferralCreatedAt,
} from "../support/money";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DAY_MS = 86_400_000;

describe("POST /conversions: recorded once per external_id", () => {
  it("201 {created: true, conversion} with every field; the referral is confirmed on the way", async () => {
    const { user, referrer, link } = await referredUser();
    expect(await referralsOf(user)).toHaveLength(0);
    const id = externalId();

    const answer = await convert({ user_id: user, external_id: id, amount: 1999, currency: "EUR" });

    expect(answer.status).toBe(201);
    const [referral] = await referralsOf(user, "signup");
    expect(referral).toBeDefined();
    expect(answer.body).toEqual({
      created: true,
      conversion: {
        id: expect.any(Number),
        external_id: id,
        user_id: user,
        referrer_user_id: referrer,
        link: link.identifier,
        referral_id: referral?.id,
        amount: 1999,
        currency: "EUR",
        commission: 200, // 10 % of 19.99 = 1.999, rounded half up to 2.00
        status: "approved", // HOLD_DAYS=0
        approve_at: expect.stringMatching(ISO),
        reversed_amount: 0,
        payout_id: null,
        created_at: expect.stringMatching(ISO),
      },
    });
    expect(answer.body.conversion.approve_at).toBe(answer.body.conversion.created_at);
    // GET answers the object itself, the same one.
    const read = await getConversion(id);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(answer.body.conversion);
  });

  it("a referral confirmed earlier (by /confirm) is the one the conversion belongs to", async () => {
    const { user } = await referredUser();
    const referral = await confirmReferral(user);
    const conversion = await converted(user, 500);
    expect(conversion.referral_id).toBe(referral.id);
    expect(await referralsOf(user)).toHaveLength(1);
  });

  it("`event` picks (and confirms) the referral of that event, not signup's", async () => {
    const { user } = await referredUser();
    const answer = await convert({
      user_id: user,
      external_id: externalId(),
      amount: 100,
      currency: "EUR",
      event: "purchase",
    });
    expect(answer.status).toBe(201);
    const [purchase] = await referralsOf(user, "purchase");
    expect(answer.body.conversion.referral_id).toBe(purchase?.id);
    expect(await referralsOf(user, "signup")).toHaveLength(0);
  });

  it("signed_up_at before the only hit: no_referral (the rules of Confirmation apply on the way)", async () => {
    const { user } = await referredUser(); // the hit is a day old
    const id = externalId();
    const answer = await convert({
      user_id: user,
      external_id: id,
      amount: 100,
      currency: "EUR",
      signed_up_at: new Date(Date.now() - 2 * DAY_MS).toISOString(),
    });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("no_referral"));
    expect(await countRows("conversions", "external_id = ?", id)).toBe(0);
  });

  it("the same external_id with the same user, amount and currency: 200 {created: false}, the same conversion", async () => {
    const { user } = await referredUser();
    const id = externalId();
    const json = { user_id: user, external_id: id, amount: 1000, currency: "EUR" };
    const first = await convert(json);
    const again = await convert(json);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ created: false, conversion: first.body.conversion });
    expect(await countRows("conversions", "external_id = ?", id)).toBe(1);
  });

  it("the same external_id with another user, amount or currency: 409 conflict, the stored one unchanged", async () => {
    const { user } = await referredUser();
    const other = await referredUser();
    const id = externalId();
    const first = await convert({ user_id: user, external_id: id, amount: 1000, currency: "EUR" });
    expect(first.status).toBe(201);

    for (const json of [
      { user_id: other.user, external_id: id, amount: 1000, currency: "EUR" },
      { user_id: user, external_id: id, amount: 1001, currency: "EUR" },
      { user_id: user, external_id: id, amount: 1000, currency: "USD" },
    ]) {
      const answer = await convert(json);
      expect(answer.status, JSON.stringify(json)).toBe(409);
      expect(answer.body).toEqual(apiError("conflict", /external_id/));
    }
    expect((await getConversion(id)).body).toEqual(first.body.conversion);
    expect(await countRows("conversions", "external_id = ?", id)).toBe(1);
    // The other user was not confirmed by a conversion that was refused.
    expect(await referralsOf(other.user)).toHaveLength(0);
  });

  it("a user who is not referred: 404 no_referral, and nothing is stored", async () => {
    const user = uniqueUser("stranger");
    const id = externalId();
    const answer = await convert({ user_id: user, external_id: id, amount: 1000, currency: "EUR" });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("no_referral"));
    expect(await countRows("conversions", "external_id = ?", id)).toBe(0);
    expect(await referralsOf(user)).toHaveLength(0);
    expect((await getConversion(id)).status).toBe(404);
  });

  it("20 identical calls at once (the referral not yet confirmed): one 201, nineteen 200, one conversion", async () => {
    const { user } = await referredUser();
    const id = externalId();
    const json = { user_id: user, external_id: id, amount: 4200, currency: "EUR" };
    const answers = await Promise.all(Array.from({ length: 20 }, () => convert(json)));

    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(19);
    const ids = new Set(answers.map((answer) => answer.body.conversion.id));
    expect(ids.size).toBe(1);
    expect(answers.every((answer) => answer.body.created === (answer.status === 201))).toBe(true);
    expect(await countRows("conversions", "external_id = ?", id)).toBe(1);
    expect(await referralsOf(user)).toHaveLength(1);
  });

  it.each([
    [{ amount: 10.5 }, /amount/],
    [{ amount: 0 }, /amount/],
    [{ amount: -100 }, /amount/],
    [{ amount: "1000" }, /amount/],
    [{ amount: Number.MAX_SAFE_INTEGER + 2 }, /amount/],
    [{ amount: MAX_AMOUNT + 1 }, /amount/],
    [{ currency: "eur" }, /currency/],
    [{ currency: "EURO" }, /currency/],
    [{ external_id: "" }, /external_id/],
    [{ external_id: "a".repeat(256) }, /external_id/],
    [{ surplus: true }, /surplus/],
  ])("%j: 422 naming the field, nothing stored", async (change, message) => {
    const { user } = await referredUser();
    const id = externalId();
    const answer = await convert({
      user_id: user,
      external_id: id,
      amount: 1000,
      currency: "EUR",
      ...change,
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", message));
    expect(await countRows("conversions", "user_id = ?", user)).toBe(0);
  });
});

describe("commission: the link's rule, else COMMISSION; integer math rounded half up", () => {
  it.each([
    ["percent:12.5", 1999, 250], // 249.875
    ["percent:10", 5, 1], // 0.5 rounds up
    ["percent:10", 4, 0], // 0.4 rounds down
    ["percent:10", 15, 2], // 1.5 rounds up
    ["percent:33.33", 100, 33], // 33.33
    ["percent:66.67", 100, 67],
    ["percent:0.01", 5000, 1], // 0.5
    ["percent:0.01", 4999, 0], // 0.4999
    ["percent:0", 100_000, 0],
    ["percent:100", MAX_AMOUNT, MAX_AMOUNT],
    ["percent:99.99", 99_999_999_999, 99_989_999_999], // …999.0001
    ["percent:50", 99_999_999_999, 50_000_000_000], // …999.5 rounds up
    ["fixed:500", 1999, 500],
    ["fixed:0", 1999, 0],
    ["fixed:1", 1, 1],
  ])("COMMISSION=%s of %d: %d", async (rule, amount, expected) => {
    const { user } = await referredUser();
    const conversion = await converted(user, amount, { bindings: { ...DUE_AT_ONCE, COMMISSION: rule } });
    expect(conversion.commission).toBe(expected);
    expect(conversion.amount).toBe(amount);
  });

  it("the link's commission beats COMMISSION, percent or fixed; null falls back to COMMISSION", async () => {
    const percentLink = await referredUser({ commission: "percent:50" });
    expect((await converted(percentLink.user, 1001)).commission).toBe(501); // 500.5 rounds up, not 10 %

    const fixedLink = await referredUser({ commission: "fixed:300" });
    expect((await converted(fixedLink.user, 1001)).commission).toBe(300);

    const cleared = await referredUser({ commission: "fixed:300" });
    const patched = await apiJson(`/links/${cleared.link.identifier}`, {
      method: "PATCH",
      json: { commission: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.commission).toBeNull();
    expect((await converted(cleared.user, 1001)).commission).toBe(100); // COMMISSION=percent:10
  });

  it("PATCH /links shows the override, and refuses rules that are not percent:N or fixed:N", async () => {
    const { link } = await referredUser();
    const set = await apiJson(`/links/${link.identifier}`, {
      method: "PATCH",
      json: { commission: "percent:12.5" },
    });
    expect(set.status).toBe(200);
    expect(set.body.commission).toBe("percent:12.5");
    expect((await apiJson(`/links/${link.identifier}`)).body.commission).toBe("percent:12.5");

    for (const commission of [
      "percent:101",
      "percent:12.345",
      "fixed:1.5",
      "fixed:-1",
      "none",
      "10%",
      "",
      10,
    ]) {
      const answer = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { commission } });
      expect(answer.status, JSON.stringify(commission)).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /commission/));
    }
    expect((await apiJson(`/links/${link.identifier}`)).body.commission).toBe("percent:12.5");
  });

  it("the commission is fixed when the conversion is made: a later change of the link's rule leaves it", async () => {
    const { user, link } = await referredUser({ commission: "percent:20" });
    const conversion = await converted(user, 1000);
    expect(conversion.commission).toBe(200);
    await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { commission: "fixed:1" } });
    expect((await getConversion(conversion.external_id)).body.commission).toBe(200);
  });

  it("COMMISSION unset: commission 0, the conversion still recorded; a link's override still applies", async () => {
    expect((env as { COMMISSION?: string }).COMMISSION ?? "").toBe("");
    const { user } = await referredUser();
    const answer = await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { HOLD_DAYS: "0" },
    );
    expect(answer.status).toBe(201);
    expect(answer.body.conversion.commission).toBe(0);

    const empty = await referredUser();
    const emptyAnswer = await convert(
      { user_id: empty.user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { HOLD_DAYS: "0", COMMISSION: "" },
    );
    expect(emptyAnswer.body.conversion.commission).toBe(0);

    const overridden = await referredUser({ commission: "fixed:70" });
    const overriddenAnswer = await convert(
      { user_id: overridden.user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { HOLD_DAYS: "0" },
    );
    expect(overriddenAnswer.body.conversion.commission).toBe(70);
  });

  it("a bad COMMISSION is a misconfiguration (500 naming it), never a silent 0", async () => {
    const { user } = await referredUser();
    const answer = await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { COMMISSION: "percent:ten" },
    );
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual(apiError("misconfigured", /COMMISSION/));
    expect(await countRows("conversions", "user_id = ?", user)).toBe(0);
  });
});

describe("COMMISSION_MONTHS: calendar months after the referral's created_at", () => {
  /** A referred user whose referral was confirmed at `createdAt`. */
  async function referredAt(createdAt: string) {
    const referred = await referredUser();
    await confirmReferral(referred.user);
    await setReferralCreatedAt(referred.user, createdAt);
    return referred;
  }
  const monthsAgo = (months: number, plusMs = 0) =>
    new Date(Date.parse(addCalendarMonths(new Date().toISOString(), -months)) + plusMs).toISOString();

  it("a day inside the 12th month earns; a day past it earns 0 (the conversion still recorded)", async () => {
    const inside = await referredAt(monthsAgo(12, DAY_MS));
    expect((await converted(inside.user, 1000)).commission).toBe(100);

    const past = await referredAt(monthsAgo(12, -DAY_MS));
    const conversion = await converted(past.user, 1000);
    expect(conversion.commission).toBe(0);
    expect(conversion.amount).toBe(1000);
  });

  it("the boundary is the calendar month to the minute: COMMISSION_MONTHS=1", async () => {
    const bindings = { ...DUE_AT_ONCE, COMMISSION_MONTHS: "1" };
    const inside = await referredAt(monthsAgo(1, 60_000));
    expect((await converted(inside.user, 1000, { bindings })).commission).toBe(100);
    const past = await referredAt(monthsAgo(1, -60_000));
    expect((await converted(past.user, 1000, { bindings })).commission).toBe(0);
  });

  it("a link's override expires too", async () => {
    const referred = await referredUser({ commission: "fixed:500" });
    await confirmReferral(referred.user);
    await setReferralCreatedAt(referred.user, monthsAgo(13));
    expect((await converted(referred.user, 1000)).commission).toBe(0);
  });

  it("COMMISSION_MONTHS=0: no limit, a referral of five years ago still earns", async () => {
    const old = await referredAt(monthsAgo(60));
    const bindings = { ...DUE_AT_ONCE, COMMISSION_MONTHS: "0" };
    expect((await converted(old.user, 1000, { bindings })).commission).toBe(100);
    // The same referral under the default limit earns nothing.
    expect((await converted(old.user, 1000)).commission).toBe(0);
  });

  it("a conversion past the limit earns 0 also after a reversal (the rule is not revived)", async () => {
    const past = await referredAt(monthsAgo(13));
    const conversion = await converted(past.user, 1000);
    const reversed = await reverse(conversion.external_id, { reversal_id: externalId("ref"), amount: 100 });
    expect(reversed.status).toBe(201);
    expect(reversed.body.conversion.commission).toBe(0);
    expect(reversed.body.reversal.commission_delta).toBe(0);
  });
});

describe("status: pending until approve_at (created_at + HOLD_DAYS), then approved as of reading", () => {
  it("HOLD_DAYS=30 (the default): pending, approve_at 30 days after created_at, nothing due", async () => {
    const { user, referrer } = await referredUser();
    const answer = await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );
    const conversion = answer.body.conversion;
    expect(conversion.status).toBe("pending");
    expect(Date.parse(conversion.approve_at) - Date.parse(conversion.created_at)).toBe(30 * DAY_MS);
    expect((await getConversion(conversion.external_id)).body.status).toBe("pending");
    expect(await dueRow(referrer, "EUR")).toBeUndefined();
    expect(await referrerEarnings(referrer)).toEqual([
      { referrer_user_id: referrer, currency: "EUR", pending: 100, approved: 0, paid: 0, reversed: 0 },
    ]);
  });

  it("HOLD_DAYS=7: approve_at 7 days on", async () => {
    const { user } = await referredUser();
    const answer = await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { ...DUE_AT_ONCE, HOLD_DAYS: "7" },
    );
    const conversion = answer.body.conversion;
    expect(conversion.status).toBe("pending");
    expect(Date.parse(conversion.approve_at) - Date.parse(conversion.created_at)).toBe(7 * DAY_MS);
  });

  it("once approve_at is past, the API, the list filter, the view and /payouts/due all read it approved", async () => {
    const { user, referrer } = await referredUser();
    const answer = await convert(
      { user_id: user, external_id: externalId(), amount: 1000, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );
    const external = answer.body.conversion.external_id;
    expect(
      (await listConversions({ referrer_user_id: referrer, status: "pending" })).body.conversions,
    ).toHaveLength(1);
    expect(
      (await listConversions({ referrer_user_id: referrer, status: "approved" })).body.conversions,
    ).toHaveLength(0);

    await endHold(external); // as if 30 days had passed; no job has run

    expect((await getConversion(external)).body.status).toBe("approved");
    const approved = await listConversions({ referrer_user_id: referrer, status: "approved" });
    expect(approved.body.conversions.map((c: { external_id: string }) => c.external_id)).toEqual([external]);
    expect(approved.body.conversions[0].status).toBe("approved");
    expect(
      (await listConversions({ referrer_user_id: referrer, status: "pending" })).body.conversions,
    ).toHaveLength(0);
    expect(await referrerEarnings(referrer)).toEqual([
      { referrer_user_id: referrer, currency: "EUR", pending: 0, approved: 100, paid: 0, reversed: 0 },
    ]);
    expect(await dueRow(referrer, "EUR")).toEqual({
      referrer_user_id: referrer,
      currency: "EUR",
      amount: 100,
      conversions: 1,
      clawbacks: 0,
    });
  });

  it("HOLD_DAYS=0: approved in the first answer, in the view and due at once", async () => {
    const { user, referrer } = await referredUser();
    const conversion = await converted(user, 2500);
    expect(conversion.status).toBe("approved");
    expect(await referrerEarnings(referrer)).toEqual([
      { referrer_user_id: referrer, currency: "EUR", pending: 0, approved: 250, paid: 0, reversed: 0 },
    ]);
    expect((await dueRow(referrer, "EUR"))?.amount).toBe(250);
  });
});

describe("GET /conversions: newest first, filters, pages", () => {
  it("an external_id with a slash, spaces, a percent sign and non-ASCII is found, reversed and listed by it", async () => {
    const { user } = await referredUser();
    const id = `order 2026/001 100% ü-${crypto.randomUUID()}`;
    const made = await converted(user, 1000, { externalId: id });
    expect(made.external_id).toBe(id);
    const read = await getConversion(id);
    expect(read.status).toBe(200);
    expect(read.body.external_id).toBe(id);
    const reversed = await reverse(id, { reversal_id: `refund/${id}`, amount: 100 });
    expect(reversed.status).toBe(201);
    expect(reversed.body.reversal.reversal_id).toBe(`refund/${id}`);
  });

  it("GET /conversions/:external_id of an unknown id: 404 not_found", async () => {
    const answer = await getConversion("no-such-invoice");
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("not_found"));
  });

  it("pages of 2 through 5 conversions: newest first, each once, next_cursor null at the end", async () => {
    const { user, referrer } = await referredUser();
    const made = [];
    for (const amount of [100, 200, 300, 400, 500]) made.push(await converted(user, amount));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string | number> = { referrer_user_id: referrer, limit: 2 };
      if (cursor) query.cursor = cursor;
      const page = await listConversions(query);
      expect(page.status).toBe(200);
      expect(page.body.conversions.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.conversions.map((c: { external_id: string }) => c.external_id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);

    expect(pages).toBe(3);
    expect(seen).toEqual(made.map((c) => c.external_id).reverse());
  });

  it("filters by user_id, referrer_user_id and status (as of now); they combine", async () => {
    const referrer = uniqueUser("referrer");
    const first = await referredUser({ referrer });
    const second = await referredUser({ referrer });
    const a = await converted(first.user, 100);
    const b = await converted(second.user, 200);
    const c = await converted(second.user, 300);
    const held = await convert(
      { user_id: second.user, external_id: externalId(), amount: 400, currency: "EUR" },
      { COMMISSION: "percent:10" },
    );
    const d = held.body.conversion;
    expect((await reverse(c.external_id, { reversal_id: externalId("ref") })).status).toBe(201);

    const ids = async (query: Record<string, string>) =>
      (await listConversions(query)).body.conversions.map((x: { external_id: string }) => x.external_id);
    expect(await ids({ referrer_user_id: referrer })).toEqual([d, c, b, a].map((x) => x.external_id));
    expect(await ids({ user_id: first.user })).toEqual([a.external_id]);
    expect(await ids({ user_id: second.user, status: "approved" })).toEqual([b.external_id]);
    expect(await ids({ referrer_user_id: referrer, status: "pending" })).toEqual([d.external_id]);
    expect(await ids({ referrer_user_id: referrer, status: "reversed" })).toEqual([c.external_id]);
    expect(await ids({ referrer_user_id: referrer, status: "paid" })).toEqual([]);
    expect(await ids({ referrer_user_id: uniqueUser("nobody") })).toEqual([]);
  });

  it("a bad status, limit or cursor: 422 naming it", async () => {
    for (const [query, field] of [
      ["status=done", /status/],
      ["limit=0", /limit/],
      ["limit=x", /limit/],
      ["cursor=nonsense", /cursor/],
    ] as const) {
      const answer = await apiJson(`/conversions?${query}`);
      expect(answer.status, query).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", field));
    }
  });

  it("every money field of every answer is an integer", async () => {
    const { user, referrer } = await referredUser({ commission: "percent:12.5" });
    await converted(user, 1999);
    await converted(user, 99_999_999_999, { bindings: { ...DUE_AT_ONCE, COMMISSION: "percent:100" } });
    const list = await listConversions({ referrer_user_id: referrer });
    expect(expectIntegerMoney(list.body)).toBeGreaterThanOrEqual(6);
    expect(list.body.conversions.map((c: { commission: number }) => c.commission)).toEqual([
      12_500_000_000, // 12.5 % (the link's) of 99,999,999,999 = …999.875
      250,
    ]);
  });
});
