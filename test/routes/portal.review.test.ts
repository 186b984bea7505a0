/**
 * The referrer's page and fraud review (docs/referrer-page.md, docs/fraud.md): commissions held
 * for review are shown apart, with a plain reason that names none of the rule's evidence, and a
 * rejected referral is not a sign-up.
 */
import { describe, expect, it } from "vitest";
import { apiJson, daysAgo, seedHit, uniqueUser } from "../support/api";
import { texts } from "../support/dashboard";
import { createLink } from "../support/db";
import { converted } from "../support/money";
import { openPortal } from "../support/portal";
import { uniqueIdentifier } from "../support/worker";

// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
type Json = any;

/** A user who clicked `link` yesterday (from an ad when `paidClick`), then confirmed. */
async function signUp(link: { id: number }, paidClick: string | null) {
  const user = uniqueUser("referred");
  await seedHit(link.id, {
    hitUserId: user,
    anonymousId: crypto.randomUUID(),
    createdAt: daysAgo(1),
    paidClick,
    country: "NL",
    asn: 64_512,
  });
  // The default FRAUD_RULES hold a paid click (paid_ads).
  const answer = await apiJson<Json>("/confirm", { method: "POST", json: { user_id: user } });
  expect(answer.status).toBe(201);
  return { user, id: answer.body.referral.id as number, status: answer.body.referral.status as string };
}

describe("held for review, on the referrer's page", () => {
  it("sums held commissions per currency with a plain reason; rejected sign-ups are not counted", async () => {
    const referrer = uniqueUser("referrer");
    const link = await createLink(uniqueIdentifier("review"), { userId: referrer });
    const fine = await signUp(link, null);
    const held = await signUp(link, "gclid");
    const rejected = await signUp(link, "fbclid");
    expect([fine.status, held.status, rejected.status]).toEqual(["ok", "held", "held"]);
    await converted(fine.user, 5_000); // approved at once: 5.00 EUR
    await converted(held.user, 10_000); // held: 10.00 EUR
    await converted(held.user, 2_000); // held: 2.00 EUR
    await converted(held.user, 3_000, { currency: "USD" }); // held: 3.00 USD, the only USD
    await converted(rejected.user, 7_000);
    const decision = await apiJson(`/referrals/${rejected.id}/reject`, { method: "POST", json: {} });
    expect(decision.status).toBe(200);

    const response = await openPortal(referrer);
    expect(response.status).toBe(200);
    const html = await response.text();
    const earning = (currency: string, name: string) =>
      texts(html, `tr[data-currency="${currency}"] [data-earning="${name}"]`);
    const reason = (currency: string) => texts(html, `tr[data-currency="${currency}"] [data-held-reason]`);
    expect((await earning("EUR", "held"))[0]).toMatch(/^12\.00 EUR/);
    expect(await reason("EUR")).toEqual(["a sign-up is being reviewed"]);
    expect(await earning("EUR", "approved")).toEqual(["5.00 EUR"]);
    expect(await earning("EUR", "pending")).toEqual(["0.00 EUR"]);
    expect((await earning("USD", "held"))[0]).toMatch(/^3\.00 USD/);
    expect(await reason("USD")).toEqual(["a sign-up is being reviewed"]);
    expect(await earning("USD", "approved")).toEqual(["0.00 USD"]);
    // The fine and the held sign-up count; the rejected one does not.
    expect(await texts(html, '[data-stat="sign-ups"]')).toEqual(["2"]);
    // Nothing of the rule or its evidence.
    for (const word of [
      "gclid",
      "fbclid",
      "paid ad",
      "paid_ads",
      "network",
      "64512",
      "velocity",
      held.user,
    ]) {
      expect(html.toLowerCase(), word).not.toContain(word.toLowerCase());
    }

    // Released: nothing held any more, and no reason shown.
    expect((await apiJson(`/referrals/${held.id}/release`, { method: "POST" })).status).toBe(200);
    const after = await (await openPortal(referrer)).text();
    expect(await texts(after, 'tr[data-currency="EUR"] [data-earning="held"]')).toEqual(["0.00 EUR"]);
    expect(await texts(after, 'tr[data-currency="EUR"] [data-earning="approved"]')).toEqual(["17.00 EUR"]);
    expect(after).not.toContain("being reviewed");
  });
});
