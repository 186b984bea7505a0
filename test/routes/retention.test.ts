/**
 * RETENTION_DAYS (docs/privacy.md#retention): the scheduled job erases old hits' personal fields,
 * in bounded batches, idempotently.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { eraseOldHits } from "../../src/jobs/retention";
import { daysAgo, hitById, seedHit } from "../support/api";
import { createLink } from "../support/db";
import { uniqueIdentifier } from "../support/worker";

const PERSONAL = {
  ip: "203.0.113.7",
  userAgent: "Mozilla/5.0 (kept?)",
  httpReferer: "https://news.example/",
};

/** One run of the worker's own scheduled handler, as the Cron Trigger makes it. */
async function runJob(bindings: Partial<Env> = {}) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
}

describe("RETENTION_DAYS", () => {
  it("erases ip, user agent and referer of hits older than the limit, and nothing else", async () => {
    const link = await createLink(uniqueIdentifier());
    const old = await seedHit(link.id, {
      ...PERSONAL,
      anonymousId: crypto.randomUUID(),
      country: "FR",
      createdAt: daysAgo(31),
    });
    const recent = await seedHit(link.id, { ...PERSONAL, createdAt: daysAgo(29) });
    await runJob({ RETENTION_DAYS: "30" });
    expect(await hitById(old.id)).toMatchObject({
      ip: null,
      userAgent: null,
      httpReferer: null,
      // Kept: what counts the hit and ties it to its browser, and the country.
      anonymousId: old.anonymousId,
      country: "FR",
      linkId: link.id,
      createdAt: old.createdAt,
    });
    expect(await hitById(recent.id)).toMatchObject(PERSONAL);
  });

  it("keeps everything with RETENTION_DAYS=0 (the default)", async () => {
    const link = await createLink(uniqueIdentifier());
    const ancient = await seedHit(link.id, { ...PERSONAL, createdAt: daysAgo(3000) });
    await runJob();
    await runJob({ RETENTION_DAYS: "0" });
    expect(await hitById(ancient.id)).toMatchObject(PERSONAL);
  });

  it("works through a backlog in bounded batches, oldest first, over several runs, then does nothing", async () => {
    const link = await createLink(uniqueIdentifier());
    const cutoff = daysAgo(4000);
    // 25 hits older than a cutoff no other test's hits are older than.
    const seeded = [];
    for (let i = 0; i < 25; i++)
      seeded.push(await seedHit(link.id, { ...PERSONAL, createdAt: daysAgo(5000 + i) }));
    const now = new Date().toISOString();
    const limits = { rows: 10, batches: 2 };
    expect(await eraseOldHits(env.DB, cutoff, now, limits)).toEqual({ erased: 20, batches: 2 });
    const { results: left } = await env.DB.prepare(
      "SELECT id FROM referral_hits WHERE link_id = ? AND ip IS NOT NULL ORDER BY created_at",
    )
      .bind(link.id)
      .all<{ id: string }>();
    // Oldest first: the five left are the newest five of the 25.
    const newestFive = seeded.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).slice(20);
    expect(left.map((row) => row.id)).toEqual(newestFive.map((hit) => hit.id));
    expect(await eraseOldHits(env.DB, cutoff, now, limits)).toEqual({ erased: 5, batches: 1 });
    expect(await eraseOldHits(env.DB, cutoff, now, limits)).toEqual({ erased: 0, batches: 1 });
  });

  it("finds its rows through the partial index, never a scan of referral_hits", async () => {
    const { results } = await env.DB.prepare(
      "EXPLAIN QUERY PLAN SELECT id FROM referral_hits INDEXED BY referral_hits_personal_idx WHERE created_at < ?1 " +
        "AND (ip IS NOT NULL OR user_agent IS NOT NULL OR http_referer IS NOT NULL) ORDER BY created_at LIMIT ?2",
    )
      .bind(daysAgo(30), 10)
      .all<{ detail: string }>();
    const plan = results.map((row) => row.detail).join("\n");
    expect(plan).toMatch(/SEARCH referral_hits USING INDEX referral_hits_personal_idx \(created_at<\?\)/);
    expect(plan).not.toMatch(/SCAN referral_hits|TEMP B-TREE/);
  });
});
