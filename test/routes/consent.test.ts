/**
 * CONSENT (docs/privacy.md#consent): a visitor who has not consented is redirected and counted,
 * never identified: no cookie, no anonymous id, no ip, user agent or referer.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLink, hitsOf } from "../support/db";
import { cookieValue, identityCookieFor, setCookies } from "../support/privacy";
import { send, uniqueIdentifier } from "../support/worker";

const CLICK = { "CF-Connecting-IP": "203.0.113.50", Referer: "https://news.example/story" };
const UNIDENTIFIED = { consented: false, anonymousId: null, ip: null, userAgent: null, httpReferer: null };

/** The worker's own cookies a response sets with a value (an expired one, Max-Age=0, leaves nothing). */
function cookiesLeft(response: Response): string[] {
  return [...setCookies(response)]
    .filter(([name]) => name === "reflinks_rk" || name === "reflinks_uid")
    .filter(([, rest]) => !/Max-Age=0(;|$)/.test(rest))
    .map(([name]) => name);
}

describe("CONSENT=gpc", () => {
  const bindings = { CONSENT: "gpc" };

  it("counts a click with Sec-GPC: 1 without identifying it, and sets no cookie", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}?next=/pricing`, {
      bindings,
      headers: { ...CLICK, "Sec-GPC": "1" },
      cf: { country: "DE" },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/pricing");
    expect(response.headers.getSetCookie()).toEqual([]);
    const [hit, ...more] = await hitsOf(link.id);
    expect(more).toEqual([]);
    expect(hit).toMatchObject({
      ...UNIDENTIFIED,
      hitUserId: null,
      authenticated: false,
      country: "DE",
      next: "/pricing",
    });
  });

  it("identifies a click without the signal as before", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}`, { bindings, headers: CLICK });
    const [hit] = await hitsOf(link.id);
    expect(hit).toMatchObject({ consented: true, ip: "203.0.113.50", httpReferer: CLICK.Referer });
    expect(hit?.anonymousId).toBe(cookieValue(response, "reflinks_rk"));
  });

  it("ignores the browser's anonymous cookie and leaves it as it is", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/pricing?ref=${link.identifier}`, {
      bindings,
      headers: { ...CLICK, "Sec-GPC": "1", Cookie: `reflinks_rk=${crypto.randomUUID()}` },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/pricing");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await hitsOf(link.id)).toEqual([expect.objectContaining(UNIDENTIFIED)]);
  });

  it("still names a signed-in visitor's user: they signed in to the site", async () => {
    const link = await createLink(uniqueIdentifier());
    const user = `gpc-user-${crypto.randomUUID()}`;
    const response = await send(`/ref/${link.identifier}`, {
      bindings,
      headers: { ...CLICK, "Sec-GPC": "1", Cookie: await identityCookieFor(user) },
    });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await hitsOf(link.id)).toEqual([
      expect.objectContaining({ ...UNIDENTIFIED, hitUserId: user, authenticated: true }),
    ]);
  });

  it("counts such clicks as hits, not as visitors, and never as duplicates", async () => {
    const link = await createLink(uniqueIdentifier());
    for (let i = 0; i < 2; i++) {
      await send(`/ref/${link.identifier}`, { bindings, headers: { ...CLICK, "Sec-GPC": "1" } });
    }
    const stats = await env.DB.prepare(
      "SELECT hits, unique_hits, visitors FROM link_stats WHERE identifier = ?",
    )
      .bind(link.identifier)
      .first();
    expect(stats).toEqual({ hits: 2, unique_hits: 2, visitors: 0 });
  });

  it("never credits such a click, even after a login with consent from the same browser", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: "referrer-gpc" });
    const user = `gpc-referred-${crypto.randomUUID()}`;
    const click = await send(`/ref/${link.identifier}`, { bindings, headers: { ...CLICK, "Sec-GPC": "1" } });
    expect(click.headers.getSetCookie()).toEqual([]);
    await send(`/login-as?user=${user}`, { bindings });
    const confirm = await send("/_reflinks/confirm", {
      method: "POST",
      headers: { Authorization: `Bearer ${env.API_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: user }),
    });
    expect(confirm.status).toBe(404);
    expect(await confirm.json()).toMatchObject({ error: { code: "no_referral" } });
  });

  it("is ignored under CONSENT=none (the default)", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}`, { headers: { ...CLICK, "Sec-GPC": "1" } });
    expect(cookieValue(response, "reflinks_rk")).toBeDefined();
    expect(await hitsOf(link.id)).toEqual([expect.objectContaining({ consented: true, ip: "203.0.113.50" })]);
  });
});

describe("CONSENT=cookie:NAME and cookie:NAME=VALUE", () => {
  it("needs the cookie to be there", async () => {
    const link = await createLink(uniqueIdentifier());
    const bindings = { CONSENT: "cookie:cookie_consent" };
    const without = await send(`/ref/${link.identifier}`, { bindings, headers: CLICK });
    const withIt = await send(`/ref/${link.identifier}`, {
      bindings,
      headers: { ...CLICK, Cookie: "cookie_consent=any" },
    });
    expect(without.headers.getSetCookie()).toEqual([]);
    expect(cookieValue(withIt, "reflinks_rk")).toBeDefined();
    const hits = await hitsOf(link.id);
    expect(hits.filter((hit) => hit.consented)).toEqual([expect.objectContaining({ ip: "203.0.113.50" })]);
    expect(hits.filter((hit) => !hit.consented)).toEqual([expect.objectContaining(UNIDENTIFIED)]);
  });

  it("needs the value when one is named", async () => {
    const link = await createLink(uniqueIdentifier());
    const bindings = { CONSENT: "cookie:consent=yes" };
    const no = await send(`/ref/${link.identifier}`, {
      bindings,
      headers: { ...CLICK, Cookie: "consent=no" },
    });
    const yes = await send(`/ref/${link.identifier}`, {
      bindings,
      headers: { ...CLICK, Cookie: "consent=yes" },
    });
    expect(no.headers.getSetCookie()).toEqual([]);
    expect(cookieValue(yes, "reflinks_rk")).toBeDefined();
    expect((await hitsOf(link.id)).map((hit) => hit.consented).sort()).toEqual([false, true]);
  });
});

describe("a login report on a request that has not consented", () => {
  const bindings = { CONSENT: "gpc" };

  it("records nothing, reconciles nothing, sets no cookie; the origin's own cookies pass", async () => {
    const link = await createLink(uniqueIdentifier());
    const click = await send(`/ref/${link.identifier}`, { bindings, headers: CLICK });
    const anonymous = `reflinks_rk=${cookieValue(click, "reflinks_rk")}`;
    const user = `no-consent-${crypto.randomUUID()}`;
    const login = await send(`/login-as?user=${user}`, {
      bindings,
      headers: { Cookie: anonymous, "Sec-GPC": "1" },
    });
    expect(login.status).toBe(303);
    expect(login.headers.has("Reflinks-User")).toBe(false);
    expect(cookiesLeft(login)).toEqual([]);
    expect([...setCookies(login).keys()]).toEqual(["session", "flash"]);
    expect(
      await env.DB.prepare("SELECT 1 FROM reflinks_users WHERE user_id = ?").bind(user).first(),
    ).toBeNull();
    expect(await hitsOf(link.id)).toEqual([expect.objectContaining({ hitUserId: null })]);
  });

  it("expires an identity cookie that names someone else, so their clicks are not credited to them", async () => {
    const other = await identityCookieFor(`other-${crypto.randomUUID()}`);
    const login = await send(`/login-as?user=${crypto.randomUUID()}`, {
      bindings,
      headers: { Cookie: other, "Sec-GPC": "1" },
    });
    expect(setCookies(login).get("reflinks_uid")).toMatch(/^; Max-Age=0;/);
    expect(cookiesLeft(login)).toEqual([]);
  });

  it("a logout report still clears the identity cookie", async () => {
    const identity = await identityCookieFor(`leaving-${crypto.randomUUID()}`);
    const logout = await send("/login-as?user=", { bindings, headers: { Cookie: identity, "Sec-GPC": "1" } });
    expect(setCookies(logout).get("reflinks_uid")).toMatch(/^; Max-Age=0;/);
  });

  it("the same login with consent is recorded and sets the identity cookie", async () => {
    const user = `consent-${crypto.randomUUID()}`;
    const login = await send(`/login-as?user=${user}`, { bindings });
    expect(cookiesLeft(login)).toEqual(["reflinks_uid"]);
    expect(
      await env.DB.prepare("SELECT user_id FROM reflinks_users WHERE user_id = ?").bind(user).first(),
    ).toEqual({
      user_id: user,
    });
  });
});

/** Runs per property; FC_RUNS raises it for a long local soak. */
const RUNS = Number(env.FC_RUNS ?? 0) || 40;

describe("property: under CONSENT, no request without consent leaves a cookie or a personal field", () => {
  const rule = fc.constantFrom("gpc", "cookie:cc", "cookie:cc=yes");
  const request = fc.record({
    kind: fc.constantFrom("ref-link", "ref-param", "login", "logout", "page"),
    gpc: fc.constantFrom(null, "1", "0"),
    consentCookie: fc.constantFrom(null, "yes", "no", ""),
    anonymous: fc.constantFrom(null, "uuid", "garbage", "two"),
    identity: fc.constantFrom(null, "same", "other"),
    referer: fc.boolean(),
  });

  it("holds for random mixes of clicks, ?ref= visits, login reports, cookies and GPC headers", {
    timeout: 180_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(rule, fc.array(request, { minLength: 1, maxLength: 5 }), async (consent, requests) => {
        for (const r of requests) {
          const link = await createLink(uniqueIdentifier("prop"));
          const user = `prop-${crypto.randomUUID()}`;
          const cookies: string[] = [];
          if (r.consentCookie !== null) cookies.push(`cc=${r.consentCookie}`);
          if (r.anonymous === "uuid") cookies.push(`reflinks_rk=${crypto.randomUUID()}`);
          if (r.anonymous === "garbage") cookies.push("reflinks_rk=not-a-uuid");
          if (r.anonymous === "two")
            cookies.push(`reflinks_rk=${crypto.randomUUID()}`, `reflinks_rk=${crypto.randomUUID()}`);
          if (r.identity)
            cookies.push(await identityCookieFor(r.identity === "same" ? user : `someone-${user}`));
          const headers: Record<string, string> = { "CF-Connecting-IP": "198.51.100.23" };
          if (r.gpc !== null) headers["Sec-GPC"] = r.gpc;
          if (r.referer) headers.Referer = "https://mail.example/";
          if (cookies.length > 0) headers.Cookie = cookies.join("; ");
          const path = {
            "ref-link": `/ref/${link.identifier}?next=/pricing`,
            "ref-param": `/pricing?ref=${link.identifier}`,
            login: `/login-as?user=${user}`,
            logout: "/login-as?user=",
            page: "/cookies",
          }[r.kind];
          const response = await send(path, { bindings: { CONSENT: consent }, headers });
          expect(response.status).toBeLessThan(500);

          // The rule, read independently of the worker's code.
          const consented =
            consent === "gpc"
              ? r.gpc !== "1"
              : consent === "cookie:cc"
                ? r.consentCookie !== null
                : r.consentCookie === "yes";
          const hits = await hitsOf(link.id);
          if (!consented) {
            expect(cookiesLeft(response), JSON.stringify(r)).toEqual([]);
            for (const hit of hits) expect(hit).toMatchObject(UNIDENTIFIED);
            const seen = await env.DB.prepare("SELECT 1 FROM reflinks_users WHERE user_id = ?")
              .bind(user)
              .first();
            expect(seen).toBeNull();
          } else {
            for (const hit of hits) expect(hit.consented).toBe(true);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
