/**
 * Click quality (docs/data.md#duplicates): a visitor's repeat hit on a link within DEDUPE_SECONDS
 * of their counted one is stored with duplicate = 1, decided inside the insert.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertHitSql, PARAMS_PER_HIT } from "../../src/db/queries/hits";
import type { HitDraft, QueuedHit } from "../../src/hits/save-hit";
import worker from "../../src/index";
import { apiJson } from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { cookieValue, identityCookieFor, seedHit } from "../support/privacy";
import { send, uniqueIdentifier } from "../support/worker";

const byTime = <T extends { createdAt: string }>(hits: T[]) =>
  [...hits].sort((a, b) => a.createdAt.localeCompare(b.createdAt));

describe("DEDUPE_SECONDS", () => {
  it("stores a repeat click by the same browser as a duplicate, and the reports count it once", async () => {
    const link = await createLink(uniqueIdentifier());
    const first = await send(`/ref/${link.identifier}`);
    const cookie = `reflinks_rk=${cookieValue(first, "reflinks_rk")}`;
    for (let i = 0; i < 4; i++) {
      const again = await send(`/ref/${link.identifier}?next=/pricing`, { headers: { Cookie: cookie } });
      expect(again.status).toBe(302);
      expect(again.headers.get("Location")).toBe("/pricing");
    }
    const hits = byTime(await hitsOf(link.id));
    expect(hits.map((hit) => hit.duplicate)).toEqual([false, true, true, true, true]);

    const { body: links } = await apiJson(`/reports/links?from=${hits[0]?.createdAt.slice(0, 10)}`);
    expect(
      links.rows.find((row: { identifier: string }) => row.identifier === link.identifier),
    ).toMatchObject({
      hits: 5,
      unique_hits: 1,
      visitors: 1,
    });
    const { body: daily } = await apiJson(`/reports/daily?link=${link.identifier}`);
    expect(daily.rows).toEqual([
      { day: hits[0]?.createdAt.slice(0, 10), hits: 5, unique_hits: 1, visitors: 1, confirmed: 0 },
    ]);
    const { body: got } = await apiJson(`/links/${link.identifier}`);
    expect(got.stats).toMatchObject({ hits: 5, unique_hits: 1 });
    const view = await env.DB.prepare("SELECT hits, unique_hits FROM link_stats WHERE identifier = ?")
      .bind(link.identifier)
      .first();
    expect(view).toEqual({ hits: 5, unique_hits: 1 });
  });

  it("counts the same browser again on another link, and another browser on the same link", async () => {
    const one = await createLink(uniqueIdentifier());
    const two = await createLink(uniqueIdentifier());
    const first = await send(`/ref/${one.identifier}`);
    const cookie = `reflinks_rk=${cookieValue(first, "reflinks_rk")}`;
    await send(`/ref/${two.identifier}`, { headers: { Cookie: cookie } });
    await send(`/pricing?ref=${one.identifier}`);
    expect((await hitsOf(one.id)).map((hit) => hit.duplicate)).toEqual([false, false]);
    expect((await hitsOf(two.id)).map((hit) => hit.duplicate)).toEqual([false]);
  });

  it("counts a click again once the window since the counted one has passed", async () => {
    const link = await createLink(uniqueIdentifier());
    const anonymousId = crypto.randomUUID();
    // Counted 2 hours ago, then a duplicate 30 minutes later: the window runs from the counted one.
    await seedHit(link.id, { anonymousId, createdAt: new Date(Date.now() - 7_200_000).toISOString() });
    await seedHit(link.id, { anonymousId, createdAt: new Date(Date.now() - 5_400_000).toISOString() }, 3600);
    await send(`/ref/${link.identifier}`, { headers: { Cookie: `reflinks_rk=${anonymousId}` } });
    await send(`/ref/${link.identifier}`, { headers: { Cookie: `reflinks_rk=${anonymousId}` } });
    const hits = byTime(await hitsOf(link.id));
    expect(hits.map((hit) => hit.duplicate)).toEqual([false, true, false, true]);
  });

  it("follows a signed-in visitor by user, whatever browser they click from", async () => {
    const link = await createLink(uniqueIdentifier());
    const user = `dedupe-user-${crypto.randomUUID()}`;
    const identity = await identityCookieFor(user);
    await send(`/ref/${link.identifier}`, { headers: { Cookie: identity } });
    await send(`/ref/${link.identifier}`, {
      headers: { Cookie: identity, "User-Agent": "Mozilla/5.0 (iPhone) Safari/605.1" },
    });
    const hits = byTime(await hitsOf(link.id));
    expect(hits.map((hit) => [hit.hitUserId, hit.duplicate])).toEqual([
      [user, false],
      [user, true],
    ]);
  });

  it("is off with DEDUPE_SECONDS=0: every click counts", async () => {
    const link = await createLink(uniqueIdentifier());
    const bindings = { DEDUPE_SECONDS: "0" };
    const first = await send(`/ref/${link.identifier}`, { bindings });
    const cookie = `reflinks_rk=${cookieValue(first, "reflinks_rk")}`;
    await send(`/ref/${link.identifier}`, { bindings, headers: { Cookie: cookie } });
    expect((await hitsOf(link.id)).map((hit) => hit.duplicate)).toEqual([false, false]);
  });

  it("uses a short window as configured", async () => {
    const link = await createLink(uniqueIdentifier());
    const anonymousId = crypto.randomUUID();
    await seedHit(link.id, { anonymousId, createdAt: new Date(Date.now() - 120_000).toISOString() });
    await send(`/ref/${link.identifier}`, {
      bindings: { DEDUPE_SECONDS: "60" },
      headers: { Cookie: `reflinks_rk=${anonymousId}` },
    });
    expect(byTime(await hitsOf(link.id)).map((hit) => hit.duplicate)).toEqual([false, false]);
  });

  it("decides duplicates in the queue consumer's batch too, among the batch and against stored hits", async () => {
    const link = await createLink(uniqueIdentifier());
    const anonymousId = crypto.randomUUID();
    const stored = await seedHit(link.id, {
      anonymousId,
      createdAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const otherBrowser = crypto.randomUUID();
    const draft = (browser: string, secondsAgo: number): QueuedHit => {
      const at = new Date(Date.now() - secondsAgo * 1000).toISOString();
      const hit: HitDraft = {
        id: crypto.randomUUID(),
        anonymousId: browser,
        next: "/",
        createdAt: at,
        updatedAt: at,
      };
      return { identifier: link.identifier, linkId: link.id, hit };
    };
    // Out of order, as a queue may deliver them: the other browser's older click is its counted one.
    const bodies = [
      draft(anonymousId, 30),
      draft(otherBrowser, 10),
      draft(otherBrowser, 20),
      draft(anonymousId, 5),
    ];
    const batch = createMessageBatch<QueuedHit>(
      "reflinks-hits",
      bodies.map((body, i) => ({ id: `dedupe-${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(4);
    const hits = byTime(await hitsOf(link.id));
    expect(hits.map((hit) => [hit.anonymousId === anonymousId ? "a" : "b", hit.duplicate])).toEqual([
      ["a", false],
      ["a", true],
      ["b", false],
      ["b", true],
      ["a", true],
    ]);
    expect(hits[0]?.id).toBe(stored.id);
  });

  it("looks the visitor up through an index, not a scan of referral_hits", async () => {
    for (const key of ["anonymous", "user"] as const) {
      const sql = insertHitSql(key)
        .replace(/^INSERT INTO referral_hits \([^)]*\) /, "")
        .replace(/ ON CONFLICT.*$/, "");
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...Array.from({ length: PARAMS_PER_HIT }, () => "x"))
        .all<{ detail: string }>();
      const plan = results.map((row) => row.detail).join("\n");
      expect(plan).toMatch(
        key === "anonymous"
          ? /SEARCH referral_hits USING (COVERING )?INDEX referral_hits_anonymous_id_idx/
          : /SEARCH referral_hits USING INDEX referral_hits_user_created_idx/,
      );
      expect(plan).not.toMatch(/SCAN referral_hits/);
    }
  });
});
