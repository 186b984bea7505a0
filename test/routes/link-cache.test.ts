import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cachedLinkTarget } from "../../src/hits/link-cache";
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
  it("a flood of ?ref=garbage reaches D1 once", async () => {
    const counting = countingDatabase();
    for (let i = 0; i < 20; i++) {
      const response = await send("/page?ref=no-such-link-anywhere", { bindings: { DB: counting.db } });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    expect(counting.lookups()).toBe(1);
  });

  it("a popular link is looked up once, and every visit still records its hit", async () => {
    const link = await createLink(uniqueIdentifier());
    const counting = countingDatabase();
    for (let i = 0; i < 5; i++) {
      const response = await send(`/ref/${link.identifier}`, { bindings: { DB: counting.db } });
      expect(response.status).toBe(302);
    }
    expect(counting.lookups()).toBe(1);
    expect(await hitsOf(link.id)).toHaveLength(5);
  });

  it("a link created, disabled or deleted through the API is forgotten at once in this isolate", async () => {
    const identifier = uniqueIdentifier();
    const before = await send(`/?ref=${identifier}`);
    expect(before.status).toBe(200); // unknown, and now remembered as unknown
    await before.body?.cancel();

    expect((await api("/links", { method: "POST", json: { identifier } })).status).toBe(201);
    expect((await send(`/?ref=${identifier}`)).status).toBe(302);

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
    expect(await cachedLinkTarget(counting.db, identifier, 30_000, start)).toBeNull();
    await createLink(identifier); // as another isolate's API call would
    expect(await cachedLinkTarget(counting.db, identifier, 30_000, start + 29_999)).toBeNull();
    expect(await cachedLinkTarget(counting.db, identifier, 30_000, start + 30_000)).toMatchObject({
      disabled: false,
    });
    expect(counting.lookups()).toBe(2);
  });
});
