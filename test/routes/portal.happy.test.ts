/**
 * The referrer's page (docs/referrer-page.md): a signed-in user's links with their QR codes and
 * numbers, their earnings and payouts, the CSV of every commission, and "Get your link".
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiJson, uniqueUser } from "../support/api";
import { select, texts } from "../support/dashboard";
import { converted, pay, referredUser } from "../support/money";
import { formTokenOf, openPortal, PORTAL, postGetLink } from "../support/portal";
import { SITE, uniqueIdentifier } from "../support/worker";

describe("GET PORTAL_PATH", () => {
  it("sends a visitor who is not signed in to PORTAL_LOGIN_URL with next", async () => {
    const response = await openPortal(null);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/login?next=%2F_reflinks%2Fme");
    const custom = await openPortal(null, "", { bindings: { PORTAL_LOGIN_URL: "/account/sign-in?from=x" } });
    expect(custom.headers.get("Location")).toBe("/account/sign-in?from=x&next=%2F_reflinks%2Fme");
    const csv = await openPortal(null, "/commissions.csv");
    expect(csv.status).toBe(302);
    expect(csv.headers.get("Location")).toBe("/login?next=%2F_reflinks%2Fme");
  });

  it("shows the user's links with URL, QR code, clicks, sign-ups, conversions and commission", async () => {
    const { user, referrer, link } = await referredUser();
    await converted(user, 2500); // 10 %: 2.50 EUR
    await converted(user, 1000, { currency: "USD" });
    const response = await openPortal(referrer);
    expect(response.status).toBe(200);
    const html = await response.text();
    const url = `${SITE}/ref/${link.identifier}`;
    expect(await texts(html, "[data-url]")).toEqual([url]);
    expect(html).toMatch(/<figure class="qr"[^>]*><svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const stat = async (name: string) => texts(html, `[data-stat="${name}"]`);
    expect(await stat("clicks")).toEqual(["1"]);
    expect(await stat("unique-clicks")).toEqual(["1"]);
    expect(await stat("sign-ups")).toEqual(["1"]);
    expect(await stat("conversions")).toEqual(["2"]);
    const commission = await select(html, '[data-stat="commission"] [data-currency]');
    expect(commission.map((e) => [e.attributes["data-currency"], e.attributes["data-amount"]])).toEqual([
      ["EUR", "250"],
      ["USD", "100"],
    ]);
    // A copy button for where JavaScript runs: hidden until the script shows it.
    const [button] = await select(html, "button[data-copy]");
    expect(button?.attributes).toMatchObject({ "data-copy": url, hidden: "" });
    // No reward set: nothing promised.
    expect(await select(html, "[data-reward]")).toHaveLength(0);
  });

  it("says what friends get through a link, when its owner or the operator set a reward", async () => {
    const { referrer, link } = await referredUser();
    const set = await apiJson(`/links/${link.identifier}`, {
      method: "PATCH",
      json: { referee_reward: "20% off" },
    });
    expect(set.status).toBe(200);
    const html = await (await openPortal(referrer)).text();
    expect(await texts(html, "[data-reward]")).toEqual(["Friends who come through it get: 20% off"]);
  });

  it("shows earnings per currency (pending with its next approval date, approved, paid) and payouts", async () => {
    const { user, referrer } = await referredUser();
    await converted(user, 10000); // approved at once: 10.00 EUR
    await pay(referrer, "EUR");
    const sooner = await converted(user, 5000, { bindings: { COMMISSION: "percent:10", HOLD_DAYS: "30" } });
    const later = await converted(user, 3000, { bindings: { COMMISSION: "percent:10", HOLD_DAYS: "40" } });
    const html = await (await openPortal(referrer)).text();
    const earning = async (name: string) => texts(html, `tr[data-currency="EUR"] [data-earning="${name}"]`);
    expect((await earning("pending"))[0]).toMatch(/^8\.00 EUR/);
    expect(await earning("approved")).toEqual(["0.00 EUR"]);
    expect(await earning("paid")).toEqual(["10.00 EUR"]);
    const [next] = await select(html, "[data-next-approval]");
    expect(sooner.approve_at < later.approve_at).toBe(true);
    expect(next?.attributes["data-next-approval"]).toBe(sooner.approve_at);
    const payouts = await select(html, "tr[data-payout] td");
    expect(payouts.map((cell) => cell.text)).toEqual([
      new Date().toISOString().slice(0, 10),
      "10.00 EUR",
      "1",
    ]);
  });

  it("answers private, unframable, with a CSP that allows exactly its style and script", async () => {
    const referrer = uniqueUser("headers");
    const response = await openPortal(referrer);
    const html = await response.text();
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    const hash = async (text: string) =>
      `'sha256-${btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))))}'`;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    expect(script).not.toBe("");
    expect(csp).toContain(`script-src ${await hash(script)};`);
    expect(csp).toContain(`style-src ${await hash(style)};`);
    expect(html.match(/<script/g)).toHaveLength(1);
  });
});

describe("PORTAL_PATH/commissions.csv", () => {
  it("lists every commission line (date, link, payment amount, currency, commission, status), RFC 4180", async () => {
    const { user, referrer, link } = await referredUser();
    const first = await converted(user, 123456);
    const second = await converted(user, 999, {
      currency: "JPY",
      bindings: { COMMISSION: "percent:10", HOLD_DAYS: "30" },
    });
    const response = await openPortal(referrer, "/commissions.csv");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/csv/);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const text = await response.text();
    expect(text).toBe(
      "date,link,payment_amount,currency,commission,status\r\n" +
        `${second.created_at},${link.identifier},999,JPY,100,pending\r\n` +
        `${first.created_at},${link.identifier},1234.56,EUR,123.46,approved\r\n`,
    );
  });
});

describe("Get your link", () => {
  it("creates a link with a random identifier, then offers no more (PORTAL_LINKS=1)", async () => {
    const userId = uniqueUser("getter");
    const page = await (await openPortal(userId)).text();
    expect(page).toContain("You have no referral link yet.");
    const response = await postGetLink(userId, { form_token: await formTokenOf(page), identifier: "" });
    expect(response.status).toBe(303);
    const location = response.headers.get("Location") ?? "";
    expect(location).toMatch(/^\/_reflinks\/me\?created=[A-Za-z0-9_-]{10}$/);
    const identifier = location.split("=")[1];
    const after = await (await openPortal(userId, `?created=${identifier}`)).text();
    expect(await texts(after, "[data-url]")).toEqual([`${SITE}/ref/${identifier}`]);
    expect(await texts(after, "[data-flash=done]")).toEqual([
      `Your link &quot;${identifier}&quot; is ready: share it.`,
    ]);
    expect(await formTokenOf(after)).toBe("");
    expect(after).toContain("data-links-full");
    // The new link works as any other.
    const click = await env.DB.prepare("SELECT user_id FROM referral_links WHERE identifier = ?1")
      .bind(identifier)
      .first<{ user_id: string }>();
    expect(click?.user_id).toBe(userId);
  });

  it("creates the link they choose, and allows PORTAL_LINKS of them counting every link they own", async () => {
    const userId = uniqueUser("chooser");
    const bindings = { PORTAL_LINKS: "2" };
    const chosen = uniqueIdentifier("mine");
    const page = await (await openPortal(userId, "", { bindings })).text();
    const response = await postGetLink(
      userId,
      { form_token: await formTokenOf(page), identifier: chosen },
      { bindings },
    );
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe(`${PORTAL}?created=${chosen}`);
    // One more made by the API: now two, the most.
    await env.DB.prepare(
      "INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at) VALUES (?1, ?2, 0, ?3, ?3)",
    )
      .bind(uniqueIdentifier("api"), userId, new Date().toISOString())
      .run();
    const full = await (await openPortal(userId, "", { bindings })).text();
    expect(await formTokenOf(full)).toBe("");
    expect(await texts(full, "[data-url]")).toHaveLength(2);
  });

  it("with PORTAL_LINKS=0 offers no form", async () => {
    const html = await (await openPortal(uniqueUser("none"), "", { bindings: { PORTAL_LINKS: "0" } })).text();
    expect(html).not.toContain('id="get-link"');
  });
});
