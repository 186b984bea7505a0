/**
 * `link_daily_totals` (docs/data.md#daily-totals): exact on every write path, whatever retries,
 * races within a batch or later deletions do. Each test compares the totals with a recount of
 * the hits and referrals in D1.
 */

import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NO_FRAUD_RULES } from "../../src/config";
import { insertHit, insertHits } from "../../src/db/queries/hits";
import { confirmReferral } from "../../src/db/queries/referrals";
import type { NewReferralHit } from "../../src/db/schema";
import { WrittenEvents } from "../../src/webhooks/outbox";
import { apiJson, seedHit, uniqueUser } from "../support/api";
import { createLink, db } from "../support/db";
import { uniqueIdentifier } from "../support/worker";

const RUNS = Math.min(Number(env.FC_RUNS ?? 0) || 40, 1000);

interface Totals {
  day: string;
  hits: number;
  unique_hits: number;
  confirmed: number;
}

async function totalsOf(linkId: number): Promise<Totals[]> {
  const { results } = await env.DB.prepare(
    "SELECT day, hits, unique_hits, confirmed FROM link_daily_totals WHERE link_id = ?1 ORDER BY day",
  )
    .bind(linkId)
    .all<Totals>();
  return results;
}

/** The same numbers counted from the rows themselves. */
async function recountOf(linkId: number): Promise<Totals[]> {
  const { results } = await env.DB.prepare(
    "SELECT day, SUM(hits) AS hits, SUM(unique_hits) AS unique_hits, SUM(confirmed) AS confirmed FROM (" +
      "SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS hits, SUM(duplicate = 0) AS unique_hits, 0 AS confirmed " +
      "FROM referral_hits WHERE link_id = ?1 GROUP BY 1 UNION ALL " +
      "SELECT substr(created_at, 1, 10), 0, 0, COUNT(*) FROM confirmed_referrals WHERE link_id = ?1 GROUP BY 1" +
      ") GROUP BY day ORDER BY day",
  )
    .bind(linkId)
    .all<Totals>();
  return results;
}

function hit(linkId: number, fields: Partial<NewReferralHit> = {}): NewReferralHit {
  const createdAt = fields.createdAt ?? new Date().toISOString();
  return {
    id: crypto.randomUUID(),
    linkId,
    anonymousId: crypto.randomUUID(),
    authenticated: false,
    hitUserId: null,
    next: "/",
    ...fields,
    createdAt,
    updatedAt: createdAt,
  };
}

describe("link_daily_totals", () => {
  it("counts a direct hit once, also when the same hit is written again (a retry)", async () => {
    const link = await createLink(uniqueIdentifier("totals"));
    const once = hit(link.id, { createdAt: "2026-03-04T10:00:00.000Z" });
    await insertHit(env.DB, once, 3600);
    await insertHit(env.DB, once, 3600);
    await insertHits(db, [once], 3600);
    expect(await totalsOf(link.id)).toEqual([{ day: "2026-03-04", hits: 1, unique_hits: 1, confirmed: 0 }]);
  });

  it("counts a duplicate in hits, not in unique_hits, on the day of its own created_at", async () => {
    const link = await createLink(uniqueIdentifier("totals"));
    const visitor = crypto.randomUUID();
    await insertHit(
      env.DB,
      hit(link.id, { anonymousId: visitor, createdAt: "2026-03-04T23:59:00.000Z" }),
      3600,
    );
    await insertHit(
      env.DB,
      hit(link.id, { anonymousId: visitor, createdAt: "2026-03-05T00:01:00.000Z" }),
      3600,
    );
    expect(await totalsOf(link.id)).toEqual([
      { day: "2026-03-04", hits: 1, unique_hits: 1, confirmed: 0 },
      { day: "2026-03-05", hits: 1, unique_hits: 0, confirmed: 0 },
    ]);
  });

  it("matches a recount from the hits after any mix of direct writes, queue batches and retries", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            visitor: fc.integer({ min: 0, max: 3 }),
            minute: fc.integer({ min: 0, max: 3 * 24 * 60 }),
            user: fc.boolean(),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.array(fc.tuple(fc.constantFrom("direct", "queue"), fc.nat(), fc.nat({ max: 4 })), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.constantFrom(0, 3600),
        async (specs, writes, dedupeSeconds) => {
          const link = await createLink(uniqueIdentifier("prop"));
          const visitors = [0, 1, 2, 3].map(() => crypto.randomUUID());
          const hits = specs.map((s) =>
            hit(link.id, {
              anonymousId: visitors[s.visitor],
              hitUserId: s.user ? `u-${visitors[s.visitor]}` : null,
              createdAt: new Date(Date.UTC(2026, 2, 4) + s.minute * 60_000).toISOString(),
            }),
          );
          // Each write picks hits from the list, so the same hit is often written more than once.
          for (const [path, start, length] of writes) {
            const chosen = Array.from(
              { length: length + 1 },
              (_, i) => hits[(start + i) % hits.length],
            ).filter((h): h is NewReferralHit => h !== undefined);
            if (path === "direct") for (const h of chosen) await insertHit(env.DB, h, dedupeSeconds);
            else await insertHits(db, chosen, dedupeSeconds);
          }
          expect(await totalsOf(link.id)).toEqual(await recountOf(link.id));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("counts a confirmation once on the day it was made, however often it is confirmed", async () => {
    const referrer = uniqueUser("referrer");
    const link = await createLink(uniqueIdentifier("totals"), { userId: referrer });
    const user = uniqueUser();
    await seedHit(link.id, {
      hitUserId: user,
      anonymousId: crypto.randomUUID(),
      createdAt: "2026-03-01T12:00:00.000Z",
    });
    const now = new Date("2026-03-03T08:00:00.000Z");
    for (let i = 0; i < 3; i++) {
      const answer = await confirmReferral(db, new WrittenEvents(), {
        userId: user,
        event: "signup",
        now,
        attribution: "last",
        windowDays: 90,
        rules: NO_FRAUD_RULES,
      });
      expect(answer?.created).toBe(i === 0);
    }
    expect(await totalsOf(link.id)).toEqual([
      { day: "2026-03-01", hits: 1, unique_hits: 1, confirmed: 0 },
      { day: "2026-03-03", hits: 0, unique_hits: 0, confirmed: 1 },
    ]);
    expect(await totalsOf(link.id)).toEqual(await recountOf(link.id));
  });

  it("is not changed by erasure (fields scrubbed, hits kept) and goes with its link", async () => {
    const link = await createLink(uniqueIdentifier("totals"));
    const user = uniqueUser();
    await seedHit(link.id, { hitUserId: user, anonymousId: crypto.randomUUID() });
    await seedHit(link.id, { hitUserId: user, anonymousId: crypto.randomUUID(), duplicate: true });
    const before = await totalsOf(link.id);
    expect(before).toHaveLength(1);
    const erased = await apiJson(`/users/${user}`, { method: "DELETE" });
    expect(erased.body).toEqual({ hits: 2 });
    expect(await totalsOf(link.id)).toEqual(before);

    const deleted = await apiJson(`/links/${link.identifier}`, { method: "DELETE" });
    expect(deleted.status).toBeLessThan(300);
    expect(await totalsOf(link.id)).toEqual([]);
  });
});
