/**
 * `POST /_reflinks/confirm {user_id, event?}` (docs/routing.md#confirmation): credits the `last` (or
 * `first`) qualifying hit of a user exactly once per event, also when many calls race.
 */

import { and, eq, isNotNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { referralHits } from "../../src/db/schema";
import {
  apiJson,
  daysAgo,
  hitById,
  linkByIdentifier,
  referralsOf,
  seedHit,
  uniqueUser,
} from "../support/api";
import { createLink, db } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function confirm(json: Record<string, unknown>, bindings?: Record<string, string>) {
  return apiJson("/confirm", { method: "POST", json, ...(bindings ? { bindings } : {}) });
}

function cookiePair(response: Response, name: string): string {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!cookie) throw new Error(`no ${name} cookie`);
  return cookie.split(";")[0] ?? "";
}

/** A user with three qualifying hits on three links, 10, 5 and 2 days ago, and non-qualifying ones around them. */
async function userWithThreeHits() {
  const user = uniqueUser();
  const links = [];
  for (const label of ["oldest", "middle", "newest"]) {
    links.push(await createLink(uniqueIdentifier(label), { userId: uniqueUser(`referrer-${label}`) }));
  }
  const [oldest, middle, newest] = links as [(typeof links)[0], (typeof links)[0], (typeof links)[0]];
  const hits = {
    oldest: await seedHit(oldest.id, {
      hitUserId: user,
      anonymousId: crypto.randomUUID(),
      createdAt: daysAgo(10),
    }),
    middle: await seedHit(middle.id, {
      hitUserId: user,
      anonymousId: crypto.randomUUID(),
      createdAt: daysAgo(5),
    }),
    newest: await seedHit(newest.id, {
      hitUserId: user,
      anonymousId: crypto.randomUUID(),
      createdAt: daysAgo(2),
    }),
  };
  // Newer than all of them but signed in, and a self-referral: neither qualifies.
  const other = await createLink(uniqueIdentifier("authenticated"), { userId: uniqueUser("referrer") });
  await seedHit(other.id, { hitUserId: user, authenticated: true, createdAt: daysAgo(1) });
  const own = await createLink(uniqueIdentifier("own"), { userId: user });
  await seedHit(own.id, { hitUserId: user, anonymousId: crypto.randomUUID(), createdAt: daysAgo(0.5) });
  // Older than all of them but outside the 90-day window: does not qualify for `first`.
  const ancient = await createLink(uniqueIdentifier("ancient"), { userId: uniqueUser("referrer") });
  await seedHit(ancient.id, { hitUserId: user, anonymousId: crypto.randomUUID(), createdAt: daysAgo(100) });
  return { user, links: { oldest, middle, newest }, hits };
}

describe("POST /confirm: the first call credits, every later one answers the same referral", () => {
  it("201 {created: true, referral}, then 200 {created: false} with the same referral; the hit gets confirmed_at", async () => {
    const referrer = uniqueUser("referrer");
    const link = await createLink(uniqueIdentifier(), { userId: referrer });
    const user = uniqueUser();
    const hit = await seedHit(link.id, {
      hitUserId: user,
      anonymousId: crypto.randomUUID(),
      createdAt: daysAgo(1),
    });

    const first = await confirm({ user_id: user, event: "signup" });
    expect(first.status).toBe(201);
    expect(first.headers.get("Cache-Control")).toBe("no-store");
    expect(first.body).toEqual({
      created: true,
      referral: {
        id: expect.any(Number),
        user_id: user,
        event: "signup",
        link: link.identifier,
        referrer_user_id: referrer,
        hit_id: hit.id,
        created_at: expect.stringMatching(ISO),
        status: "ok",
        flags: [],
        reason: null,
        source: "link",
      },
    });

    const stored = await hitById(hit.id);
    expect(stored?.confirmedAt).toMatch(ISO);

    for (let i = 0; i < 3; i++) {
      const again = await confirm({ user_id: user, event: "signup" });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ created: false, referral: first.body.referral });
    }
    // The hit's confirmed_at is not moved by the later calls.
    expect((await hitById(hit.id))?.confirmedAt).toBe(stored?.confirmedAt);
    expect(await referralsOf(user)).toHaveLength(1);
  });

  it("an event is the origin's own name: spaces and any script are fine", async () => {
    const link = await createLink(uniqueIdentifier());
    const user = uniqueUser();
    await seedHit(link.id, { hitUserId: user, createdAt: daysAgo(1) });
    const answer = await confirm({ user_id: user, event: "Erster Kauf · 初回" });
    expect(answer.status).toBe(201);
    expect(answer.body.referral.event).toBe("Erster Kauf · 初回");
    expect((await referralsOf(user, "Erster Kauf · 初回")).length).toBe(1);
  });

  it("event defaults to signup; another event is a separate credit", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser();
    const hit = await seedHit(link.id, { hitUserId: user, createdAt: daysAgo(3) });

    const signup = await confirm({ user_id: user });
    expect(signup.status).toBe(201);
    expect(signup.body.referral.event).toBe("signup");
    const explicit = await confirm({ user_id: user, event: "signup" });
    expect(explicit.status).toBe(200);
    expect(explicit.body.referral).toEqual(signup.body.referral);
    const confirmedAt = (await hitById(hit.id))?.confirmedAt;

    const purchase = await confirm({ user_id: user, event: "first_purchase" });
    expect(purchase.status).toBe(201);
    expect(purchase.body.referral).toMatchObject({
      event: "first_purchase",
      hit_id: hit.id,
      link: link.identifier,
    });
    expect(purchase.body.referral.id).not.toBe(signup.body.referral.id);
    expect((await confirm({ user_id: user, event: "first_purchase" })).status).toBe(200);
    expect((await confirm({ user_id: user })).body).toEqual({
      created: false,
      referral: signup.body.referral,
    });

    expect((await referralsOf(user)).map((row) => row.event).sort()).toEqual(["first_purchase", "signup"]);
    // The hit already had confirmed_at: it keeps the first one.
    expect((await hitById(hit.id))?.confirmedAt).toBe(confirmedAt);
  });

  it("events are separate per user: another user's confirmation does not answer for this one", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const alice = uniqueUser("alice");
    const bob = uniqueUser("bob");
    await seedHit(link.id, { hitUserId: alice });
    await seedHit(link.id, { hitUserId: bob });
    const a = await confirm({ user_id: alice });
    const b = await confirm({ user_id: bob });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.referral.id).not.toBe(b.body.referral.id);
    expect(b.body.referral.user_id).toBe(bob);
  });

  it("a numeric user_id is matched and answered as its decimal text", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const numeric = 3_000_000 + Math.floor(Math.random() * 1_000_000_000);
    await seedHit(link.id, { hitUserId: String(numeric) });
    const answer = await confirm({ user_id: numeric });
    expect(answer.status).toBe(201);
    expect(answer.body.referral.user_id).toBe(String(numeric));
    expect((await confirm({ user_id: String(numeric) })).status).toBe(200);
  });

  it("a link without an owner credits with referrer_user_id null", async () => {
    // Through the API: the createLink helper gives a null owner "alice".
    const created = await apiJson("/links", { method: "POST", json: {} });
    const link = await linkByIdentifier(created.body.identifier);
    if (!link) throw new Error("link not created");
    expect(link.userId).toBeNull();
    const user = uniqueUser();
    await seedHit(link.id, { hitUserId: user });
    const answer = await confirm({ user_id: user });
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({ link: link.identifier, referrer_user_id: null });
  });
});

describe("which hit is credited", () => {
  it("ATTRIBUTION=last (the default) credits the newest qualifying hit", async () => {
    const { user, links, hits } = await userWithThreeHits();
    const answer = await confirm({ user_id: user });
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({
      link: links.newest.identifier,
      hit_id: hits.newest.id,
      referrer_user_id: links.newest.userId,
    });
    expect((await hitById(hits.newest.id))?.confirmedAt).toMatch(ISO);
    expect((await hitById(hits.oldest.id))?.confirmedAt).toBeNull();
    expect((await hitById(hits.middle.id))?.confirmedAt).toBeNull();
  });

  it("ATTRIBUTION=first credits the oldest qualifying hit", async () => {
    const { user, links, hits } = await userWithThreeHits();
    const answer = await confirm({ user_id: user }, { ATTRIBUTION: "first" });
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({
      link: links.oldest.identifier,
      hit_id: hits.oldest.id,
      referrer_user_id: links.oldest.userId,
    });
    expect((await hitById(hits.oldest.id))?.confirmedAt).toMatch(ISO);
    expect((await hitById(hits.newest.id))?.confirmedAt).toBeNull();
  });

  it("a self-referral newer than a real referral does not hide the real one", async () => {
    const user = uniqueUser();
    const theirs = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const mine = await createLink(uniqueIdentifier(), { userId: user });
    const credited = await seedHit(theirs.id, { hitUserId: user, createdAt: daysAgo(4) });
    await seedHit(mine.id, { hitUserId: user, createdAt: daysAgo(1) });
    const answer = await confirm({ user_id: user });
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({ hit_id: credited.id, link: theirs.identifier });
  });

  it("a hit 89 days old qualifies with the default 90-day window", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser();
    const hit = await seedHit(link.id, { hitUserId: user, createdAt: daysAgo(89) });
    const answer = await confirm({ user_id: user });
    expect(answer.status).toBe(201);
    expect(answer.body.referral.hit_id).toBe(hit.id);
  });

  it("ATTRIBUTION_WINDOW_DAYS sets the window", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const outside = uniqueUser("outside");
    const inside = uniqueUser("inside");
    await seedHit(link.id, { hitUserId: outside, createdAt: daysAgo(8) });
    const hit = await seedHit(link.id, { hitUserId: inside, createdAt: daysAgo(6) });
    const window = { ATTRIBUTION_WINDOW_DAYS: "7" };
    const late = await confirm({ user_id: outside }, window);
    expect(late.status).toBe(404);
    expect(late.body.error.code).toBe("no_referral");
    const inTime = await confirm({ user_id: inside }, window);
    expect(inTime.status).toBe(201);
    expect(inTime.body.referral.hit_id).toBe(hit.id);
    // With the default 90 days, the 8-day-old hit qualifies.
    expect((await confirm({ user_id: outside })).status).toBe(201);
  });
});

describe("the whole story through the worker", () => {
  it("a click, a login reported by the API, a confirmation; the link's stats count it", async () => {
    const referrer = uniqueUser("referrer");
    const link = await createLink(uniqueIdentifier(), { userId: referrer });
    const visit = await send(`/ref/${link.identifier}?next=/signup`);
    const anonymousId = cookiePair(visit, "reflinks_rk").split("=")[1];
    const user = uniqueUser();

    // Before login the hit has no user: nothing to confirm yet.
    expect((await confirm({ user_id: user })).status).toBe(404);
    const reconcile = await apiJson("/reconcile", {
      method: "POST",
      json: { user_id: user, anonymous_id: anonymousId },
    });
    expect(reconcile.body).toEqual({ updated: 1 });

    const answer = await confirm({ user_id: user });
    expect(answer.status).toBe(201);
    expect(answer.body.referral).toMatchObject({
      user_id: user,
      link: link.identifier,
      referrer_user_id: referrer,
    });
    const stats = await apiJson(`/links/${link.identifier}`);
    expect(stats.body.stats).toEqual({ hits: 1, unique_hits: 1, visitors: 1, users: 1, confirmed: 1 });
  });

  it("a login reported with Reflinks-User; clicks made after it, signed in, are not credited", async () => {
    const before = await createLink(uniqueIdentifier("before"), { userId: uniqueUser("referrer") });
    const after = await createLink(uniqueIdentifier("after"), { userId: uniqueUser("referrer") });
    const visit = await send(`/ref/${before.identifier}`);
    const anonymous = cookiePair(visit, "reflinks_rk");
    const user = uniqueUser();
    const login = await send(`/login-as?user=${user}`, { headers: { Cookie: anonymous } });
    expect(login.status).toBe(303);
    const identity = cookiePair(login, "reflinks_uid");
    await login.body?.cancel();

    // A later click, signed in: authenticated, so it does not qualify even though it is newer.
    await send(`/ref/${after.identifier}`, { headers: { Cookie: identity } });
    const [signedIn] = await db.select().from(referralHits).where(eq(referralHits.linkId, after.id));
    expect(signedIn).toMatchObject({ authenticated: true, hitUserId: user });

    const answer = await confirm({ user_id: user });
    expect(answer.status).toBe(201);
    expect(answer.body.referral.link).toBe(before.identifier);
  });
});

describe("exactly once under a race", () => {
  it("50 concurrent confirmations: one 201, 49 × 200, one referral, one hit marked", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser("racer");
    // Two qualifying hits, so that marking the wrong one or both would show.
    await seedHit(link.id, { hitUserId: user, createdAt: daysAgo(3) });
    const newest = await seedHit(link.id, { hitUserId: user, createdAt: daysAgo(1) });

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => confirm({ user_id: user, event: "signup" })),
    );

    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(49);
    const created = answers.filter((answer) => answer.body.created === true);
    expect(created).toHaveLength(1);
    const referral = created[0]?.body.referral;
    expect(referral).toMatchObject({ user_id: user, event: "signup", hit_id: newest.id });
    for (const answer of answers) {
      expect(answer.body.referral).toEqual(referral);
    }

    const rows = await referralsOf(user, "signup");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(referral.id);
    const marked = await db
      .select()
      .from(referralHits)
      .where(and(eq(referralHits.hitUserId, user), isNotNull(referralHits.confirmedAt)));
    expect(marked.map((hit) => hit.id)).toEqual([newest.id]);
  });

  it("concurrent confirmations of two events for one user: one credit each", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("referrer") });
    const user = uniqueUser("racer");
    await seedHit(link.id, { hitUserId: user });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => confirm({ user_id: user, event: i % 2 ? "signup" : "purchase" })),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(2);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(18);
    expect((await referralsOf(user)).map((row) => row.event).sort()).toEqual(["purchase", "signup"]);
  });
});
