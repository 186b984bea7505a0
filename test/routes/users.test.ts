/**
 * `GET /users/:id/export` and `DELETE /users/:id` (docs/api.md#users, docs/privacy.md#data-access-requests-and-erasure):
 * a data-access request answered with everything stored, and erasure that keeps the money.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1Statement, hitCreatedEvents } from "../../src/webhooks/outbox";
import { apiJson, daysAgo, hitById, seedHit, uniqueUser } from "../support/api";
import { createLink } from "../support/db";
import { converted, DUE_AT_ONCE, pay, referredUser } from "../support/money";
import { cookieValue } from "../support/privacy";
import { createWebhook, receiver } from "../support/webhooks";
import { send, uniqueIdentifier } from "../support/worker";

const PERSONAL = {
  ip: "203.0.113.7",
  userAgent: "Mozilla/5.0 (personal)",
  httpReferer: "https://mail.example/inbox",
};

/** A referrer paid once, whose referred buyer clicked from a browser, logged in, and clicked more. */
async function story() {
  const { user: buyer, referrer, link } = await referredUser();
  const browser = crypto.randomUUID();
  // Before login, from the same browser: a hit the login did not reconcile (made after it).
  const stray = await seedHit(link.id, { anonymousId: browser, createdAt: daysAgo(0.5), ...PERSONAL });
  const own = await seedHit(link.id, {
    hitUserId: buyer,
    anonymousId: browser,
    createdAt: daysAgo(2),
    ...PERSONAL,
  });
  // Another visitor's hit on the referrer's link, and another user's hit from the buyer's browser.
  const stranger = await seedHit(link.id, {
    anonymousId: crypto.randomUUID(),
    createdAt: daysAgo(1),
    ...PERSONAL,
  });
  const sibling = uniqueUser("sibling");
  const shared = await seedHit(link.id, {
    hitUserId: sibling,
    anonymousId: browser,
    createdAt: daysAgo(3),
    ...PERSONAL,
  });
  await env.DB.prepare(
    "INSERT INTO reflinks_users (user_id, first_seen_at, last_seen_at) VALUES (?1, ?2, ?2)",
  )
    .bind(buyer, daysAgo(0.2))
    .run();
  const conversion = await converted(buyer, 2500, { bindings: DUE_AT_ONCE });
  return { buyer, referrer, link, browser, stray, own, stranger, shared, conversion };
}

describe("GET /users/:user_id/export", () => {
  it("answers everything stored about the referred user: login, own hits, referral, conversions", async () => {
    const s = await story();
    const { status, body } = await apiJson(`/users/${s.buyer}/export`);
    expect(status).toBe(200);
    expect(body.user_id).toBe(s.buyer);
    expect(body.user).toEqual({ first_seen_at: expect.any(String), last_seen_at: expect.any(String) });
    const hitIds = body.hits.map((hit: { id: string }) => hit.id);
    // Their hits: the one naming them, the seeded referral click, and the stray one from their browser.
    expect(hitIds).toContain(s.own.id);
    expect(hitIds).toContain(s.stray.id);
    expect(hitIds).not.toContain(s.stranger.id);
    expect(hitIds).not.toContain(s.shared.id);
    expect(body.hits.find((hit: { id: string }) => hit.id === s.own.id)).toMatchObject({
      link: s.link.identifier,
      ip: PERSONAL.ip,
      user_agent: PERSONAL.userAgent,
      http_referer: PERSONAL.httpReferer,
      anonymous_id: s.browser,
    });
    expect(body.referrals.as_referred).toEqual([
      expect.objectContaining({ user_id: s.buyer, referrer_user_id: s.referrer, link: s.link.identifier }),
    ]);
    expect(body.referrals.as_referrer).toEqual([]);
    expect(body.conversions.as_referred).toEqual([
      expect.objectContaining({ id: s.conversion.id, amount: 2500 }),
    ]);
    expect(body.conversions.as_referrer).toEqual([]);
    expect(body.payouts).toEqual([]);
    expect(body.links).toEqual([]);
  });

  it("answers the referrer's links, referrals as referrer, commissions and payouts", async () => {
    const s = await story();
    const paid = await pay(s.referrer, "EUR");
    expect(paid.status).toBe(201);
    const { body } = await apiJson(`/users/${s.referrer}/export`);
    expect(body.user).toBeNull();
    expect(body.links.map((link: { identifier: string }) => link.identifier)).toEqual([s.link.identifier]);
    expect(body.referrals.as_referrer).toEqual([expect.objectContaining({ user_id: s.buyer })]);
    expect(body.conversions.as_referrer).toEqual([
      expect.objectContaining({ id: s.conversion.id, status: "paid" }),
    ]);
    expect(body.payouts).toEqual([expect.objectContaining({ id: paid.body.payout.id })]);
    expect(body.hits).toEqual([]);
  });

  it("answers a user never seen with empty lists", async () => {
    const { status, body } = await apiJson(`/users/${uniqueUser("nobody")}/export`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ user: null, links: [], hits: [], payouts: [] });
  });
});

describe("DELETE /users/:user_id", () => {
  it("scrubs the user's own hits and login record, keeps the money, leaves others' hits alone", async () => {
    const s = await story();
    const { status, body } = await apiJson(`/users/${s.buyer}`, { method: "DELETE" });
    expect(status).toBe(200);
    // Their seeded referral click, their own hit, and the stray hit from their browser.
    expect(body).toEqual({ hits: 3 });

    for (const id of [s.own.id, s.stray.id]) {
      expect(await hitById(id)).toMatchObject({
        ip: null,
        userAgent: null,
        httpReferer: null,
        anonymousId: null,
      });
    }
    // The hit still counts, still names its user (the origin's id), and still backs the referral.
    expect(await hitById(s.own.id)).toMatchObject({ hitUserId: s.buyer, linkId: s.link.id });
    // Another visitor's hit on the referrer's link is untouched.
    expect(await hitById(s.stranger.id)).toMatchObject({ ...PERSONAL, anonymousId: s.stranger.anonymousId });
    // Another user's hit from the same browser loses only the browser's id, which pointed at the buyer.
    expect(await hitById(s.shared.id)).toMatchObject({
      ...PERSONAL,
      anonymousId: null,
      hitUserId: expect.any(String),
    });

    const seen = await env.DB.prepare("SELECT 1 FROM reflinks_users WHERE user_id = ?").bind(s.buyer).first();
    expect(seen).toBeNull();
    const exported = await apiJson(`/users/${s.buyer}/export`);
    expect(exported.body.user).toBeNull();
    expect(exported.body.referrals.as_referred).toHaveLength(1);
    expect(exported.body.conversions.as_referred).toEqual([expect.objectContaining({ id: s.conversion.id })]);
    for (const hit of exported.body.hits) {
      expect(hit).toMatchObject({ ip: null, user_agent: null, http_referer: null, anonymous_id: null });
    }
    // The referrer's earnings are what they were.
    const earnings = await apiJson(`/users/${s.referrer}`);
    expect(earnings.body.earnings).toEqual([expect.objectContaining({ currency: "EUR", approved: 250 })]);
  });

  it("deletes the hit.created events of the hits it scrubs, sent or not, with their delivery log", async () => {
    const s = await story();
    const webhook = await createWebhook(receiver("ok").url, ["hit.created"]);
    try {
      const hitIds = [s.own.id, s.stray.id, s.shared.id, s.stranger.id];
      // Written as a click's batch writes them (the outbox statement), then one marked delivered
      // with an attempt in the log.
      await d1Statement(env.DB, hitCreatedEvents(hitIds, new Date().toISOString())).run();
      const eventOf = (hitId: string) => `msg_${webhook.id.slice(3)}_hit.created_${hitId}`;
      await env.DB.prepare("UPDATE webhook_events SET status = 'delivered' WHERE id = ?1")
        .bind(eventOf(s.own.id))
        .run();
      await env.DB.prepare(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status_code, error, duration_ms, created_at) " +
          "VALUES (?1, ?2, 1, 200, NULL, 5, ?3)",
      )
        .bind(webhook.id, eventOf(s.own.id), new Date().toISOString())
        .run();
      const eventIds = async () =>
        (
          await env.DB.prepare(
            "SELECT json_extract(payload, '$.data.id') AS hit FROM webhook_events WHERE webhook_id = ?1 ORDER BY hit",
          )
            .bind(webhook.id)
            .all<{ hit: string }>()
        ).results.map((row) => row.hit);
      expect(await eventIds()).toEqual([...hitIds].sort());

      expect((await apiJson(`/users/${s.buyer}`, { method: "DELETE" })).body).toEqual({ hits: 3 });
      // The buyer's own hits and the sibling's hit from their browser: their copies are gone; the
      // stranger's event is another visitor's and stays.
      expect(await eventIds()).toEqual([s.stranger.id]);
      const log = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?1")
        .bind(webhook.id)
        .first<{ n: number }>();
      expect(log?.n).toBe(0);
    } finally {
      await apiJson(`/webhooks/${webhook.id}`, { method: "DELETE" });
    }
  });

  it("answers {hits: 0} on a repeat, and for a user never seen", async () => {
    const s = await story();
    expect((await apiJson(`/users/${s.buyer}`, { method: "DELETE" })).body).toEqual({ hits: 3 });
    expect((await apiJson(`/users/${s.buyer}`, { method: "DELETE" })).body).toEqual({ hits: 0 });
    expect((await apiJson(`/users/${uniqueUser("nobody")}`, { method: "DELETE" })).body).toEqual({ hits: 0 });
  });

  it("erases the anonymous id of hits reconciled by a real login, and the cookie no longer finds them", async () => {
    const link = await createLink(uniqueIdentifier(), { userId: uniqueUser("owner") });
    const click = await send(`/ref/${link.identifier}`, { headers: { "CF-Connecting-IP": "198.51.100.4" } });
    const anonymousId = cookieValue(click, "reflinks_rk") ?? "";
    const user = uniqueUser("real");
    const login = await send(`/login-as?user=${user}`, { headers: { Cookie: `reflinks_rk=${anonymousId}` } });
    expect(login.status).toBe(303);
    const erased = await apiJson(`/users/${user}`, { method: "DELETE" });
    expect(erased.body).toEqual({ hits: 1 });
    const left = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM referral_hits WHERE anonymous_id = ? OR ip = ?",
    )
      .bind(anonymousId, "198.51.100.4")
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("GET /users/:user_id", () => {
  it("answers every link the user owns, past 200, each with its own numbers", async () => {
    const owner = uniqueUser("many-links");
    const prefix = uniqueIdentifier("many");
    const now = new Date().toISOString();
    // 230 links in one statement, in creation order.
    await env.DB.prepare(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 230) " +
        "INSERT INTO referral_links (identifier, user_id, disabled, commission, created_at, updated_at) " +
        "SELECT ?1 || '-' || printf('%03d', i), ?2, 0, NULL, ?3, ?3 FROM n",
    )
      .bind(prefix, owner, now)
      .run();
    const [first] = await env.DB.prepare("SELECT id FROM referral_links WHERE identifier = ?1")
      .bind(`${prefix}-001`)
      .all<{ id: number }>()
      .then((result) => result.results);
    const [last] = await env.DB.prepare("SELECT id FROM referral_links WHERE identifier = ?1")
      .bind(`${prefix}-230`)
      .all<{ id: number }>()
      .then((result) => result.results);
    await seedHit(first?.id ?? 0, { anonymousId: crypto.randomUUID(), createdAt: daysAgo(1) });
    for (let i = 0; i < 2; i++) {
      await seedHit(last?.id ?? 0, { anonymousId: crypto.randomUUID(), createdAt: daysAgo(1) });
    }

    const { status, body } = await apiJson(`/users/${owner}`);
    expect(status).toBe(200);
    expect(body.links).toHaveLength(230);
    expect(body.links.map((link: { identifier: string }) => link.identifier)).toEqual(
      Array.from({ length: 230 }, (_, i) => `${prefix}-${String(i + 1).padStart(3, "0")}`),
    );
    expect(body.links[0].stats).toEqual({ hits: 1, unique_hits: 1, visitors: 1, users: 0, confirmed: 0 });
    expect(body.links[229].stats).toEqual({ hits: 2, unique_hits: 2, visitors: 2, users: 0, confirmed: 0 });
    expect(body.links[100].stats).toEqual({ hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 });
  });

  it("reads the owner's links' numbers through the owner index, not every link", async () => {
    const { results } = await env.DB.prepare(
      "EXPLAIN QUERY PLAN SELECT identifier, hits FROM link_stats WHERE user_id = ?1",
    )
      .bind("someone")
      .all<{ detail: string }>();
    const plan = results.map((row) => row.detail).join("\n");
    expect(plan).toMatch(/SEARCH l USING (COVERING )?INDEX referral_links_user_id_idx \(user_id=\?\)/);
    expect(plan).not.toMatch(/SCAN l\b/);
  });
});
