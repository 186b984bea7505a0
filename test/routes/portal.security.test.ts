/**
 * The referrer's page refuses what it must (docs/referrer-page.md): another user's form token, a
 * cross-site post, a used, expired or forged sign-in link; it never shows a referred user's id,
 * a payment's external id, an IP address, a user agent or a referer; and it is the site's only.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiJson, seedHit, uniqueUser } from "../support/api";
import { DASHBOARD_ORIGIN } from "../support/dashboard";
import { converted, referredUser } from "../support/money";
import { formTokenOf, openPortal, PORTAL, postGetLink } from "../support/portal";
import { setCookies } from "../support/privacy";
import { send } from "../support/worker";

async function linksOf(userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM referral_links WHERE user_id = ?1")
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("Get your link, refused", () => {
  it("refuses another user's form token, and creates nothing", async () => {
    const mallory = uniqueUser("mallory");
    const victim = uniqueUser("victim");
    const token = await formTokenOf(await (await openPortal(mallory)).text());
    const response = await postGetLink(victim, { form_token: token, identifier: "" });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("This form was not made for you on this page: nothing was done.");
    expect(await linksOf(victim)).toBe(0);
    expect(await linksOf(mallory)).toBe(0);
  });

  it("refuses a forged token and a cross-site post, and creates nothing", async () => {
    const userId = uniqueUser("target");
    const forged = await postGetLink(userId, { form_token: "1.AAAA.AAAA", identifier: "" });
    expect(forged.status).toBe(403);
    const token = await formTokenOf(await (await openPortal(userId)).text());
    const crossSite = await postGetLink(
      userId,
      { form_token: token, identifier: "" },
      { origin: "https://evil.example" },
    );
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toContain("This form was not sent from this site: nothing was done.");
    expect(await linksOf(userId)).toBe(0);
  });

  it("says a taken or invalid identifier is so, and creates nothing", async () => {
    const userId = uniqueUser("namer");
    const token = await formTokenOf(await (await openPortal(userId)).text());
    const taken = await postGetLink(userId, { form_token: token, identifier: "demo-taken" });
    // The first takes it; a second user is told it is taken.
    expect(taken.status).toBe(303);
    const other = uniqueUser("other");
    const otherToken = await formTokenOf(await (await openPortal(other)).text());
    const refused = await postGetLink(other, { form_token: otherToken, identifier: "demo-taken" });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("&quot;demo-taken&quot; is taken: choose another name.");
    const invalid = await postGetLink(other, { form_token: otherToken, identifier: "no spaces!" });
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).toContain("cannot be a link: use 1 to 50 letters, digits, - and _.");
    expect(await linksOf(other)).toBe(0);
  });

  it("keeps to PORTAL_LINKS when two posts race", async () => {
    const userId = uniqueUser("racer");
    const token = await formTokenOf(await (await openPortal(userId)).text());
    const answers = await Promise.all(
      [1, 2, 3].map(() => postGetLink(userId, { form_token: token, identifier: "" })),
    );
    expect(answers.filter((answer) => answer.status === 303)).toHaveLength(1);
    await Promise.all(answers.map((answer) => answer.text()));
    expect(await linksOf(userId)).toBe(1);
  });
});

describe("sign-in links (POST /users/:user_id/portal-link)", () => {
  it("answers 201 {url, expires_at}; the URL opens a page-only session once", async () => {
    const userId = uniqueUser("emailer");
    const before = Date.now();
    const { status, body } = await apiJson(`/users/${userId}/portal-link`, { method: "POST" });
    expect(status).toBe(201);
    expect(body.url).toMatch(/^https:\/\/shop\.example\/_reflinks\/me\/sign-in\?token=[A-Za-z0-9_-]{43}$/);
    const expires = Date.parse(body.expires_at);
    expect(expires - before).toBeGreaterThanOrEqual(15 * 60_000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(15 * 60_000 + 5000);

    const opened = await send(body.url);
    expect(opened.status).toBe(303);
    expect(opened.headers.get("Location")).toBe(PORTAL);
    const cookie = setCookies(opened).get("reflinks_portal") ?? "";
    expect(cookie).toMatch(/; Max-Age=3600; Path=\/_reflinks\/me; HttpOnly; Secure; SameSite=Lax$/);
    const session = `reflinks_portal=${cookie.split(";")[0]}`;
    const page = await send(PORTAL, { headers: { Cookie: session } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`<span data-user="true">${userId}</span>`);

    const again = await send(body.url);
    expect(again.status).toBe(403);
    expect(again.headers.get("Cache-Control")).toBe("private, no-store");
    expect(await again.text()).toContain("This sign-in link was already used");
    expect(setCookies(again).has("reflinks_portal")).toBe(false);
  });

  it("refuses an expired and a forged link with 403 and a page that says so", async () => {
    const userId = uniqueUser("late");
    const { body } = await apiJson(`/users/${userId}/portal-link`, { method: "POST" });
    // Fifteen minutes pass: the row's expiry moved into the past.
    await env.DB.prepare("UPDATE portal_links SET expires_at = ?1 WHERE user_id = ?2")
      .bind(new Date(Date.now() - 1000).toISOString(), userId)
      .run();
    const late = await send(body.url);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain("This sign-in link has expired");
    const forged = await send(`${PORTAL}/sign-in?token=${"A".repeat(43)}`);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("This is not a valid sign-in link.");
    const junk = await send(`${PORTAL}/sign-in?token=<script>`);
    expect(junk.status).toBe(403);
    expect(setCookies(junk).size).toBe(0);
  });

  it("stores only the token's hash", async () => {
    const userId = uniqueUser("hashed");
    const { body } = await apiJson(`/users/${userId}/portal-link`, { method: "POST" });
    const token = new URL(body.url).searchParams.get("token") ?? "";
    const row = await env.DB.prepare("SELECT * FROM portal_links WHERE user_id = ?1").bind(userId).first();
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it("needs the bearer token, and is 404 with PORTAL_PATH=off and on DASHBOARD_HOST", async () => {
    const userId = uniqueUser("off");
    expect((await apiJson(`/users/${userId}/portal-link`, { method: "POST", token: null })).status).toBe(401);
    const off = await apiJson(`/users/${userId}/portal-link`, {
      method: "POST",
      bindings: { PORTAL_PATH: "off" },
    });
    expect(off.status).toBe(404);
  });
});

describe("what a referrer never sees", () => {
  it("shows neither page nor CSV a referred user's id, a payment's external id, an IP, a user agent or a referer", async () => {
    const { user, referrer, link } = await referredUser();
    const secrets = {
      ip: "198.51.100.77",
      userAgent: "SecretAgent/9.9 (seeded)",
      httpReferer: "https://private-mail.example/inbox/4711",
    };
    await seedHit(link.id, { hitUserId: user, anonymousId: crypto.randomUUID(), ...secrets });
    const payment = `invoice-secret-${crypto.randomUUID()}`;
    await converted(user, 4200, { externalId: payment });
    const page = await (await openPortal(referrer)).text();
    const csv = await (await openPortal(referrer, "/commissions.csv")).text();
    expect(csv.split("\r\n")).toHaveLength(3); // header, one line, and the final CRLF
    for (const text of [page, csv]) {
      for (const secret of [
        user,
        payment,
        secrets.ip,
        secrets.userAgent,
        secrets.httpReferer,
        "203.0.113.9",
      ]) {
        expect(text).not.toContain(secret);
      }
    }
  });
});

describe("where the page answers", () => {
  it("is matched before the API, and with PORTAL_PATH=off that path is the API's again", async () => {
    const userId = uniqueUser("order");
    expect((await openPortal(userId)).status).toBe(200);
    const off = await openPortal(userId, "", { bindings: { PORTAL_PATH: "off" } });
    expect(off.status).toBe(401); // the API's answer without a bearer token
    await off.text();
  });

  it("answers at a PORTAL_PATH of the site's, before the proxy", async () => {
    const userId = uniqueUser("custom");
    const response = await openPortal(userId, "", { bindings: { PORTAL_PATH: "/account/referrals" } });
    // openPortal asks for /_reflinks/me: with the page moved, that is the API's path.
    expect(response.status).toBe(401);
    const { identityCookieFor } = await import("../support/privacy");
    const moved = await send("/account/referrals", {
      headers: { Cookie: await identityCookieFor(userId) },
      bindings: { PORTAL_PATH: "/account/referrals" },
    });
    expect(moved.status).toBe(200);
    expect(await moved.text()).toContain("Your referral page");
  });

  it("is 404 on DASHBOARD_HOST, signed in or not, with the same links on the site's host", async () => {
    const userId = uniqueUser("operator-host");
    const { identityCookieFor } = await import("../support/privacy");
    for (const path of ["", "/commissions.csv", "/links", "/sign-in?token=x"]) {
      const response = await send(`${DASHBOARD_ORIGIN}${PORTAL}${path}`, {
        headers: { Cookie: await identityCookieFor(userId) },
      });
      expect(response.status).toBe(404);
      expect(await response.text()).toContain("referrer's page");
    }
    const link = await send(`${DASHBOARD_ORIGIN}/_reflinks/users/${userId}/portal-link`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.API_TOKEN}` },
    });
    expect(link.status).toBe(404);
    expect(await link.text()).toContain("DASHBOARD_HOST");
  });
});
