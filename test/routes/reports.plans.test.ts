/**
 * The report queries use the indexes (`EXPLAIN QUERY PLAN`), so that a report over a million hits
 * reads index entries of the links and days it reports, not every row of `referral_hits`.
 *
 * Checked twice: on the schema as migrated (no statistics: what a fresh D1 plans with), and after
 * seeding hits of many links and days and running `ANALYZE` (what SQLite plans with once
 * `PRAGMA optimize` has gathered statistics). A bare `SCAN h` (the table) is never acceptable; a
 * `SCAN … USING COVERING INDEX` (every index entry, no row) only where the query asks for every hit.
 * Hits, unique hits and confirmations come from `link_daily_totals` (`t`), never from the rows.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  dailyReportQuery,
  linkReportQuery,
  type ReportQuery,
  totalsQuery,
} from "../../src/db/queries/report-sql";
import { recentHitsQuery } from "../../src/db/queries/reports";
import { db } from "../support/db";

const PERIOD = { from: "2025-06-01", to: "2025-06-30" };
const LINK_BY_TIME =
  "USING COVERING INDEX referral_hits_link_created_idx (link_id=? AND created_at>? AND created_at<?)";
const BY_TIME = "USING COVERING INDEX referral_hits_created_idx (created_at>? AND created_at<?)";

async function plan(query: ReportQuery): Promise<string[]> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
    .bind(...query.params)
    .all<{ detail: string }>();
  return results.map((row) => row.detail);
}

function recentPlan(options: { linkId?: number }): Promise<string[]> {
  const { sql, params } = recentHitsQuery(db, { ...PERIOD, ...options, limit: 21 }).toSQL();
  return plan({ sql, params: params as (string | number)[] });
}

/** A scan of a whole table, reading every row: what the indexes are there to avoid. */
const tableScan = (details: string[]) =>
  details.filter((d) => /^SCAN (h|c|referral_hits|confirmed_referrals)\b/.test(d) && !/INDEX/.test(d));

/** Every plan this file checks, by what it reports. */
const CHECKS: [string, () => Promise<string[]>, (details: string[]) => void][] = [
  [
    "link report over a period: each link's hits searched by link and time",
    () => plan(linkReportQuery({ ...PERIOD, limit: 25, offset: 0 })),
    (details) => {
      expect(details).toContain(`SEARCH h ${LINK_BY_TIME}`);
      // hits, unique hits and confirmations: the link's daily totals of the period, not its rows.
      expect(details.some((d) => /^SEARCH t USING .*\(link_id=\? AND day>\? AND day<\?\)/.test(d))).toBe(
        true,
      );
      expect(details.some((d) => /\bc\b/.test(d))).toBe(false);
    },
  ],
  [
    "link report without a period (link_stats): each link's index entries, no row read",
    () => plan(linkReportQuery({})),
    (details) => {
      expect(details).toContain("SEARCH h USING COVERING INDEX referral_hits_link_created_idx (link_id=?)");
    },
  ],
  [
    "one link's stats from link_stats (GET /links/:identifier): only that link's entries",
    () => plan({ sql: "SELECT * FROM link_stats WHERE identifier = ?1", params: ["x"] }),
    (details) => {
      expect(details).toContain("SEARCH l USING INDEX referral_links_identifier_unique (identifier=?)");
      expect(details.filter((d) => /\bh\b/.test(d)).every((d) => d.startsWith("SEARCH h"))).toBe(true);
    },
  ],
  [
    "daily report of a link over a period: searched by link and time",
    () => plan(dailyReportQuery({ linkId: 1, ...PERIOD })),
    (details) => expect(details).toContain(`SEARCH h ${LINK_BY_TIME}`),
  ],
  [
    "daily report across links over a period: searched by time",
    () => plan(dailyReportQuery(PERIOD)),
    (details) => expect(details).toContain(`SEARCH h ${BY_TIME}`),
  ],
  [
    "daily report across links, every day: the totals by day, each day's visitors searched by time",
    () => plan(dailyReportQuery({})),
    (details) => {
      expect(details.some((d) => /^SCAN t USING COVERING INDEX link_daily_totals_day_idx/.test(d))).toBe(
        true,
      );
      expect(details).toContain(`SEARCH h ${BY_TIME}`);
    },
  ],
  [
    "the daily_hits view: the totals, each row's visitors searched by link and time",
    () => plan({ sql: "SELECT * FROM daily_hits", params: [] }),
    (details) => expect(details).toContain(`SEARCH h ${LINK_BY_TIME}`),
  ],
  [
    "totals over a period: searched by time",
    () => plan(totalsQuery(PERIOD)),
    (details) => expect(details).toContain(`SEARCH h ${BY_TIME}`),
  ],
  [
    "totals of a link over a period: searched by link and time",
    () => plan(totalsQuery({ linkId: 1, ...PERIOD })),
    (details) => expect(details).toContain(`SEARCH h ${LINK_BY_TIME}`),
  ],
  [
    "recent hits across links: the time index, newest first",
    () => recentPlan({}),
    (details) =>
      expect(details).toContain(
        "SEARCH referral_hits USING INDEX referral_hits_created_idx (created_at>? AND created_at<?)",
      ),
  ],
  [
    "recent hits of a link: the link-and-time index",
    () => recentPlan({ linkId: 1 }),
    (details) =>
      expect(details).toContain(
        "SEARCH referral_hits USING INDEX referral_hits_link_created_idx (link_id=? AND created_at>? AND created_at<?)",
      ),
  ],
];

function checkAll() {
  for (const [name, explain, check] of CHECKS) {
    it(name, async () => {
      const details = await explain();
      expect(tableScan(details), details.join("\n")).toEqual([]);
      check(details);
    });
  }
}

describe("on the migrated schema, without statistics", () => {
  checkAll();
});

describe("with 6,000 hits of 40 links over 60 days, after ANALYZE", () => {
  beforeAll(async () => {
    await env.DB.exec(
      "INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at) " +
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) " +
        "SELECT 'plan-' || i, 'owner-' || (i % 7), 0, '2025-05-01T00:00:00.000Z', '2025-05-01T00:00:00.000Z' FROM n",
    );
    await env.DB.exec(
      "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, created_at, updated_at) " +
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000) " +
        "SELECT 'plan-hit-' || i, (SELECT id FROM referral_links WHERE identifier = 'plan-' || (1 + i % 40)), " +
        "'anon-' || (i % 900), 0, CASE WHEN i % 4 = 0 THEN 'user-' || (i % 300) END, " +
        "strftime('%Y-%m-%dT%H:%M:%fZ', '2025-05-15', '+' || (i * 864) || ' seconds'), " +
        "strftime('%Y-%m-%dT%H:%M:%fZ', '2025-05-15', '+' || (i * 864) || ' seconds') FROM n",
    );
    await env.DB.exec("ANALYZE");
    const stats = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM sqlite_stat1 WHERE tbl = 'referral_hits'",
    ).first<{
      n: number;
    }>();
    expect(stats?.n).toBeGreaterThan(0);
  });
  checkAll();
});
