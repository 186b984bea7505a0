/**
 * `GET /_reflinks/dashboard` on the known dataset: the totals, the links table, the chart and the
 * recent hits show the numbers of the reports API and the views.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { apiJson } from "../support/api";
import { count, linkRows, openDashboard, select, texts } from "../support/dashboard";
import {
  DATASET_PERIOD,
  DATASET_SQL,
  EXPECTED_DAILY_ALL,
  EXPECTED_LINKS,
  EXPECTED_LINKS_NARROW,
  EXPECTED_TOTALS,
  EXPECTED_TOTALS_NARROW,
  NARROW_PERIOD,
} from "../support/report-dataset";

beforeAll(async () => {
  await env.DB.batch(DATASET_SQL.map((statement) => env.DB.prepare(statement)));
});

const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** The numbers of link rows but unique hits, which are checked against the view on their own. */
const withoutUnique = (rows: Record<string, unknown>[]) =>
  rows.map(({ unique_hits: _, user_id: __, ...numbers }) => numbers);

/** `unique_hits` per link, as the `link_stats` view counts them. */
async function uniqueHitsOfView(): Promise<Record<string, number>> {
  const { results } = await env.DB.prepare("SELECT identifier, unique_hits FROM link_stats").all<{
    identifier: string;
    unique_hits: number;
  }>();
  return Object.fromEntries(results.map((row) => [row.identifier, row.unique_hits]));
}

async function page(search: string): Promise<string> {
  const response = await openDashboard(search);
  const html = await response.text();
  expect(response.status, html).toBe(200);
  return html;
}

async function totals(html: string) {
  const cards = await select(html, "[data-total]");
  return Object.fromEntries(cards.map((card) => [card.attributes["data-total"], card.text.trim()]));
}

describe("over the dataset's period", () => {
  it("is an HTML page, not cached, with the totals of the period", async () => {
    const response = await openDashboard(query(DATASET_PERIOD));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html; charset=UTF-8/i);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const html = await response.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    const unique = Object.values(await uniqueHitsOfView()).reduce((sum, n) => sum + n, 0);
    expect(await totals(html)).toEqual({
      hits: String(EXPECTED_TOTALS.hits),
      unique_hits: String(unique),
      visitors: String(EXPECTED_TOTALS.visitors),
      confirmed: String(EXPECTED_TOTALS.confirmed),
      conversion: "42.9%",
    });
  });

  it("lists every link with the numbers of link_stats and of /reports/links, most hits first", async () => {
    const html = await page(query(DATASET_PERIOD));
    const expected = withoutUnique(EXPECTED_LINKS);
    const rows = await linkRows(html);
    expect(withoutUnique(rows)).toEqual(expected);
    const api = await apiJson(`/reports/links?${query(DATASET_PERIOD)}`);
    expect(withoutUnique(api.body.rows)).toEqual(expected);
    // Unique hits, beside the hits: the view's (the period holds every hit of the dataset).
    const unique = await uniqueHitsOfView();
    expect(Object.fromEntries(rows.map((row) => [row.identifier, row.unique_hits]))).toEqual(unique);
  });

  it("labels its axes readably: whole-number counts, and the last day of the period named", async () => {
    const html = await page(query(DATASET_PERIOD));
    const ticks = await texts(html, "svg[data-chart=daily] text.y-tick");
    expect(ticks.length).toBeGreaterThan(1);
    for (const tick of ticks) expect(tick).toMatch(/^\d+$/);
    for (const size of ["wide", "narrow"]) {
      const labels = await select(html, `svg[data-size=${size}] text.x-label`);
      expect(labels.at(-1)?.attributes["data-day"], size).toBe(DATASET_PERIOD.to);
      expect(labels.length, size).toBeLessThanOrEqual(size === "wide" ? 6 : 4);
    }
    // No pointer to a file a deployed site cannot show.
    expect(html).not.toContain("docs/reports.md");
  });

  it("draws one chart day per day of the period, with the daily report's numbers", async () => {
    const html = await page(query(DATASET_PERIOD));
    // Drawn twice, wide and narrow; the stylesheet shows the one that fits the screen.
    expect(await select(html, "svg[data-chart=daily]")).toHaveLength(2);
    for (const size of ["wide", "narrow"]) {
      const sized = await select(html, `svg[data-chart=daily][data-size=${size}] g.day`);
      expect(
        sized.map((day) => day.attributes),
        size,
      ).toEqual(
        (await select(html, "svg[data-chart=daily][data-size=wide] g.day")).map((day) => day.attributes),
      );
    }
    const days = await select(html, "svg[data-chart=daily][data-size=wide] g.day");
    expect(days).toHaveLength(12); // 2025-05-31 .. 2025-06-11
    const drawn = days.map((day) => ({
      day: day.attributes["data-day"],
      hits: Number(day.attributes["data-hits"]),
      confirmed: Number(day.attributes["data-confirmed"]),
    }));
    const active = drawn.filter((day) => day.hits > 0 || day.confirmed > 0);
    expect(active).toEqual(EXPECTED_DAILY_ALL.map(({ day, hits, confirmed }) => ({ day, hits, confirmed })));
    expect(drawn.find((day) => day.day === "2025-06-05")).toEqual({
      day: "2025-06-05",
      hits: 0,
      confirmed: 0,
    });
    // Each day has a tooltip, and the bars are real rectangles with a height for the hits.
    expect(await texts(html, "svg[data-size=wide] g.day[data-day='2025-06-01'] title")).toEqual([
      "2025-06-01: 6 hits, 0 confirmed",
    ]);
    const bars = await select(html, "svg[data-size=wide] rect.bar");
    expect(bars).toHaveLength(12);
    expect(Number(bars[1]?.attributes.height)).toBeGreaterThan(Number(bars[0]?.attributes.height));
    // The numbers are in a table too, for those who cannot see the chart.
    expect(await texts(html, "table[data-table=daily] tbody tr td:first-child")).toEqual(
      EXPECTED_DAILY_ALL.map((row) => row.day),
    );
  });

  it("shows the recent hits of the period, newest first", async () => {
    const html = await page(query(DATASET_PERIOD));
    const rows = await select(html, "table[data-table=hits] tbody tr");
    expect(rows).toHaveLength(12);
    const times = await texts(html, "table[data-table=hits] td.time");
    expect(times[0]).toBe("2025-06-10 08:00:00");
    expect(times.at(-1)).toBe("2025-05-31 23:59:59");
    expect([...times].sort().reverse()).toEqual(times);
    expect(html).not.toContain("Earlier hits →");
  });
});

describe("a narrower period", () => {
  it("totals, links and chart of those days only; visitors distinct over the period", async () => {
    const html = await page(query(NARROW_PERIOD));
    expect(await totals(html)).toMatchObject({
      hits: String(EXPECTED_TOTALS_NARROW.hits),
      visitors: String(EXPECTED_TOTALS_NARROW.visitors),
      confirmed: String(EXPECTED_TOTALS_NARROW.confirmed),
    });
    expect(withoutUnique(await linkRows(html))).toEqual(withoutUnique(EXPECTED_LINKS_NARROW));
    expect(await select(html, "svg[data-size=wide] g.day")).toHaveLength(3);
    expect(await select(html, "table[data-table=hits] tbody tr")).toHaveLength(10);
  });
});

describe("narrowed to one link", () => {
  it("the totals, chart and hits are the link's; its row is marked", async () => {
    const html = await page(query({ ...DATASET_PERIOD, link: "rep-alpha" }));
    expect(await totals(html)).toMatchObject({ hits: "8", visitors: "5", confirmed: "2" });
    expect(await texts(html, "[data-link-filter]")).toEqual(["rep-alpha"]);
    const marked = (await select(html, "table[data-table=links] tbody tr")).filter(
      (row) => row.attributes["aria-current"] === "true",
    );
    expect(marked.map((row) => row.attributes["data-link"])).toEqual(["rep-alpha"]);
    const hitLinks = await texts(html, "table[data-table=hits] tbody td[data-hit-link]");
    expect(hitLinks).toHaveLength(8);
    expect(new Set(hitLinks)).toEqual(new Set(["rep-alpha"]));
    const days = await select(html, "svg[data-size=wide] g.day[data-hits]");
    expect(days.reduce((sum, day) => sum + Number(day.attributes["data-hits"]), 0)).toBe(8);
    // The links table still lists every link, for the whole period.
    expect((await linkRows(html)).map((row) => row.identifier)).toEqual(
      EXPECTED_LINKS.map((row) => row.identifier),
    );
  });
});

describe("links", () => {
  it("keep the period and the other choices, and are all relative to this page", async () => {
    const html = await page(query({ ...NARROW_PERIOD, link: "rep-beta" }));
    // Attributes come as written in the HTML, where & is &amp;.
    const hrefs = (await select(html, "a[href]")).map((a) =>
      (a.attributes.href ?? "").replaceAll("&amp;", "&"),
    );
    expect(hrefs.length).toBeGreaterThan(5);
    // Queries of this page, or its own sections.
    for (const href of hrefs) expect(href, href).toMatch(/^\?|^#[a-z]+-heading$/);
    const alpha = hrefs.find((href) => href.includes("link=rep-alpha"));
    expect(alpha).toBe("?from=2025-06-01&to=2025-06-03&link=rep-alpha");
    expect(hrefs).toContain("?from=2025-06-01&to=2025-06-03");
  });
});

describe("the default period", () => {
  it("is the last 30 days ending today (UTC): here, nothing happened in them", async () => {
    const html = await page("");
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    const [period] = await select(html, "[data-period]");
    expect(period?.attributes["data-period"]).toBe(`${from}..${today}`);
    expect(await select(html, "[data-empty=daily]")).toHaveLength(1);
    expect(await select(html, "svg[data-chart=daily]")).toHaveLength(0);
    expect(await texts(html, "[data-empty=hits]")).toEqual(["No hits in this period."]);
    // Links are listed anyway, with zeros.
    const rows = await linkRows(html);
    expect(rows.map((row) => row.identifier)).toEqual(EXPECTED_LINKS.map((row) => row.identifier));
    expect(rows.every((row) => row.hits === 0)).toBe(true);
    expect(count((await totals(html)).hits)).toBe(0);
  });

  it("from alone runs to today; to alone starts 29 days before it", async () => {
    const [onlyTo] = await select(await page("to=2025-06-11"), "[data-period]");
    expect(onlyTo?.attributes["data-period"]).toBe("2025-05-13..2025-06-11");
    const today = new Date().toISOString().slice(0, 10);
    const [onlyFrom] = await select(await page(`from=${today}`), "[data-period]");
    expect(onlyFrom?.attributes["data-period"]).toBe(`${today}..${today}`);
  });
});
