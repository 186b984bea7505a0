/**
 * Migration 0004 (privacy and webhooks) rebuilds referral_hits: a database that holds hits, a
 * confirmed referral and a conversion from before it keeps them all, upgraded.
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const before0004 = env.TEST_MIGRATIONS.filter((migration) => migration.name < "0004");
const HIT = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

describe("migration 0004 on a database migrated to 0003", () => {
  it("keeps every hit, the referral's hit_id and the conversion; empty user agents become null", async () => {
    const db = env.MIGRATION_TEST_DB;
    expect(before0004.map((migration) => migration.name)).toEqual([
      "0000_init.sql",
      "0001_reports.sql",
      "0002_users.sql",
      "0003_money.sql",
    ]);
    await applyD1Migrations(db, before0004);
    const at = "2026-11-01T10:00:00.000Z";
    await db.batch([
      db.prepare(
        `INSERT INTO referral_links (id, identifier, user_id, disabled, created_at, updated_at) VALUES (1, 'old', 'alice', 0, '${at}', '${at}')`,
      ),
      db.prepare(
        "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, ip, user_agent, http_referer, next, country, confirmed_at, created_at, updated_at) VALUES " +
          `('${HIT(1)}', 1, 'a1a1a1a1-0000-4000-8000-000000000001', 0, 'bob', '203.0.113.1', 'Mozilla/5.0', 'https://news.example/', '/pricing', 'FR', '${at}', '${at}', '${at}'), ` +
          `('${HIT(2)}', 1, 'a1a1a1a1-0000-4000-8000-000000000002', 0, NULL, NULL, '', '', '/', NULL, NULL, '${at}', '${at}')`,
      ),
      db.prepare(
        "INSERT INTO confirmed_referrals (id, user_id, event, hit_id, link_id, referrer_user_id, created_at) " +
          `VALUES (7, 'bob', 'signup', '${HIT(1)}', 1, 'alice', '${at}')`,
      ),
    ]);
    await db
      .prepare(
        "INSERT INTO conversions (external_id, referral_id, user_id, referrer_user_id, link_id, amount, currency, commission, commission_rule, status, approve_at, reversed_amount, created_at, updated_at) " +
          `VALUES ('inv-1', 7, 'bob', 'alice', 1, 1000, 'EUR', 100, 'percent:10', 'pending', '${at}', 0, '${at}', '${at}')`,
      )
      .run();

    await applyD1Migrations(db, env.TEST_MIGRATIONS);

    const { results: hits } = await db
      .prepare(
        "SELECT id, anonymous_id, hit_user_id, ip, user_agent, http_referer, next, country, confirmed_at, duplicate, consented FROM referral_hits ORDER BY id",
      )
      .all();
    expect(hits).toEqual([
      {
        id: HIT(1),
        anonymous_id: "a1a1a1a1-0000-4000-8000-000000000001",
        hit_user_id: "bob",
        ip: "203.0.113.1",
        user_agent: "Mozilla/5.0",
        http_referer: "https://news.example/",
        next: "/pricing",
        country: "FR",
        confirmed_at: at,
        duplicate: 0,
        consented: 1,
      },
      {
        id: HIT(2),
        anonymous_id: "a1a1a1a1-0000-4000-8000-000000000002",
        hit_user_id: null,
        ip: null,
        user_agent: null,
        http_referer: null,
        next: "/",
        country: null,
        confirmed_at: null,
        duplicate: 0,
        consented: 1,
      },
    ]);
    expect(await db.prepare("SELECT id, hit_id FROM confirmed_referrals").all()).toMatchObject({
      results: [{ id: 7, hit_id: HIT(1) }],
    });
    expect(await db.prepare("SELECT external_id, referral_id FROM conversions").all()).toMatchObject({
      results: [{ external_id: "inv-1", referral_id: 7 }],
    });
    expect(
      await db.prepare("SELECT identifier, hits, unique_hits, visitors, confirmed FROM link_stats").first(),
    ).toEqual({ identifier: "old", hits: 2, unique_hits: 2, visitors: 2, confirmed: 1 });
    // Nothing of the scaffolding is left behind.
    const leftovers = await db
      .prepare("SELECT name FROM sqlite_master WHERE name LIKE '\\_\\_%' ESCAPE '\\'")
      .all<{ name: string }>();
    expect(leftovers.results).toEqual([]);
  });
});
