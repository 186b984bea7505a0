/**
 * `/_reflinks/reports/links` and `/reports/daily` (docs/api.md) on the known dataset: the numbers
 * worked out by hand, and the same as the `link_stats` and `daily_hits` views. This file seeds only
 * the dataset, so whole answers can be compared with whole views.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { dailyReportQuery, inlineParams, linkReportQuery } from "../../src/db/queries/report-sql";
import { apiJson } from "../support/api";
import {
  DATASET_PERIOD,
  DATASET_SQL,
  EXPECTED_DAILY_ALL,
  EXPECTED_DAILY_VIEW,
  EXPECTED_LINKS,
  EXPECTED_LINKS_NARROW,
  NARROW_PERIOD,
} from "../support/report-dataset";

type Row = Record<string, unknown>;

beforeAll(async () => {
  await env.DB.batch(DATASET_SQL.map((statement) => env.DB.prepare(statement)));
});

async function view(sql: string): Promise<Row[]> {
  return (await env.DB.prepare(sql).all<Row>()).results;
}

async function rows(path: string): Promise<Row[]> {
  const answer = await apiJson<{ rows: Row[] }>(path);
  expect(answer.status, path).toBe(200);
  return answer.body.rows;
}

const query = (period: { from?: string; to?: string }) => new URLSearchParams(period).toString();

describe("GET /reports/links", () => {
  it("without a period: the link_stats view, row for row, most hits first", async () => {
    const answer = await apiJson("/reports/links");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(answer.body).toEqual({ rows: EXPECTED_LINKS });
    expect(answer.body.rows).toEqual(
      await view(
        "SELECT identifier, user_id, hits, unique_hits, visitors, users, confirmed FROM link_stats ORDER BY hits DESC, identifier",
      ),
    );
  });

  it("over a period holding every row: the same numbers as without one", async () => {
    expect(await rows(`/reports/links?${query(DATASET_PERIOD)}`)).toEqual(EXPECTED_LINKS);
    expect(await rows("/reports/links?from=0000-01-01&to=9999-12-31")).toEqual(EXPECTED_LINKS);
  });

  it("over a narrower period: hits and confirmations of those days only, every link still listed", async () => {
    expect(await rows(`/reports/links?${query(NARROW_PERIOD)}`)).toEqual(EXPECTED_LINKS_NARROW);
  });

  it("visitors over a period are distinct over the whole period, not the sum of the days' visitors", async () => {
    const [alpha] = (await rows(`/reports/links?${query(NARROW_PERIOD)}`)).filter(
      (row) => row.identifier === "rep-alpha",
    );
    const days = await rows(`/reports/daily?link=rep-alpha&${query(NARROW_PERIOD)}`);
    const sumOfDays = days.reduce((sum, day) => sum + Number(day.visitors), 0);
    expect(alpha?.visitors).toBe(4);
    expect(sumOfDays).toBe(5);
    // Hits and confirmations, on the other hand, add up.
    expect(days.reduce((sum, day) => sum + Number(day.hits), 0)).toBe(alpha?.hits);
    expect(days.reduce((sum, day) => sum + Number(day.confirmed), 0)).toBe(alpha?.confirmed);
  });

  it("days are whole UTC days: the first and last millisecond belong to them", async () => {
    // rep-alpha has hits at 2025-05-31T23:59:59.999Z, 2025-06-01T00:00:00.000Z and 2025-06-02T23:59:59.999Z.
    const alpha = async (period: { from?: string; to?: string }) =>
      (await rows(`/reports/links?${query(period)}`)).find((row) => row.identifier === "rep-alpha")?.hits;
    expect(await alpha({ from: "2025-05-31", to: "2025-05-31" })).toBe(1);
    expect(await alpha({ from: "2025-06-01", to: "2025-06-01" })).toBe(4);
    expect(await alpha({ from: "2025-06-02", to: "2025-06-02" })).toBe(2);
    expect(await alpha({ from: "2025-06-01" })).toBe(7);
    expect(await alpha({ to: "2025-06-01" })).toBe(5);
  });

  it("a period without activity: every link with zeros", async () => {
    const empty = await rows("/reports/links?from=2024-01-01&to=2024-01-31");
    expect(empty.map((row) => row.identifier)).toEqual(EXPECTED_LINKS.map((row) => row.identifier));
    for (const row of empty)
      expect(row).toMatchObject({ hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 });
  });

  it("the SQL `npm run report` runs (parameters inlined) answers the same rows", async () => {
    for (const period of [{}, DATASET_PERIOD, NARROW_PERIOD]) {
      const api = await rows(`/reports/links?${query(period)}`);
      expect(await view(inlineParams(linkReportQuery(period)))).toEqual(api);
    }
  });
});

describe("GET /reports/daily", () => {
  it("for a link: that link's rows of the daily_hits view, oldest first", async () => {
    const expected = EXPECTED_DAILY_VIEW.filter((row) => row.identifier === "rep-alpha").map(
      ({ identifier: _, ...row }) => row,
    );
    const answer = await apiJson("/reports/daily?link=rep-alpha");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(answer.body).toEqual({ rows: expected });
    expect(answer.body.rows).toEqual(
      await view(
        "SELECT day, hits, unique_hits, visitors, confirmed FROM daily_hits WHERE identifier = 'rep-alpha' ORDER BY day",
      ),
    );
  });

  it("the daily_hits view holds exactly the expected rows (a confirmation of a deleted link in none)", async () => {
    expect(
      await view(
        "SELECT day, identifier, hits, unique_hits, visitors, confirmed FROM daily_hits ORDER BY day, identifier",
      ),
    ).toEqual(EXPECTED_DAILY_VIEW);
  });

  it("for every link of the dataset, each day equals the view's row", async () => {
    for (const identifier of ["rep-alpha", "rep-beta", "rep-gamma", "rep-idle"]) {
      const fromView = await view(
        `SELECT day, hits, unique_hits, visitors, confirmed FROM daily_hits WHERE identifier = '${identifier}' ORDER BY day`,
      );
      expect(await rows(`/reports/daily?link=${identifier}`), identifier).toEqual(fromView);
    }
  });

  it("a link without hits: no rows", async () => {
    expect(await rows("/reports/daily?link=rep-idle")).toEqual([]);
  });

  it("across links: hits and confirmations are the view's sums, a visitor counts once a day", async () => {
    const all = await rows("/reports/daily");
    expect(all).toEqual(EXPECTED_DAILY_ALL);
    const sums = await view(
      "SELECT day, SUM(hits) AS hits, SUM(visitors) AS visitors, SUM(confirmed) AS confirmed FROM daily_hits GROUP BY day ORDER BY day",
    );
    expect(all.map(({ day, hits, confirmed }) => ({ day, hits, confirmed }))).toEqual(
      sums.map(({ day, hits, confirmed }) => ({ day, hits, confirmed })),
    );
    for (const [index, row] of all.entries()) {
      expect(Number(row.visitors)).toBeLessThanOrEqual(Number(sums[index]?.visitors));
    }
    // 2025-06-01: u1 hit rep-alpha and rep-beta; the view has 3 + 2 visitors that day, the report 4.
    expect(sums.find((row) => row.day === "2025-06-01")?.visitors).toBe(5);
  });

  it("over a period: only its days", async () => {
    const narrow = await rows(`/reports/daily?${query(NARROW_PERIOD)}`);
    expect(narrow).toEqual(
      EXPECTED_DAILY_ALL.filter((row) => row.day >= "2025-06-01" && row.day <= "2025-06-03"),
    );
    const alpha = await rows(`/reports/daily?link=rep-alpha&from=2025-06-03`);
    expect(alpha).toEqual([
      { day: "2025-06-03", hits: 0, unique_hits: 0, visitors: 0, confirmed: 1 },
      { day: "2025-06-10", hits: 1, unique_hits: 1, visitors: 1, confirmed: 0 },
      { day: "2025-06-11", hits: 0, unique_hits: 0, visitors: 0, confirmed: 1 },
    ]);
  });

  it("the shared SQL, parameters inlined, answers the same rows", async () => {
    const alphaId = (await view("SELECT id FROM referral_links WHERE identifier = 'rep-alpha'"))[0]
      ?.id as number;
    expect(await view(inlineParams(dailyReportQuery({ linkId: alphaId, ...NARROW_PERIOD })))).toEqual(
      await rows(`/reports/daily?link=rep-alpha&${query(NARROW_PERIOD)}`),
    );
  });
});
