/**
 * `/_reflinks/links` (docs/api.md): create, list, read with stats, change, delete, and list a
 * link's hits, as the origin's server code would use them.
 */
import { describe, expect, it } from "vitest";
import {
  apiJson,
  daysAgo,
  hitById,
  linkByIdentifier,
  referralsOf,
  seedHit,
  uniqueUser,
} from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const GENERATED = /^[A-Za-z0-9_-]{10}$/;

/** Walks a paginated list to its end, returning each page's items. */
async function allPages<T>(path: string, key: string): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const url: string = cursor === null ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`;
    const answer = await apiJson(url);
    expect(answer.status, url).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual([key, "next_cursor"].sort());
    pages.push(answer.body[key]);
    cursor = answer.body.next_cursor;
    if (cursor !== null) expect(cursor).toEqual(expect.any(String));
    if (pages.length > 50) throw new Error("pagination does not end");
  } while (cursor !== null);
  return pages;
}

describe("POST /links", () => {
  it("creates a link with the given identifier and owner: 201 with the link", async () => {
    const identifier = uniqueIdentifier();
    const owner = uniqueUser("owner");
    const answer = await apiJson("/links", { method: "POST", json: { identifier, user_id: owner } });
    expect(answer.status).toBe(201);
    expect(answer.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      identifier,
      user_id: owner,
      disabled: false,
      commission: null,
      referee_reward: null,
      expires_at: null,
      commission_payments: null,
      coupons: [],
      url: `https://shop.example/ref/${identifier}`,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    expect(answer.body.updated_at).toBe(answer.body.created_at);
    expect(await linkByIdentifier(identifier)).toMatchObject({ identifier, userId: owner, disabled: false });

    // The new link works at once.
    const visit = await send(`/ref/${identifier}`);
    expect(visit.status).toBe(302);
    const link = await linkByIdentifier(identifier);
    expect(await hitsOf(link?.id ?? -1)).toHaveLength(1);
  });

  it("a link created after a visit to its identifier (unknown then) records the next visit", async () => {
    const identifier = uniqueIdentifier("later");
    const before = await send(`/ref/${identifier}?next=/x`);
    expect(before.status).toBe(302);
    const answer = await apiJson("/links", { method: "POST", json: { identifier } });
    expect(answer.status).toBe(201);
    await send(`/ref/${identifier}`);
    await send(`/?ref=${identifier}`);
    const link = await linkByIdentifier(identifier);
    expect(await hitsOf(link?.id ?? -1)).toHaveLength(2);
  });

  it("generates a random URL-safe identifier of 10 characters when none is given", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const answer = await apiJson("/links", { method: "POST", json: i % 2 ? {} : undefined });
      expect(answer.status).toBe(201);
      expect(answer.body.identifier).toMatch(GENERATED);
      expect(answer.body.user_id).toBeNull();
      expect(answer.body.url).toBe(`https://shop.example/ref/${answer.body.identifier}`);
      seen.add(answer.body.identifier);
    }
    expect(seen.size).toBe(20);
  });

  it("generates an identifier for an owner given alone", async () => {
    const owner = uniqueUser("owner");
    const answer = await apiJson("/links", { method: "POST", json: { user_id: owner } });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ identifier: expect.stringMatching(GENERATED), user_id: owner });
  });

  it("stores a numeric user_id as its decimal text", async () => {
    const numeric = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const identifier = uniqueIdentifier();
    const answer = await apiJson("/links", { method: "POST", json: { identifier, user_id: numeric } });
    expect(answer.status).toBe(201);
    expect(answer.body.user_id).toBe(String(numeric));
    expect(await linkByIdentifier(identifier)).toMatchObject({ userId: String(numeric) });
    const listed = await apiJson(`/links?user_id=${numeric}`);
    expect(listed.body.links.map((link: { identifier: string }) => link.identifier)).toEqual([identifier]);
  });

  it("accepts an identifier of exactly 50 characters of every allowed kind", async () => {
    const identifier = `Az09_-${crypto.randomUUID().replaceAll("-", "")}`.padEnd(50, "x").slice(0, 50);
    const answer = await apiJson("/links", { method: "POST", json: { identifier } });
    expect(answer.status).toBe(201);
    expect(answer.body.identifier).toBe(identifier);
  });

  it("builds url on the request's host and the configured REF_PATH", async () => {
    const identifier = uniqueIdentifier();
    const response = await send("https://app.example/_reflinks/links", {
      method: "POST",
      headers: { Authorization: "Bearer test-api-token", "Content-Type": "application/json" },
      body: JSON.stringify({ identifier }),
      bindings: { REF_PATH: "/go/" },
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ url: `https://app.example/go/${identifier}` });
  });
});

describe("GET /links", () => {
  it("pages with limit and cursor through one owner's links, each exactly once, in creation order", async () => {
    const owner = uniqueUser("pager");
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await apiJson("/links", {
        method: "POST",
        json: { identifier: uniqueIdentifier("page"), user_id: owner },
      });
      created.push(answer.body.identifier);
      // Someone else's link in between must not show up.
      await apiJson("/links", { method: "POST", json: { user_id: uniqueUser("other") } });
    }

    const pages = await allPages<{ identifier: string; user_id: string }>(
      `/links?user_id=${owner}&limit=2`,
      "links",
    );
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    const listed = pages.flat();
    expect(listed.map((link) => link.identifier)).toEqual(created);
    for (const link of listed) {
      expect(link).toEqual({
        identifier: expect.any(String),
        user_id: owner,
        disabled: false,
        commission: null,
        referee_reward: null,
        expires_at: null,
        commission_payments: null,
        coupons: [],
        url: `https://shop.example/ref/${link.identifier}`,
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
      });
    }
  });

  it("a page that ends exactly at the last link has no next cursor", async () => {
    const owner = uniqueUser("even");
    for (let i = 0; i < 4; i++) {
      await apiJson("/links", { method: "POST", json: { user_id: owner } });
    }
    const pages = await allPages(`/links?user_id=${owner}&limit=2`, "links");
    expect(pages.map((page) => page.length)).toEqual([2, 2]);
  });

  it("an owner with no links gets an empty list", async () => {
    const answer = await apiJson(`/links?user_id=${uniqueUser("nobody")}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ links: [], next_cursor: null });
  });

  it("empty parameters (?user_id=&limit=&cursor=) count as not given: the first page of 50", async () => {
    for (let i = 0; i < 51; i++) await apiJson("/links", { method: "POST", json: {} });
    const [templated, plain] = await Promise.all([
      apiJson("/links?user_id=&limit=&cursor="),
      apiJson("/links"),
    ]);
    expect(templated.status).toBe(200);
    expect(templated.body).toEqual(plain.body);
    expect((templated.body as { links: unknown[] }).links).toHaveLength(50);
  });

  it("without a filter, lists every owner's links; limit=200 is allowed", async () => {
    const mine = await apiJson("/links", { method: "POST", json: { user_id: uniqueUser() } });
    const theirs = await apiJson("/links", { method: "POST", json: {} });
    const pages = await allPages<{ identifier: string }>("/links?limit=200", "links");
    const identifiers = pages.flat().map((link) => link.identifier);
    expect(identifiers).toContain(mine.body.identifier);
    expect(identifiers).toContain(theirs.body.identifier);
    expect(new Set(identifiers).size).toBe(identifiers.length);
  });
});

describe("GET /links/:identifier", () => {
  it("answers the link with its stats, matching its hits", async () => {
    const owner = uniqueUser("owner");
    const link = await createLink(uniqueIdentifier(), { userId: owner });
    const browserA = crypto.randomUUID();
    const browserB = crypto.randomUUID();
    await seedHit(link.id, { anonymousId: browserA, createdAt: daysAgo(3) });
    await seedHit(link.id, { anonymousId: browserA, createdAt: daysAgo(2) });
    await seedHit(link.id, { anonymousId: browserB, createdAt: daysAgo(1) });
    const user = uniqueUser();
    const reconcile = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: user, anonymous_id: browserA },
    });
    expect(reconcile.body).toEqual({ updated: 2 });
    const confirm = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(confirm.status).toBe(201);

    const answer = await apiJson(`/links/${link.identifier}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      identifier: link.identifier,
      user_id: owner,
      disabled: false,
      commission: null,
      referee_reward: null,
      expires_at: null,
      commission_payments: null,
      coupons: [],
      url: `https://shop.example/ref/${link.identifier}`,
      created_at: link.createdAt,
      updated_at: link.updatedAt,
      // 3 hits; 2 visitors (browser A, now the user, and browser B); 1 user; 1 confirmed referral.
      stats: { hits: 3, unique_hits: 3, visitors: 2, users: 1, confirmed: 1 },
    });
  });

  it("a link without hits has zero stats", async () => {
    const link = await createLink(uniqueIdentifier());
    const answer = await apiJson(`/links/${link.identifier}`);
    expect(answer.status).toBe(200);
    expect(answer.body.stats).toEqual({ hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 });
  });

  it("counts hits recorded by real visits", async () => {
    const link = await createLink(uniqueIdentifier());
    const first = await send(`/ref/${link.identifier}`);
    const cookie = first.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    await send(`/ref/${link.identifier}`, { headers: { Cookie: cookie } });
    await send(`/ref/${link.identifier}`);
    const answer = await apiJson(`/links/${link.identifier}`);
    // The first browser's second click is a duplicate (DEDUPE_SECONDS): a hit, not a unique one.
    expect(answer.body.stats).toEqual({ hits: 3, unique_hits: 2, visitors: 2, users: 0, confirmed: 0 });
  });
});

describe("PATCH /links/:identifier", () => {
  it("disabled: true stops recording hits; disabled: false starts again", async () => {
    const link = await createLink(uniqueIdentifier());
    // A visit first, so that the worker has seen the link enabled.
    await send(`/ref/${link.identifier}`);
    expect(await hitsOf(link.id)).toHaveLength(1);
    const off = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { disabled: true } });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({
      identifier: link.identifier,
      user_id: link.userId,
      disabled: true,
      commission: null,
      referee_reward: null,
      expires_at: null,
      commission_payments: null,
      coupons: [],
      url: `https://shop.example/ref/${link.identifier}`,
      created_at: link.createdAt,
      updated_at: expect.stringMatching(ISO),
    });
    expect(off.body.updated_at >= link.updatedAt).toBe(true);

    const visit = await send(`/ref/${link.identifier}?next=/after`);
    expect(visit.status).toBe(302);
    expect(visit.headers.get("Location")).toBe("/after");
    expect(visit.headers.getSetCookie()).toEqual([]);
    expect(await hitsOf(link.id)).toHaveLength(1);
    expect((await apiJson(`/links/${link.identifier}`)).body).toMatchObject({ disabled: true });

    const on = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { disabled: false } });
    expect(on.body.disabled).toBe(false);
    await send(`/ref/${link.identifier}`);
    expect(await hitsOf(link.id)).toHaveLength(2);
  });

  it("changes the owner, takes a number as its text, and null removes it", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("before") });
    const owner = uniqueUser("after");
    const changed = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { user_id: owner } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ identifier: link.identifier, user_id: owner, disabled: false });
    expect((await apiJson(`/links/${link.identifier}`)).body.user_id).toBe(owner);
    const listed = await apiJson(`/links?user_id=${owner}`);
    expect(listed.body.links.map((l: { identifier: string }) => l.identifier)).toEqual([link.identifier]);

    const numeric = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { user_id: 7 } });
    expect(numeric.body.user_id).toBe("7");

    const cleared = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { user_id: null } });
    expect(cleared.body.user_id).toBeNull();
    expect(await linkByIdentifier(link.identifier)).toMatchObject({ userId: null });
  });

  it("changes both fields at once, and a field left out is kept", async () => {
    const owner = uniqueUser();
    const link = await createLink(uniqueIdentifier(), { userId: owner });
    const both = await apiJson(`/links/${link.identifier}`, {
      method: "PATCH",
      json: { disabled: true, user_id: "someone" },
    });
    expect(both.body).toMatchObject({ disabled: true, user_id: "someone" });
    const one = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { user_id: owner } });
    expect(one.body).toMatchObject({ disabled: true, user_id: owner });
  });
});

describe("DELETE /links/:identifier", () => {
  it("answers 204; the link is gone and its hits with it", async () => {
    const link = await createLink(uniqueIdentifier());
    const other = await createLink(uniqueIdentifier());
    await seedHit(link.id, { anonymousId: crypto.randomUUID() });
    await send(`/ref/${link.identifier}`);
    const kept = await seedHit(other.id, { anonymousId: crypto.randomUUID() });
    expect(await hitsOf(link.id)).toHaveLength(2);

    const response = await apiJson(`/links/${link.identifier}`, { method: "DELETE" });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();

    const after = await apiJson(`/links/${link.identifier}`);
    expect(after.status).toBe(404);
    expect(await hitsOf(link.id)).toHaveLength(0);
    expect(await hitById(kept.id)).not.toBeNull();
    // A visit to the deleted link records nothing.
    await send(`/ref/${link.identifier}`);
    expect(await hitsOf(link.id)).toHaveLength(0);
  });

  it("a link whose hit was credited can be deleted; the credit still counts exactly once", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser();
    await seedHit(link.id, { hitUserId: user });
    const first = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(first.status).toBe(201);

    const response = await apiJson(`/links/${link.identifier}`, { method: "DELETE" });
    expect(response.status).toBe(204);
    expect(await hitsOf(link.id)).toHaveLength(0);

    const again = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, referral: { id: first.body.referral.id } });
    expect(await referralsOf(user)).toHaveLength(1);
  });
});

describe("GET /links/:identifier/hits", () => {
  it("lists the link's hits newest first, paged by cursor, each once, under the column names", async () => {
    const link = await createLink(uniqueIdentifier());
    const other = await createLink(uniqueIdentifier());
    await seedHit(other.id, { createdAt: daysAgo(0.5) });
    const tie = daysAgo(2);
    const seeded = [
      await seedHit(link.id, { createdAt: daysAgo(4), anonymousId: crypto.randomUUID() }),
      await seedHit(link.id, { createdAt: tie, anonymousId: crypto.randomUUID(), country: "DE" }),
      await seedHit(link.id, { createdAt: tie, hitUserId: "u-1", authenticated: true }),
      await seedHit(link.id, { createdAt: tie, anonymousId: crypto.randomUUID(), next: "/p?q=1" }),
      await seedHit(link.id, {
        createdAt: daysAgo(1),
        anonymousId: crypto.randomUUID(),
        hitUserId: "u-2",
        confirmedAt: daysAgo(0.9),
        ip: null,
        userAgent: "UA",
        httpReferer: "https://news.example/",
      }),
    ];

    const pages = await allPages<Record<string, unknown>>(`/links/${link.identifier}/hits?limit=2`, "hits");
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    const listed = pages.flat();

    // Newest first; the three hits of the same instant each appear once, in whatever order.
    const createdAts = listed.map((hit) => String(hit.created_at));
    expect(createdAts).toEqual([...createdAts].sort().reverse());
    expect(listed.map((hit) => hit.id).sort()).toEqual(seeded.map((hit) => hit.id).sort());
    for (const hit of seeded) {
      expect(listed.find((item) => item.id === hit.id)).toEqual({
        id: hit.id,
        link: link.identifier,
        anonymous_id: hit.anonymousId,
        authenticated: hit.authenticated,
        hit_user_id: hit.hitUserId,
        ip: hit.ip,
        user_agent: hit.userAgent,
        http_referer: hit.httpReferer,
        next: hit.next,
        country: hit.country,
        confirmed_at: hit.confirmedAt,
        duplicate: hit.duplicate,
        consented: hit.consented,
        created_at: hit.createdAt,
        updated_at: hit.updatedAt,
      });
    }
  });

  it("a hit recorded by a visit is listed with what the visit sent", async () => {
    const link = await createLink(uniqueIdentifier());
    await send(`/ref/${link.identifier}?next=/pricing`, {
      headers: { "CF-Connecting-IP": "198.51.100.4", Referer: "https://blog.example/post" },
    });
    const answer = await apiJson(`/links/${link.identifier}/hits`);
    expect(answer.status).toBe(200);
    expect(answer.body.next_cursor).toBeNull();
    expect(answer.body.hits).toEqual([
      expect.objectContaining({
        link: link.identifier,
        authenticated: false,
        hit_user_id: null,
        ip: "198.51.100.4",
        http_referer: "https://blog.example/post",
        next: "/pricing",
        confirmed_at: null,
        anonymous_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        created_at: expect.stringMatching(ISO),
      }),
    ]);
  });

  it("a link without hits has an empty list", async () => {
    const link = await createLink(uniqueIdentifier());
    const answer = await apiJson(`/links/${link.identifier}/hits`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ hits: [], next_cursor: null });
  });
});

describe("a link's commission", () => {
  it("PATCH sets the link's own rule, null goes back to COMMISSION, and a bad rule is a 422 naming it", async () => {
    const link = await createLink(uniqueIdentifier("commission"));
    const set = await apiJson(`/links/${link.identifier}`, {
      method: "PATCH",
      json: { commission: "percent:12.5" },
    });
    expect(set.status).toBe(200);
    expect(set.body.commission).toBe("percent:12.5");
    expect((await apiJson(`/links/${link.identifier}`)).body.commission).toBe("percent:12.5");
    for (const bad of ["percent:101", "percent:1.234", "fixed:-5", "fixed:1.5", "none", "20%", 20]) {
      const answer = await apiJson(`/links/${link.identifier}`, {
        method: "PATCH",
        json: { commission: bad },
      });
      expect(answer.status, String(bad)).toBe(422);
      expect(answer.body.error.message).toMatch(/^commission /);
    }
    const cleared = await apiJson(`/links/${link.identifier}`, {
      method: "PATCH",
      json: { commission: null },
    });
    expect(cleared.body.commission).toBeNull();
  });
});
