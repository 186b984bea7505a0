/**
 * `POST /_reflinks/reconcile {user_id, anonymous_id}` (docs/api.md): the origin's login handler
 * gives every hit of the browser's anonymous id that has no user yet the user.
 */
import { describe, expect, it } from "vitest";
import { api, apiError, apiJson, daysAgo, hitById, seedHit, uniqueUser } from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

describe("POST /reconcile", () => {
  it("gives every hit of the anonymous id without a user the user, on every link: {updated: n}", async () => {
    const first = await createLink(uniqueIdentifier());
    const second = await createLink(uniqueIdentifier());
    const browser = crypto.randomUUID();
    const otherBrowser = crypto.randomUUID();
    const mine = [
      await seedHit(first.id, { anonymousId: browser, createdAt: daysAgo(30) }),
      await seedHit(first.id, { anonymousId: browser, createdAt: daysAgo(2) }),
      await seedHit(second.id, { anonymousId: browser, createdAt: daysAgo(1) }),
    ];
    const alreadyOwned = await seedHit(second.id, { anonymousId: browser, hitUserId: "earlier-user" });
    const notMine = await seedHit(first.id, { anonymousId: otherBrowser });

    const user = uniqueUser();
    const answer = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: user, anonymous_id: browser },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ updated: 3 });
    expect(answer.headers.get("Cache-Control")).toBe("no-store");

    for (const hit of mine) {
      const stored = await hitById(hit.id);
      expect(stored).toMatchObject({ hitUserId: user, anonymousId: browser, authenticated: false });
      expect(stored?.updatedAt && stored.updatedAt >= hit.updatedAt).toBe(true);
    }
    // A hit that already has a user keeps it; another browser's hit is untouched.
    expect(await hitById(alreadyOwned.id)).toMatchObject({ hitUserId: "earlier-user" });
    expect(await hitById(notMine.id)).toMatchObject({ hitUserId: null, updatedAt: notMine.updatedAt });
  });

  it("a second call changes nothing: {updated: 0}, also for another user", async () => {
    const link = await createLink(uniqueIdentifier());
    const browser = crypto.randomUUID();
    const hit = await seedHit(link.id, { anonymousId: browser });
    const user = uniqueUser();
    const first = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: user, anonymous_id: browser },
    });
    expect(first.body).toEqual({ updated: 1 });
    const again = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: user, anonymous_id: browser },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ updated: 0 });
    const someoneElse = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: uniqueUser("late"), anonymous_id: browser },
    });
    expect(someoneElse.body).toEqual({ updated: 0 });
    expect(await hitById(hit.id)).toMatchObject({ hitUserId: user });
  });

  it("an anonymous id with no hits: {updated: 0}", async () => {
    const answer = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: uniqueUser(), anonymous_id: crypto.randomUUID() },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ updated: 0 });
  });

  it.each([
    ["a word", "not-a-uuid"],
    ["empty", ""],
    ["SQL", "' OR 1=1 --"],
    ["a LIKE pattern", "%"],
    ["a UUID with junk after it", `${crypto.randomUUID()}x`],
    ["a cookie header", `reflinks_rk=${crypto.randomUUID()}`],
  ])("an anonymous_id that is not a UUID (%s) is harmless: {updated: 0}", async (_, anonymousId) => {
    const link = await createLink(uniqueIdentifier());
    const unowned = await seedHit(link.id, { anonymousId: crypto.randomUUID() });
    const answer = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: uniqueUser(), anonymous_id: anonymousId },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ updated: 0 });
    expect(await hitById(unowned.id)).toMatchObject({ hitUserId: null });
  });

  it.each<[string, Record<string, unknown>]>([
    ["null: the visitor had no cookie", { anonymous_id: null }],
    ["absent", {}],
    ["a number", { anonymous_id: 42 }],
    ["an object", { anonymous_id: { $ne: null } }],
  ])("an anonymous_id that is %s is harmless too: {updated: 0}", async (_, fields) => {
    const link = await createLink(uniqueIdentifier());
    const unowned = await seedHit(link.id, { anonymousId: crypto.randomUUID() });
    const answer = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: uniqueUser(), ...fields },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ updated: 0 });
    expect(await hitById(unowned.id)).toMatchObject({ hitUserId: null });
  });

  it("a numeric user_id is stored as its decimal text", async () => {
    const link = await createLink(uniqueIdentifier());
    const browser = crypto.randomUUID();
    const hit = await seedHit(link.id, { anonymousId: browser });
    const numeric = 2_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const answer = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: numeric, anonymous_id: browser },
    });
    expect(answer.body).toEqual({ updated: 1 });
    expect(await hitById(hit.id)).toMatchObject({ hitUserId: String(numeric) });
  });

  it("reconciles the hits a real browser made, with the cookie's value", async () => {
    const first = await createLink(uniqueIdentifier());
    const second = await createLink(uniqueIdentifier());
    const visit = await send(`/ref/${first.identifier}`);
    const cookie = visit.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    const anonymousId = cookie.split("=")[1] ?? "";
    await send(`/ref/${second.identifier}`, { headers: { Cookie: cookie } });

    const user = uniqueUser();
    const answer = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: user, anonymous_id: anonymousId },
    });
    expect(answer.body).toEqual({ updated: 2 });
    expect((await hitsOf(first.id)).map((hit) => hit.hitUserId)).toEqual([user]);
    expect((await hitsOf(second.id)).map((hit) => hit.hitUserId)).toEqual([user]);
  });

  it("missing or bad user_id: 422 naming it, nothing changed", async () => {
    const link = await createLink(uniqueIdentifier());
    const browser = crypto.randomUUID();
    const hit = await seedHit(link.id, { anonymousId: browser });
    for (const json of [
      { anonymous_id: browser },
      { user_id: null, anonymous_id: browser },
      { user_id: "", anonymous_id: browser },
      { user_id: { id: 1 }, anonymous_id: browser },
    ]) {
      const answer = await apiJson("/reconcile", { method: "POST", json });
      expect(answer.status, JSON.stringify(json)).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /\buser_id\b/));
    }
    expect(await hitById(hit.id)).toMatchObject({ hitUserId: null });
  });
});

describe("junk anonymous ids", () => {
  it("a very long one is harmless too: {updated: 0}, not an error", async () => {
    const response = await api("/reconcile", {
      method: "POST",
      json: { user_id: uniqueUser(), anonymous_id: "x".repeat(5000) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ updated: 0 });
  });
});
