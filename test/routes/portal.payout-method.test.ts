/**
 * Where a referrer is paid, set on their own page (docs/referrer-page.md): a PayPal or Wise
 * address, or an IBAN with the holder's name, checked by the API's own rules
 * (`PUT /users/:user_id/payout-method`); a bad field is said so on the page and nothing is saved.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiJson, uniqueUser } from "../support/api";
import { select } from "../support/dashboard";
import { formTokenOf, methodTokenOf, openPortal, postPayoutMethod } from "../support/portal";

const methodOf = (userId: string) =>
  env.DB.prepare("SELECT type, email, iban, account_name FROM payout_methods WHERE user_id = ?1")
    .bind(userId)
    .first();

async function tokenFor(userId: string): Promise<string> {
  return methodTokenOf(await (await openPortal(userId)).text());
}

const flashOf = async (response: Response) => {
  const [flash] = await select(await response.text(), "[data-flash]");
  return flash?.text.trim().replaceAll("&#39;", "'");
};

describe("the payout-method form on the referrer's page", () => {
  it("not set: the page says so; an IBAN saved, shown masked, and the API answers it", async () => {
    const userId = uniqueUser("payee");
    const page = await (await openPortal(userId)).text();
    expect(await select(page, "[data-method=none]")).toHaveLength(1);
    const saved = await postPayoutMethod(userId, {
      form_token: await methodTokenOf(page),
      type: "iban",
      email: "ignored@example.com",
      iban: "de89 3704 0044 0532 0130 00",
      account_name: "Jürgen Müller",
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("Location")).toBe("/_reflinks/me?saved=payout-method#payout-method");
    // The e-mail of another method's field is not stored: the type decides which fields count.
    expect(await methodOf(userId)).toEqual({
      type: "iban",
      email: null,
      iban: "DE89370400440532013000",
      account_name: "Jürgen Müller",
    });
    const after = await (await openPortal(userId, "?saved=payout-method")).text();
    const [shown] = await select(after, "[data-method=iban] .id");
    expect(shown?.text).toBe("DE89 … 3000");
    expect(after).not.toContain("DE89370400440532013000");
    const [flash] = await select(after, "[data-flash]");
    expect(flash?.text.trim()).toBe("Saved: your payouts go there from now on.");
    const export_ = await apiJson(`/users/${userId}/export`);
    expect(export_.body.payout_method).toMatchObject({ type: "iban", iban: "DE89370400440532013000" });
  });

  it("PayPal with an e-mail; then changed to Wise", async () => {
    const userId = uniqueUser("paypal");
    const paypal = await postPayoutMethod(userId, {
      form_token: await tokenFor(userId),
      type: "paypal",
      email: "alice@example.com",
      iban: "",
      account_name: "",
    });
    expect(paypal.status).toBe(303);
    expect(await methodOf(userId)).toMatchObject({ type: "paypal", email: "alice@example.com" });
    const wise = await postPayoutMethod(userId, {
      form_token: await tokenFor(userId),
      type: "wise",
      email: "alice@example.com",
      iban: "",
      account_name: "Alice Example",
    });
    expect(wise.status).toBe(303);
    expect(await methodOf(userId)).toMatchObject({ type: "wise", account_name: "Alice Example" });
  });

  it.each([
    [{ type: "iban", iban: "DE89370400440532013001", account_name: "A B" }, "The IBAN "],
    [{ type: "iban", iban: "DE89370400440532013000", account_name: "" }, "The account holder's name "],
    [{ type: "paypal", email: "not-an-address" }, "The e-mail address "],
    [{ type: "paypal", email: "=HYPERLINK(1)@example.com" }, "The e-mail address "],
    [
      { type: "wise", email: "a@example.com", account_name: "=cmd|' /C calc'!A0" },
      "The account holder's name ",
    ],
    [{ type: "cheque" }, "The way to be paid "],
  ])("%j: 422, the page names the field, nothing is saved", async (fields, named) => {
    const userId = uniqueUser("bad");
    const answer = await postPayoutMethod(userId, { form_token: await tokenFor(userId), ...fields });
    expect(answer.status).toBe(422);
    const flash = await flashOf(answer);
    expect(flash).toMatch(
      new RegExp(`^${named.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*: nothing was saved\\.$`),
    );
    expect(await methodOf(userId)).toBeNull();
  });

  it("refuses the other form's token, another user's token and a cross-site post: nothing saved", async () => {
    const victim = uniqueUser("victim");
    const mallory = uniqueUser("mallory");
    const fields = { type: "paypal", email: "mallory@example.com" };
    const page = await (await openPortal(victim)).text();
    const getLinkToken = await formTokenOf(page);
    for (const [token, options] of [
      [getLinkToken, {}],
      [await tokenFor(mallory), {}],
      [await methodTokenOf(page), { origin: "https://evil.example" }],
    ] as const) {
      const answer = await postPayoutMethod(victim, { form_token: token, ...fields }, options);
      expect(answer.status).toBe(403);
      await answer.body?.cancel();
    }
    expect(await methodOf(victim)).toBeNull();
    const anonymous = await postPayoutMethod(null, { form_token: await methodTokenOf(page), ...fields });
    expect(anonymous.status).toBe(403);
    await anonymous.body?.cancel();
  });
});
