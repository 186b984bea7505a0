/**
 * Migrations 0012–0014 (fraud review) rebuild `conversions` to widen its status CHECK: a database
 * that holds a paid conversion with a clawback from before them keeps it all, views included.
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const before0012 = env.TEST_MIGRATIONS.filter((migration) => migration.name < "0012");
const HIT = "00000000-0000-4000-8000-000000000001";

describe("migrations 0012-0014 on a database migrated to 0011", () => {
  it("keeps conversions, reversals, payouts and the views; referrals become ok", async () => {
    const db = env.MIGRATION_TEST_DB;
    expect(before0012.at(-1)?.name).toBe("0011_friend_side.sql");
    await applyD1Migrations(db, before0012);
    const at = "2026-11-01T10:00:00.000Z";
    await db.batch([
      db.prepare(
        `INSERT INTO referral_links (id, identifier, user_id, disabled, created_at, updated_at) VALUES (1, 'old', 'alice', 0, '${at}', '${at}')`,
      ),
      db.prepare(
        "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, next, created_at, updated_at) " +
          `VALUES ('${HIT}', 1, NULL, 0, 'bob', '/', '${at}', '${at}')`,
      ),
      db.prepare(
        "INSERT INTO confirmed_referrals (id, user_id, event, hit_id, link_id, referrer_user_id, created_at) " +
          `VALUES (7, 'bob', 'signup', '${HIT}', 1, 'alice', '${at}')`,
      ),
      db.prepare(
        `INSERT INTO payouts (id, idempotency_key, referrer_user_id, currency, amount, created_at) VALUES (3, 'k', 'alice', 'EUR', 100, '${at}')`,
      ),
      db.prepare(
        "INSERT INTO conversions (id, external_id, referral_id, user_id, referrer_user_id, link_id, amount, currency, commission, commission_rule, status, approve_at, reversed_amount, payout_id, created_at, updated_at) " +
          `VALUES (5, 'inv-1', 7, 'bob', 'alice', 1, 1000, 'EUR', 50, 'percent:10', 'paid', '${at}', 500, 3, '${at}', '${at}')`,
      ),
      db.prepare(
        "INSERT INTO reversals (id, conversion_id, reversal_id, amount, commission_delta, clawback, payout_id, created_at) " +
          `VALUES (9, 5, 'ref-1', 500, -50, 1, NULL, '${at}')`,
      ),
    ]);

    await applyD1Migrations(db, env.TEST_MIGRATIONS);

    expect(await db.prepare("SELECT id, conversion_id, clawback FROM reversals").all()).toMatchObject({
      results: [{ id: 9, conversion_id: 5, clawback: 1 }],
    });
    expect(await db.prepare("SELECT id, status, payout_id FROM conversions").all()).toMatchObject({
      results: [{ id: 5, status: "paid", payout_id: 3 }],
    });
    expect(await db.prepare("SELECT status, flags, source FROM confirmed_referrals").all()).toMatchObject({
      results: [{ status: "ok", flags: "[]", source: "link" }],
    });
    expect(await db.prepare("SELECT paid, reversed FROM referrer_earnings").first()).toEqual({
      paid: 100,
      reversed: 50,
    });
    expect(await db.prepare("SELECT revenue FROM link_revenue").first()).toEqual({ revenue: 500 });
    // The rebuilt table keeps its foreign keys: a reversal of no conversion is refused.
    await expect(
      db
        .prepare(
          `INSERT INTO reversals (conversion_id, reversal_id, amount, commission_delta, created_at) VALUES (99, 'x', 1, 0, '${at}')`,
        )
        .run(),
    ).rejects.toThrow(/FOREIGN KEY/);
  });
});
