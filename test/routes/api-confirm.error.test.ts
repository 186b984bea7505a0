/**
 * `POST /_reflinks/confirm` for a user with no qualifying hit (docs/routing.md#confirmation): 404
 * `no_referral`, and nothing is written. Qualifying means `hit_user_id = user_id`,
 * `authenticated = 0`, a link the user does not own, inside `ATTRIBUTION_WINDOW_DAYS`.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBindings } from "../../src/bindings";
import { api, apiError, apiJson, daysAgo, hitById, referralsOf, seedHit, uniqueUser } from "../support/api";
import { createLink } from "../support/db";
import { beforeFirstBatch } from "../support/faults";
import { uniqueIdentifier } from "../support/worker";

async function expectNoReferral(user: string, event?: string, bindings?: Partial<AppBindings>) {
  const answer = await apiJson("/confirm", {
    method: "POST",
    json: event === undefined ? { user_id: user } : { user_id: user, event },
    ...(bindings ? { bindings } : {}),
  });
  expect(answer.status).toBe(404);
  expect(answer.body).toEqual(apiError("no_referral"));
  expect(answer.headers.get("Cache-Control")).toBe("no-store");
  expect(await referralsOf(user)).toEqual([]);
}

describe("404 no_referral", () => {
  it("a user with no hits at all", async () => {
    await expectNoReferral(uniqueUser("nobody"));
    await expectNoReferral(uniqueUser("nobody"), "purchase");
  });

  it("a user whose only hits were made signed in (authenticated = 1)", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser();
    const hits = [
      await seedHit(link.id, { hitUserId: user, authenticated: true, createdAt: daysAgo(2) }),
      await seedHit(link.id, { hitUserId: user, authenticated: true, createdAt: daysAgo(1) }),
    ];
    await expectNoReferral(user);
    for (const hit of hits) expect((await hitById(hit.id))?.confirmedAt).toBeNull();
  });

  it("a user whose only hit is on a link they own (self-referral)", async () => {
    const user = uniqueUser();
    const own = await createLink(uniqueIdentifier(), { userId: user });
    const hit = await seedHit(own.id, { hitUserId: user, anonymousId: crypto.randomUUID() });
    await expectNoReferral(user);
    expect((await hitById(hit.id))?.confirmedAt).toBeNull();
  });

  it("a user whose only hit is older than the 90-day window (91 days)", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser();
    const hit = await seedHit(link.id, { hitUserId: user, createdAt: daysAgo(91) });
    await expectNoReferral(user);
    expect((await hitById(hit.id))?.confirmedAt).toBeNull();
  });

  it("a user whose only hits are each disqualified for a different reason", async () => {
    const user = uniqueUser();
    const theirs = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const own = await createLink(uniqueIdentifier(), { userId: user });
    await seedHit(theirs.id, { hitUserId: user, authenticated: true });
    await seedHit(own.id, { hitUserId: user });
    await seedHit(theirs.id, { hitUserId: user, createdAt: daysAgo(200) });
    await expectNoReferral(user);
    await expectNoReferral(user, "purchase", { ATTRIBUTION: "first" });
  });

  it("hits that only share the anonymous browser, not reconciled to the user, do not count", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser();
    await seedHit(link.id, { anonymousId: crypto.randomUUID(), hitUserId: null });
    await seedHit(link.id, { hitUserId: `${user}-other` });
    await seedHit(link.id, { hitUserId: user.toUpperCase() });
    await expectNoReferral(user);
  });

  it("a 404 leaves the user free to be credited once a qualifying hit exists", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser();
    await expectNoReferral(user);
    await seedHit(link.id, { hitUserId: user });
    const answer = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(answer.status).toBe(201);
  });
});

describe("422: bad input", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["no user_id", { event: "signup" }, "user_id"],
    ["an empty user_id", { user_id: "  " }, "user_id"],
    ["user_id as an object", { user_id: { id: 1 } }, "user_id"],
    ["an event of 65 characters", { user_id: "u", event: "e".repeat(65) }, "event"],
  ])("%s: 422 naming the field, nothing written", async (_, json, field) => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    await seedHit(link.id, { hitUserId: "u" });
    const answer = await apiJson("/confirm", { method: "POST", json });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", new RegExp(`\\b${field}\\b`)));
    expect(await referralsOf("u")).toEqual([]);
  });
});

describe("a link deleted while its hit is being credited", () => {
  // The confirmation read the hit; the link (and with it the hit) is deleted before the write.
  const deleting = (identifier: string) =>
    beforeFirstBatch(env.DB, () => api(`/links/${identifier}`, { method: "DELETE" }));

  it("credits the user's next qualifying hit instead: 201 with the other link", async () => {
    const [gone, kept] = [await createLink(uniqueIdentifier()), await createLink(uniqueIdentifier())];
    const user = uniqueUser();
    // ATTRIBUTION is "last": the newer hit, on the link about to go, is the one read first.
    const next = await seedHit(kept.id, { hitUserId: user, createdAt: daysAgo(2) });
    await seedHit(gone.id, { hitUserId: user, createdAt: daysAgo(1) });

    const answer = await apiJson<{ created: boolean; referral: { link: string; hit_id: string } }>(
      "/confirm",
      {
        method: "POST",
        json: { user_id: user },
        bindings: { DB: deleting(gone.identifier) },
      },
    );
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({ link: kept.identifier, hit_id: next.id });
    expect(await referralsOf(user)).toHaveLength(1);
    expect((await hitById(next.id))?.confirmedAt).not.toBeNull();
  });

  it("with no other hit: 404 no_referral, nothing written, not a 500", async () => {
    const link = await createLink(uniqueIdentifier());
    const user = uniqueUser();
    await seedHit(link.id, { hitUserId: user, createdAt: daysAgo(1) });
    await expectNoReferral(user, undefined, { DB: deleting(link.identifier) });
  });
});
