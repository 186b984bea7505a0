/**
 * `npm run import:django` on dumps made by Django itself (Debian's) from django-reflinks' models
 * (test/fixtures/django-reflinks): into a fresh local D1, twice, compared with the numbers the
 * Django site had.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DumpError, dumpToSql } from "../../scripts/lib/django-dump.mjs";
import { WRANGLER, wranglerEnv } from "../../scripts/lib/wrangler.mjs";
import { djangoPython } from "../fixtures/django-site.ts";

const ENV = wranglerEnv({ CI: "true" });

type Row = Record<string, unknown>;
type DumpRecord = { model: string; pk: unknown; fields: Record<string, unknown> };

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: "utf8", env: ENV, maxBuffer: 16 * 1024 * 1024 });
  return { code: result.status, out: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

function query(persistDir: string, sql: string): Row[] {
  const { code, out, stdout } = run(process.execPath, [
    WRANGLER,
    ...["d1", "execute", "DB", "--local", "--persist-to", persistDir, "--json", "--command", sql],
  ]);
  expect(code, out).toBe(0);
  return JSON.parse(stdout.slice(stdout.search(/[[{]/))).at(-1).results;
}

const importDump = (file: string, ...args: string[]) =>
  run(process.execPath, ["scripts/import-django.mjs", file, ...args]);

/** Makes a dump with Django in a temporary directory: dump.json and report.json (the site's numbers). */
async function makeDump(dir: string, ...args: string[]) {
  const made = run(djangoPython(), ["test/fixtures/django-reflinks/make_dump.py", dir, ...args]);
  expect(made.code, made.out).toBe(0);
  return {
    file: path.join(dir, "dump.json"),
    records: JSON.parse(await readFile(path.join(dir, "dump.json"), "utf8")) as DumpRecord[],
    report: JSON.parse(await readFile(path.join(dir, "report.json"), "utf8")) as Record<
      string,
      { hits: number; confirmed: number }
    >,
  };
}

describe("npm run import:django", () => {
  let dir: string;
  let persistDir: string;
  let dump: Awaited<ReturnType<typeof makeDump>>;
  let firstRun: ReturnType<typeof run>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "reflinks-import-test-"));
    persistDir = path.join(dir, "d1");
    dump = await makeDump(dir, "--natural-foreign");
    const migrated = run(process.execPath, [
      WRANGLER,
      ...["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir],
    ]);
    expect(migrated.code, migrated.out).toBe(0);
    firstRun = importDump(dump.file, "--persist-to", persistDir);
  }, 240_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("imports every link, hit and confirmation, and says so", () => {
    expect(firstRun.code, firstRun.out).toBe(0);
    expect(firstRun.out).toMatch(/links\s+3 in the dump,\s+3 new/);
    expect(firstRun.out).toMatch(/hits\s+7 in the dump,\s+7 new/);
    expect(firstRun.out).toMatch(/confirmations\s+2 in the dump,\s+2 new/);
  });

  it("gives the same hits and confirmed referrals per link as the Django site had", () => {
    const rows = query(persistDir, "SELECT identifier, hits, confirmed FROM link_stats ORDER BY identifier");
    expect(
      Object.fromEntries(rows.map((r) => [r.identifier, { hits: r.hits, confirmed: r.confirmed }])),
    ).toEqual(dump.report);
  });

  it("keeps each hit's id, link, user, request details and timestamps", () => {
    const hits = query(
      persistDir,
      "SELECT h.*, l.identifier FROM referral_hits h JOIN referral_links l ON l.id = h.link_id ORDER BY h.id",
    );
    const byId = Object.fromEntries(hits.map((h) => [h.id, h]));
    for (const record of dump.records.filter((r) => r.model === "django_reflinks.referralhit")) {
      const hit = byId[String(record.pk)];
      expect(hit, String(record.pk)).toBeDefined();
      const f = record.fields;
      expect(hit?.authenticated).toBe(f.authenticated ? 1 : 0);
      expect(hit?.ip).toBe(f.ip);
      expect(hit?.user_agent).toBe(f.user_agent === "" ? null : f.user_agent);
      expect(hit?.http_referer).toBe(f.http_referer === "" ? null : f.http_referer);
      expect(hit?.next).toBe(f.next);
      expect(hit?.created_at).toBe(new Date(String(f.created)).toISOString());
    }
    // The natural keys (usernames) became the users' primary keys, as the login header sends them.
    expect(byId["00000000-0000-4000-8000-000000000002"]).toMatchObject({
      identifier: "alice-1",
      hit_user_id: "3",
      authenticated: 0,
      anonymous_id: "00000000-0000-4000-8000-000000000002",
      confirmed_at: "2026-10-02T12:00:00.000Z",
      created_at: "2026-10-01T11:30:00.500Z",
    });
    expect(byId["00000000-0000-4000-8000-000000000003"]).toMatchObject({
      hit_user_id: "2",
      anonymous_id: null,
    });
    // A ConfirmedReferral marks its hit confirmed at the confirmation's time.
    expect(byId["00000000-0000-4000-8000-000000000004"]?.confirmed_at).toBe("2026-10-05T15:00:00.000Z");
  });

  it("records each confirmation as a referral crediting the link's owner", () => {
    const referrals = query(
      persistDir,
      "SELECT c.user_id, c.event, c.hit_id, c.referrer_user_id, c.created_at, l.identifier FROM confirmed_referrals c JOIN referral_links l ON l.id = c.link_id ORDER BY c.user_id",
    );
    expect(referrals).toEqual([
      {
        user_id: "3",
        event: "signup",
        hit_id: "00000000-0000-4000-8000-000000000002",
        referrer_user_id: "1",
        created_at: "2026-10-02T12:00:00.000Z",
        identifier: "alice-1",
      },
      {
        user_id: "4",
        event: "signup",
        hit_id: "00000000-0000-4000-8000-000000000004",
        referrer_user_id: "2",
        created_at: "2026-10-05T15:00:00.000Z",
        identifier: "bob",
      },
    ]);
    const links = query(
      persistDir,
      "SELECT identifier, user_id, disabled, created_at FROM referral_links ORDER BY identifier",
    );
    expect(links).toEqual([
      { identifier: "alice-1", user_id: "1", disabled: 0, created_at: "2026-09-02T08:00:00.123Z" },
      { identifier: "bob", user_id: "2", disabled: 0, created_at: "2026-09-03T08:00:00.000Z" },
      { identifier: "old_promo", user_id: null, disabled: 1, created_at: "2026-09-04T08:00:00.000Z" },
    ]);
  });

  it("imports nothing twice: a second run, and a dump with plain user ids, add no row", async () => {
    const again = importDump(dump.file, "--persist-to", persistDir);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/hits\s+7 in the dump,\s+0 new/);
    const plainDir = path.join(dir, "plain");
    const plain = await makeDump(plainDir);
    expect(plain.records.find((r) => r.pk === "00000000-0000-4000-8000-000000000002")?.fields.hit_user).toBe(
      3,
    );
    const third = importDump(plain.file, "--persist-to", persistDir);
    expect(third.code, third.out).toBe(0);
    expect(third.out).toMatch(/links\s+3 in the dump,\s+0 new/);
    expect(third.out).toMatch(/confirmations\s+2 in the dump,\s+0 new/);
    expect(query(persistDir, "SELECT COUNT(*) AS n FROM referral_hits")).toEqual([{ n: 7 }]);
  }, 240_000);

  it("stops before writing anything, naming the record it cannot map", async () => {
    const bad = dump.records.map((r) =>
      r.model === "django_reflinks.referrallink" && r.pk === 3
        ? { ...r, fields: { ...r.fields, identifier: "old promo" } }
        : r,
    );
    const badFile = path.join(dir, "bad.json");
    await writeFile(badFile, JSON.stringify(bad));
    const result = importDump(badFile, "--persist-to", persistDir);
    expect(result.code).toBe(1);
    expect(result.out).toContain(
      'django_reflinks.referrallink pk=3: identifier "old promo" is not 1-50 of A-Z a-z 0-9 _ -',
    );
    expect(result.out).toContain("Nothing was imported");
  });
});

describe("the dump mapping", () => {
  const link = {
    model: "django_reflinks.referrallink",
    pk: 1,
    fields: {
      identifier: "a",
      user: 1,
      disabled: false,
      created: "2026-01-01T00:00:00Z",
      updated: "2026-01-01T00:00:00Z",
    },
  };
  const hit = (pk: string, fields: Record<string, unknown>) => ({
    model: "django_reflinks.referralhit",
    pk,
    fields: {
      referral_link: 1,
      authenticated: false,
      hit_user: null,
      ip: "192.0.2.1",
      user_agent: "",
      http_referer: "",
      next: "",
      confirmed: null,
      created: "2026-01-02T00:00:00",
      updated: "2026-01-02T00:00:00",
      ...fields,
    },
  });
  const uuid = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  const error = (dump: unknown) => {
    try {
      dumpToSql(dump);
    } catch (e) {
      expect(e).toBeInstanceOf(DumpError);
      return (e as Error).message;
    }
    throw new Error("no error");
  };

  it("names each record it cannot map", () => {
    expect(error({})).toMatch(/not a JSON array/);
    expect(error([link, hit("12", {})])).toBe(
      'django_reflinks.referralhit pk="12": the hit\'s id is not a UUID',
    );
    expect(error([link, hit(uuid(1), { referral_link: 9 })])).toMatch(
      /^django_reflinks.referralhit pk="[-0-9a-f]+": referral_link 9 is not a referrallink in the dump$/,
    );
    expect(error([link, hit(uuid(1), { confirmed: "2026-01-03T00:00:00Z" })])).toMatch(
      /confirmed, but no user is known/,
    );
    expect(error([link, hit(uuid(1), { hit_user: ["nobody"] })])).toMatch(
      /hit_user \["nobody"\] is not an auth.user in the dump/,
    );
    expect(error([link, hit(uuid(1), { created: "yesterday" })])).toMatch(
      /created "yesterday" is not a date/,
    );
    expect(error([{ model: "django_reflinks.campaign", pk: 1, fields: {} }])).toMatch(
      /unknown django_reflinks model/,
    );
    expect(
      error([
        link,
        hit(uuid(1), { hit_user: 5, confirmed: "2026-01-03T00:00:00Z" }),
        hit(uuid(2), { hit_user: 5, confirmed: "2026-01-04T00:00:00Z" }),
      ]),
    ).toMatch(
      /pk="[-0-9a-f]+2": user 5 already has a confirmed referral \(django_reflinks.referralhit pk="[-0-9a-f]+1"\)/,
    );
  });

  it("reads a naive time (USE_TZ = False) as UTC, takes --event, and ignores other models", () => {
    const { statements, counts } = dumpToSql(
      [
        link,
        hit(uuid(1), { hit_user: 5, confirmed: "2026-01-03T00:00:00.250" }),
        { model: "auth.group", pk: 1, fields: {} },
      ],
      { event: "purchase" },
    );
    expect(counts).toEqual({ links: 1, hits: 1, confirmations: 1 });
    expect(statements.join("\n")).toContain("'2026-01-02T00:00:00.000Z'");
    expect(statements.at(-1)).toContain("('5', 'purchase', '00000000-0000-4000-8000-000000000001'");
  });
});
