import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createLink, hitsOf } from "../support/db";
import type { EchoedRequest } from "../support/echo";
import { send, uniqueIdentifier } from "../support/worker";

describe("GET any URL with ?ref=", () => {
  it("records a hit and redirects in one hop to the clean URL, other parameters kept in order", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/blog/post-1?utm_source=tw&ref=${link.identifier}&a=%20b&ref=other&flag`, {
      headers: { Referer: "https://t.co/x" },
      cf: { country: "NL" },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/blog/post-1?utm_source=tw&a=%20b&flag");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.getSetCookie()[0]).toMatch(/^reflinks_rk=[0-9a-f-]{36}; /);
    const [hit, ...others] = await hitsOf(link.id);
    expect(others).toHaveLength(0);
    expect(hit).toMatchObject({
      next: "/blog/post-1?utm_source=tw&a=%20b&flag",
      httpReferer: "https://t.co/x",
      country: "NL",
      authenticated: false,
    });
  });

  it("redirects to the bare path when ref was the only parameter", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/?ref=${link.identifier}`);
    expect(response.headers.get("Location")).toBe("/");
    expect(await hitsOf(link.id)).toHaveLength(1);
  });

  it("honours a custom REF_PARAM", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/p?via=${link.identifier}&ref=${link.identifier}`, {
      bindings: { REF_PARAM: "via" },
    });
    expect(response.headers.get("Location")).toBe(`/p?ref=${link.identifier}`);
  });

  it("redirects bots and prefetches without a hit", async () => {
    const link = await createLink(uniqueIdentifier());
    const bot = await send(`/x?ref=${link.identifier}`, {
      headers: { "User-Agent": "facebookexternalhit/1.1" },
    });
    expect(bot.status).toBe(302);
    expect(bot.headers.get("Location")).toBe("/x");
    expect(bot.headers.getSetCookie()).toEqual([]);
    const prefetch = await send(`/x?ref=${link.identifier}`, {
      headers: { "Sec-Purpose": "prefetch;prerender" },
    });
    expect(prefetch.status).toBe(302);
    expect(await hitsOf(link.id)).toHaveLength(0);
  });

  it.each([
    ["an unknown link", "/page?ref=nobody-has-this&x=1", "GET"],
    ["a malformed identifier", "/page?ref=%27%3B--&x=1", "GET"],
    ["a non-GET request", "/page?ref=LINK&x=1", "POST"],
    ["a HEAD request", "/page?ref=LINK&x=1", "HEAD"],
    ["a parameter that only ends in ref", "/page?xref=LINK&x=1", "GET"],
  ])("proxies %s to the origin unchanged", async (_, path, method) => {
    const link = await createLink(uniqueIdentifier());
    const url = path.replace("LINK", link.identifier);
    const response = await send(url, { method, body: method === "POST" ? "form=1" : undefined });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Origin")).toBe("stub");
    if (method !== "HEAD") {
      const echo = await response.json<EchoedRequest>();
      expect(echo.url).toBe(url);
      expect(echo.method).toBe(method);
    }
    expect(await hitsOf(link.id)).toHaveLength(0);
  });

  it("proxies a disabled link's URL unchanged", async () => {
    const link = await createLink(uniqueIdentifier(), { disabled: true });
    const response = await send(`/page?ref=${link.identifier}`);
    expect((await response.json<EchoedRequest>()).url).toBe(`/page?ref=${link.identifier}`);
    expect(await hitsOf(link.id)).toHaveLength(0);
  });

  it("leaves the API and referral paths to their own routes", async () => {
    const link = await createLink(uniqueIdentifier());
    const api = await send(`/_reflinks/health?ref=${link.identifier}`);
    expect(await api.json()).toEqual({ ok: true });
    expect(await hitsOf(link.id)).toHaveLength(0);
    expect(env.ORIGIN_URL).toBeTruthy();
  });
});
