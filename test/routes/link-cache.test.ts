import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cachedLinkTarget, rememberedLinkTarget } from "../../src/hits/link-cache";
import { api } from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

/** A D1 binding that counts the link lookups (SELECTs on referral_links) that reach it. */
function countingDatabase() {
  let lookups = 0;
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare") {
        return (query: string) => {
          if (/^select .* from "referral_links"/i.test(query)) lookups += 1;
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, lookups: () => lookups };
}

describe("link lookups are cached in the isolate", () => {
  it("?ref=: a flood of the same ?ref=garbage reaches D1 once (20 identical misses → 1 query)", async () => {
    const counting = countingDatabase();
    for (let i = 0; i < 20; i++) {
      const response = await send("/page?ref=no-such-link-anywhere", { bindings: { DB: counting.db } });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    expect(counting.lookups()).toBe(1);
  });

  it("/ref/: every click on the same unknown identifier asks D1 (the price of never losing a click)", async () => {
    const counting = countingDatabase();
    for (let i = 0; i < 5; i++) {
      const response = await send("/ref/no-such-link-anywhere", { bindings: { DB: counting.db } });
      expect(response.status).toBe(302);
      expect(response.headers.get("Location")).toBe("/");
    }
    expect(counting.lookups()).toBe(5);
  });

  it("/ref/: a popular link is looked up once, and every visit still records its hit", async () => {
    const link = await createLink(uniqueIdentifier());
    const counting = countingDatabase();
    for (let i = 0; i < 5; i++) {
      const response = await send(`/ref/${link.identifier}`, { bindings: { DB: counting.db } });
      expect(response.status).toBe(302);
    }
    expect(counting.lookups()).toBe(1);
    expect(await hitsOf(link.id)).toHaveLength(5);
  });

  it("/ref/: a click is never lost to a miss cached before the link was created in another isolate", async () => {
    const identifier = uniqueIdentifier("newlink");
    const before = await send(`/ref/${identifier}`);
    expect(before.status).toBe(302); // no such link yet: to the success URL, no hit, miss cached

    // Created as an API call served by another isolate would: straight into D1, this isolate's
    // cache left as it was (the API only clears the cache of the isolate that serves it).
    const link = await createLink(identifier);
    const after = await send(`/ref/${identifier}?next=/first`);
    expect(after.status).toBe(302);
    expect(after.headers.get("Location")).toBe("/first");
    expect(await hitsOf(link.id)).toMatchObject([{ next: "/first" }]);
  });

  it("?ref=: a cached miss is trusted for the TTL, until a /ref/ click refreshes it", async () => {
    const identifier = uniqueIdentifier("newlink");
    const counting = countingDatabase();
    const page = async () => {
      const response = await send(`/page?ref=${identifier}`, { bindings: { DB: counting.db } });
      await response.body?.cancel();
      return response.status;
    };
    expect(await page()).toBe(200); // unknown: the page, and the miss is remembered
    const link = await createLink(identifier); // in "another isolate": this cache is not told
    expect(await page()).toBe(200); // the remembered miss answers: no hit, as before
    expect(counting.lookups()).toBe(1);

    const click = await send(`/ref/${identifier}`, { bindings: { DB: counting.db } });
    expect(click.status).toBe(302);
    expect(counting.lookups()).toBe(2); // the /ref/ click asked D1, and refreshed the cache
    expect(await page()).toBe(302); // so ?ref= now finds the link, from the cache
    expect(counting.lookups()).toBe(2);
    expect(await hitsOf(link.id)).toHaveLength(2);
  });

  it("a link created, disabled or deleted through the API is forgotten at once in this isolate", async () => {
    const identifier = uniqueIdentifier();
    const before = await send(`/?ref=${identifier}`);
    expect(before.status).toBe(200); // unknown, and now remembered as unknown
    await before.body?.cancel();
    expect((await send(`/ref/${identifier}`)).status).toBe(302); // a miss too (refreshed)

    expect((await api("/links", { method: "POST", json: { identifier } })).status).toBe(201);
    expect((await send(`/?ref=${identifier}`)).status).toBe(302);
    expect((await send(`/ref/${identifier}?next=/x`)).headers.get("Location")).toBe("/x");

    await api(`/links/${identifier}`, { method: "PATCH", json: { disabled: true } });
    const disabled = await send(`/?ref=${identifier}`);
    expect(disabled.status).toBe(200);
    await disabled.body?.cancel();
  });

  it("LINK_CACHE_SECONDS=0 turns the cache off", async () => {
    const counting = countingDatabase();
    for (let i = 0; i < 3; i++) {
      const response = await send("/page?ref=uncached-garbage", {
        bindings: { DB: counting.db, LINK_CACHE_SECONDS: "0" },
      });
      await response.body?.cancel();
    }
    expect(counting.lookups()).toBe(3);
  });

  it("an entry expires after the TTL, so a change made elsewhere arrives within it", async () => {
    const counting = countingDatabase();
    const identifier = uniqueIdentifier();
    const start = Date.now();
    const lookUp = (now: number) =>
      cachedLinkTarget(counting.db, identifier, { ttlMs: 30_000, trustCachedMiss: true, now });
    expect(await lookUp(start)).toBeNull();
    await createLink(identifier); // as another isolate's API call would
    expect(await lookUp(start + 29_999)).toBeNull();
    expect(await lookUp(start + 30_000)).toMatchObject({ disabled: false });
    expect(counting.lookups()).toBe(2);
  });

  it("a lookup that does not trust a cached miss asks D1, and its answer refreshes the cache", async () => {
    const counting = countingDatabase();
    const identifier = uniqueIdentifier();
    const start = Date.now();
    const lookUp = (trustCachedMiss: boolean, now: number) =>
      cachedLinkTarget(counting.db, identifier, { ttlMs: 30_000, trustCachedMiss, now });
    expect(await lookUp(true, start)).toBeNull();
    expect(await lookUp(false, start + 1)).toBeNull(); // asked again: still missing
    expect(counting.lookups()).toBe(2);
    await createLink(identifier);
    expect(await lookUp(true, start + 2)).toBeNull(); // the trusted miss, from the cache
    expect(await lookUp(false, start + 3)).toMatchObject({ disabled: false }); // from D1
    expect(await lookUp(true, start + 4)).toMatchObject({ disabled: false }); // refreshed
    expect(await lookUp(false, start + 5)).toMatchObject({ disabled: false }); // a found link: trusted
    expect(counting.lookups()).toBe(3);
  });

  it("rememberedLinkTarget answers from the cache alone, as cachedLinkTarget would, or not at all", async () => {
    const counting = countingDatabase();
    const identifier = uniqueIdentifier();
    const start = Date.now();
    const options = (trustCachedMiss: boolean, now: number, ttlMs = 30_000) => ({
      ttlMs,
      trustCachedMiss,
      now,
    });
    expect(rememberedLinkTarget(counting.db, identifier, options(true, start))).toBeUndefined(); // never asked
    expect(await cachedLinkTarget(counting.db, identifier, options(true, start))).toBeNull();
    expect(rememberedLinkTarget(counting.db, identifier, options(true, start + 1))).toBeNull(); // the miss
    expect(rememberedLinkTarget(counting.db, identifier, options(false, start + 1))).toBeUndefined();
    expect(rememberedLinkTarget(counting.db, identifier, options(true, start + 30_000))).toBeUndefined(); // expired
    expect(rememberedLinkTarget(counting.db, identifier, options(true, start + 1, 0))).toBeUndefined(); // cache off
    await createLink(identifier);
    expect(await cachedLinkTarget(counting.db, identifier, options(false, start + 2))).toMatchObject({
      disabled: false,
    });
    expect(rememberedLinkTarget(counting.db, identifier, options(false, start + 3))).toMatchObject({
      disabled: false,
    });
    expect(counting.lookups()).toBe(2);
  });

  it("a remembered ?ref= miss is proxied without asking D1 again", async () => {
    const counting = countingDatabase();
    for (let i = 0; i < 3; i++) {
      const response = await send("/page?a=1&ref=remembered-garbage&b=2", { bindings: { DB: counting.db } });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    expect(counting.lookups()).toBe(1);
  });
});
