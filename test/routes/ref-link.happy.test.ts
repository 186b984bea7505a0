import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createLink, hitsOf } from "../support/db";
import { BROWSER_UA, SITE, send, uniqueIdentifier } from "../support/worker";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function cookieValue(response: Response, name: string): string | undefined {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair] = cookie.split(";");
    const [key, value] = (pair ?? "").split("=");
    if (key === name) return value;
  }
  return undefined;
}

describe("GET {REF_PATH}:identifier", () => {
  it("records a hit with every field and redirects to the safe next", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}?next=/pricing%3Fplan%3Dpro`, {
      headers: {
        "CF-Connecting-IP": "203.0.113.7",
        Referer: "https://news.example/post/1",
      },
    });

    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/pricing?plan=pro");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("reflinks_rk="));
    expect(cookie).toMatch(/; Max-Age=31536000/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);

    const [hit, ...others] = await hitsOf(link.id);
    expect(others).toHaveLength(0);
    expect(hit).toMatchObject({
      linkId: link.id,
      anonymousId: cookieValue(response, "reflinks_rk"),
      authenticated: false,
      hitUserId: null,
      ip: "203.0.113.7",
      userAgent: BROWSER_UA,
      httpReferer: "https://news.example/post/1",
      next: "/pricing?plan=pro",
      confirmedAt: null,
    });
    expect(hit?.id).toMatch(UUID);
    expect(hit?.anonymousId).toMatch(UUID);
    expect(hit?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("stores null, not an empty string, for a User-Agent or Referer the request did not send", async () => {
    const link = await createLink(uniqueIdentifier());
    // Built by hand: send() adds a browser User-Agent to every request.
    const request = new Request(`${SITE}/ref/${link.identifier}`, { redirect: "manual" });
    const ctx = createExecutionContext();
    const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(302);
    const [hit, ...others] = await hitsOf(link.id);
    expect(others).toHaveLength(0);
    expect(hit).toMatchObject({ consented: true, userAgent: null, httpReferer: null });
  });

  it("reuses the anonymous id of a browser that already has one", async () => {
    const link = await createLink(uniqueIdentifier());
    const known = crypto.randomUUID();
    const response = await send(`/ref/${link.identifier}`, {
      headers: { Cookie: `other=1; reflinks_rk=${known.toUpperCase()}` },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/");
    expect(cookieValue(response, "reflinks_rk")).toBe(known);
    const [hit] = await hitsOf(link.id);
    expect(hit?.anonymousId).toBe(known);
  });

  it("gives a fresh id when the cookie is not a UUID", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}/`, {
      headers: { Cookie: "reflinks_rk=not-a-uuid%27%3B--" },
    });
    const issued = cookieValue(response, "reflinks_rk");
    expect(issued).toMatch(UUID);
    const [hit] = await hitsOf(link.id);
    expect(hit?.anonymousId).toBe(issued);
  });

  it("carries the other query parameters after the destination's own", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(
      `/ref/${link.identifier}?utm_source=tw&next=/p%3Fa%3D1%23top&utm_medium=social`,
    );
    expect(response.headers.get("Location")).toBe("/p?a=1&utm_source=tw&utm_medium=social#top");
  });

  it("falls back to SUCCESS_URL, with the carried parameters", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}?utm_source=mail`, {
      bindings: { SUCCESS_URL: "/welcome" },
    });
    expect(response.headers.get("Location")).toBe("/welcome?utm_source=mail");
  });

  it("accepts an absolute https next on the request's host or an allowed host", async () => {
    const link = await createLink(uniqueIdentifier());
    const own = await send(`/ref/${link.identifier}?next=https://shop.example/cart`);
    expect(own.headers.get("Location")).toBe("https://shop.example/cart");
    const allowed = await send(`/ref/${link.identifier}?next=https://app.example/start`, {
      bindings: { ALLOWED_REDIRECT_HOSTS: "www.example, app.example" },
    });
    expect(allowed.headers.get("Location")).toBe("https://app.example/start");
    expect(await hitsOf(link.id)).toHaveLength(2);
  });

  it("honours a custom REF_PATH, COOKIE_NAME, COOKIE_DOMAIN and max age", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/go/${link.identifier}`, {
      bindings: { REF_PATH: "/go/", COOKIE_NAME: "rk", COOKIE_DOMAIN: ".shop.example", COOKIE_MAX_AGE: "60" },
    });
    expect(response.status).toBe(302);
    const cookie = response.headers.getSetCookie()[0];
    expect(cookie).toMatch(/^rk=[0-9a-f-]{36}; Max-Age=60; Domain=\.shop\.example; Path=\//);
  });

  it("a __Secure- or __Host- COOKIE_NAME gets a Secure cookie, also over plain http", async () => {
    const link = await createLink(uniqueIdentifier());
    for (const name of ["__Secure-rk", "__Host-rk"]) {
      const response = await send(`http://shop.example/ref/${link.identifier}`, {
        bindings: { COOKIE_NAME: name },
      });
      expect(response.status, name).toBe(302);
      const cookie = response.headers.getSetCookie()[0];
      expect(cookie).toMatch(
        new RegExp(`^${name}=[0-9a-f-]{36}; Max-Age=\\d+; Path=/; HttpOnly; Secure; SameSite=Lax$`),
      );
    }
  });

  it("stores the IP as STORE_IP says", async () => {
    const link = await createLink(uniqueIdentifier());
    const cases = [
      ["truncated", "198.51.100.23", "198.51.100.0"],
      ["truncated", "2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"],
      ["none", "198.51.100.23", null],
    ] as const;
    for (const [mode, ip] of cases) {
      await send(`/ref/${link.identifier}?next=/${mode}`, {
        headers: { "CF-Connecting-IP": ip },
        bindings: { STORE_IP: mode },
      });
    }
    const hits = await hitsOf(link.id);
    expect(hits.map((hit) => hit.ip).sort()).toEqual(cases.map(([, , stored]) => stored).sort());
  });
});

describe("requests that follow the link but leave no hit", () => {
  it.each([
    ["HEAD", { method: "HEAD" }],
    ["a prefetch", { headers: { "Sec-Purpose": "prefetch" } }],
    ["a legacy prefetch", { headers: { Purpose: "prefetch" } }],
    ["a bot", { headers: { "User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" } }],
    [
      "a crawler",
      {
        headers: { "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" },
      },
    ],
  ])("%s is redirected without a hit or a cookie", async (_, init) => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}?next=/x`, init);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/x");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await hitsOf(link.id)).toHaveLength(0);
  });

  it("an unknown or disabled link redirects and leaves the cookies alone", async () => {
    const disabled = await createLink(uniqueIdentifier(), { disabled: true });
    for (const identifier of [disabled.identifier, "no-such-link"]) {
      const response = await send(`/ref/${identifier}?next=/after`, {
        headers: { Cookie: `reflinks_rk=${crypto.randomUUID()}` },
      });
      expect(response.status).toBe(302);
      expect(response.headers.get("Location")).toBe("/after");
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    expect(await hitsOf(disabled.id)).toHaveLength(0);
  });

  it("other methods get 405 with Allow", async () => {
    const link = await createLink(uniqueIdentifier());
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      const response = await send(`/ref/${link.identifier}`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get("Allow")).toBe("GET, HEAD");
      await response.body?.cancel();
    }
    expect(await hitsOf(link.id)).toHaveLength(0);
  });
});

describe("the REF_PATH prefix itself", () => {
  it("/ref and /ref/ redirect like an unknown link; /refund is the origin's", async () => {
    for (const path of ["/ref", "/ref/", "/ref?next=/x"]) {
      const response = await send(path);
      expect(response.status).toBe(302);
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    const page = await send("/refund");
    expect(page.status).toBe(200);
    expect(page.headers.get("X-Origin")).toBe("stub");
    await page.body?.cancel();
  });
});
