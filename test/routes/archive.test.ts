/**
 * The archive (docs/scaling.md#the-archive): old days move to R2 as Parquet, read back and
 * recorded before their hits leave D1; a crash after any step is mended by the next run, with
 * nothing lost and nothing counted twice.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { type ArchiveStep, archiveKey, archiveOldDays } from "../../src/jobs/archive";
import { runScheduledJob } from "../../src/jobs/scheduled";
import { apiJson, seedHit } from "../support/api";
import { createLink } from "../support/db";
import { uniqueIdentifier } from "../support/worker";

const bindings = {
  ...env,
  ARCHIVE: env.TEST_ARCHIVE,
  ARCHIVE_AFTER_DAYS: "90",
  ATTRIBUTION_WINDOW_DAYS: "90",
};

/** Hits on two old days of `year` (one named by a referral) and one day no test's clock reaches. */
async function seed(year: number) {
  const link = await createLink(uniqueIdentifier("arch"));
  const day1 = `${year}-01-10`;
  const day2 = `${year}-01-11`;
  const at = (day: string, time: string) => `${day}T${time}.000Z`;
  const visitor = crypto.randomUUID();
  const hits = [
    await seedHit(link.id, { anonymousId: visitor, country: "FR", createdAt: at(day1, "08:00:00") }),
    await seedHit(link.id, { anonymousId: visitor, duplicate: true, createdAt: at(day1, "08:10:00") }),
    await seedHit(link.id, { hitUserId: "bob", createdAt: at(day2, "23:59:59"), authenticated: true }),
    await seedHit(link.id, {
      anonymousId: crypto.randomUUID(),
      consented: false,
      createdAt: at(day2, "00:00:00"),
    }),
  ];
  const confirmed = await seedHit(link.id, {
    hitUserId: `carol-${year}`,
    confirmedAt: at(day1, "12:00:00"),
    createdAt: at(day1, "09:00:00"),
  });
  await env.DB.prepare(
    "INSERT INTO confirmed_referrals (user_id, event, hit_id, link_id, referrer_user_id, created_at) VALUES (?1, 'signup', ?2, ?3, 'alice', ?4)",
  )
    .bind(`carol-${year}`, confirmed.id, link.id, at(day1, "12:00:00"))
    .run();
  const recent = await seedHit(link.id, {
    anonymousId: crypto.randomUUID(),
    createdAt: at("2099-06-01", "10:00:00"),
  });
  return { link, day1, day2, hits, confirmed, recent, clock: () => new Date(`${year}-06-02T03:00:00.000Z`) };
}

async function totals(linkId: number) {
  const { results } = await env.DB.prepare("SELECT * FROM link_daily_totals WHERE link_id = ?1 ORDER BY day")
    .bind(linkId)
    .all();
  return results;
}

async function idsInD1(linkId: number): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT id FROM referral_hits WHERE link_id = ?1 ORDER BY id")
    .bind(linkId)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

async function archivedRows(day: string) {
  const object = await env.TEST_ARCHIVE.get(archiveKey(day));
  if (!object) return [];
  return parquetReadObjects({ file: await object.arrayBuffer() });
}

/** What must hold once a run has finished: every hit in exactly one place, totals as before. */
async function expectArchived(s: Awaited<ReturnType<typeof seed>>, totalsBefore: unknown) {
  const archived = [...(await archivedRows(s.day1)), ...(await archivedRows(s.day2))].map((row) =>
    String(row.id),
  );
  expect(archived.sort()).toEqual(s.hits.map((h) => h.id).sort());
  expect(await idsInD1(s.link.id)).toEqual([s.confirmed.id, s.recent.id].sort());
  expect(await totals(s.link.id)).toEqual(totalsBefore);
  const { results } = await env.DB.prepare(
    "SELECT day, object, rows, sha256, deleted_at FROM archived_days WHERE day IN (?1, ?2) ORDER BY day",
  )
    .bind(s.day1, s.day2)
    .all<{ day: string; object: string; rows: number; sha256: string; deleted_at: string | null }>();
  expect(results.map(({ day, object, rows }) => ({ day, object, rows }))).toEqual([
    { day: s.day1, object: archiveKey(s.day1), rows: 2 },
    { day: s.day2, object: archiveKey(s.day2), rows: 2 },
  ]);
  for (const row of results) {
    expect(row.deleted_at).not.toBeNull();
    const object = await env.TEST_ARCHIVE.get(row.object);
    if (!object) throw new Error(`${row.object} is missing`);
    const bytes = await object.arrayBuffer();
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    expect(row.sha256).toBe(digest);
  }
}

describe("ARCHIVE_AFTER_DAYS", () => {
  it("moves each old day to R2 as Parquet without personal data, keeps confirmed hits, keeps the totals", async () => {
    const s = await seed(2001);
    const before = await totals(s.link.id);
    const ctx = createExecutionContext();
    await runScheduledJob(bindings, ctx, s.clock);
    await waitOnExecutionContext(ctx);
    await expectArchived(s, before);

    const rows = await archivedRows(s.day1);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(
      [
        "asn",
        "authenticated",
        "confirmed_at",
        "consented",
        "country",
        "created_at",
        "duplicate",
        "id",
        "link",
        "paid_click",
      ].sort(),
    );
    expect(rows.find((row) => row.id === s.hits[0]?.id)).toMatchObject({
      link: s.link.identifier,
      country: "FR",
      duplicate: false,
      consented: true,
      confirmed_at: null,
    });
    const first = rows.find((row) => row.id === s.hits[0]?.id);
    const createdAt = first?.created_at;
    expect(createdAt).toBeInstanceOf(Date);
    expect(createdAt instanceof Date ? createdAt.toISOString() : createdAt).toBe(s.hits[0]?.createdAt);

    // The reports keep the counts; distinct visitors over archived days are unknown, not guessed.
    const daily = await apiJson(`/reports/daily?link=${s.link.identifier}`);
    expect(daily.body.rows).toEqual([
      { day: s.day1, hits: 3, unique_hits: 2, visitors: null, confirmed: 1 },
      { day: s.day2, hits: 2, unique_hits: 2, visitors: null, confirmed: 0 },
      { day: "2099-06-01", hits: 1, unique_hits: 1, visitors: 1, confirmed: 0 },
    ]);
    const recent = await apiJson(`/reports/links?from=2099-06-01&to=2099-06-01`);
    expect(
      recent.body.rows.find((row: { identifier: string }) => row.identifier === s.link.identifier),
    ).toMatchObject({
      hits: 1,
      visitors: 1,
      users: 0,
    });

    // A second run finds nothing to do.
    expect(await archiveOldDays(bindings, s.clock)).toEqual({ days: 0, hits: 0, deleted: 0 });
  });

  it("does nothing when off (0), without a bucket, or for days not yet N days old", async () => {
    const s = await seed(2002);
    expect(await archiveOldDays({ ...bindings, ARCHIVE_AFTER_DAYS: "0" }, s.clock)).toEqual({
      days: 0,
      hits: 0,
      deleted: 0,
    });
    expect(await archiveOldDays({ ...bindings, ARCHIVE: undefined }, s.clock)).toEqual({
      days: 0,
      hits: 0,
      deleted: 0,
    });
    // On 2002-04-10 with N = 90, 2002-01-10 is the first day kept: only 2002-01-09 and earlier go.
    expect(await archiveOldDays(bindings, () => new Date("2002-04-10T12:00:00.000Z"))).toEqual({
      days: 0,
      hits: 0,
      deleted: 0,
    });
    expect(await archiveOldDays(bindings, () => new Date("2002-04-11T00:00:00.000Z"))).toMatchObject({
      days: 1,
      hits: 2,
    });
  });

  it("refuses a value below ATTRIBUTION_WINDOW_DAYS (an archived hit could no longer be confirmed)", async () => {
    await expect(archiveOldDays({ ...bindings, ARCHIVE_AFTER_DAYS: "30" }, () => new Date())).rejects.toThrow(
      /ARCHIVE_AFTER_DAYS/,
    );
  });

  const steps: ArchiveStep[] = ["written", "verified", "recorded", "deleted"];
  steps.forEach((step, i) => {
    it(`a crash after "${step}" is mended by the next run: nothing lost, nothing twice`, async () => {
      const s = await seed(2010 + i);
      const before = await totals(s.link.id);
      const crash = (at: ArchiveStep) => {
        if (at === step) throw new Error(`crash after ${at}`);
      };
      await expect(archiveOldDays(bindings, s.clock, { afterStep: crash })).rejects.toThrow(/crash/);
      // Between the crash and the rerun, no hit is in both places or in neither.
      const inD1 = new Set(await idsInD1(s.link.id));
      const recorded = await env.DB.prepare("SELECT day FROM archived_days WHERE day IN (?1, ?2)")
        .bind(s.day1, s.day2)
        .all<{ day: string }>();
      for (const h of s.hits) {
        const day = h.createdAt.slice(0, 10);
        const isRecorded = recorded.results.some((row) => row.day === day);
        expect(inD1.has(h.id) || isRecorded).toBe(true);
      }
      expect(await totals(s.link.id)).toEqual(before);

      await archiveOldDays(bindings, s.clock);
      await archiveOldDays(bindings, s.clock);
      await expectArchived(s, before);
    });
  });

  it("deletes a big day over several runs, within the per-run bound", async () => {
    const link = await createLink(uniqueIdentifier("big"));
    const day = "2020-02-02";
    await env.DB.prepare(
      "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, created_at, updated_at) " +
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) " +
        "SELECT lower(hex(randomblob(16))), ?1, NULL, 0, ?2 || 'T10:00:00.000Z', ?2 || 'T10:00:00.000Z' FROM n",
    )
      .bind(link.id, day)
      .run();
    const clock = () => new Date("2020-12-01T00:00:00.000Z");
    const limits = { days: 2, deletes: 120, readPage: 100 };
    expect(await archiveOldDays(bindings, clock, { limits })).toEqual({ days: 1, hits: 250, deleted: 120 });
    expect(await archiveOldDays(bindings, clock, { limits })).toEqual({ days: 0, hits: 0, deleted: 120 });
    expect(await archiveOldDays(bindings, clock, { limits })).toEqual({ days: 0, hits: 0, deleted: 10 });
    expect(await idsInD1(link.id)).toEqual([]);
    expect((await archivedRows(day)).length).toBe(250);
    const row = await env.DB.prepare("SELECT rows, deleted_at FROM archived_days WHERE day = ?1")
      .bind(day)
      .first();
    expect(row).toMatchObject({ rows: 250 });
    expect(row?.deleted_at).not.toBeNull();
  });
});
