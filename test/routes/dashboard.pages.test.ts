/**
 * Paging on the dashboard: 30 links (25 a page) and 25 hits (20 a page, by cursor). Following the
 * page's own links shows each link and each hit exactly once, in order.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { linkRows, openDashboard, select, texts } from "../support/dashboard";

const LINKS = 30;
const HITS = 25;
const now = Date.now();
const day = (offset: number) => new Date(now + offset * 86_400_000).toISOString().slice(0, 10);
/** Yesterday and today, so that hits made minutes ago are in the period even just after midnight. */
const PERIOD = `from=${day(-1)}&to=${day(0)}`;

beforeAll(async () => {
  const identifiers = Array.from({ length: LINKS }, (_, i) => `pg-${String(i + 1).padStart(2, "0")}`);
  const stamp = new Date(now - 3_600_000).toISOString();
  await env.DB.prepare(
    `INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at) VALUES ${identifiers
      .map((identifier) => `('${identifier}', 'owner', 0, '${stamp}', '${stamp}')`)
      .join(", ")}`,
  ).run();
  // Hit j goes to link pg-0(j % 5 + 1), j minutes ago: links 1-5 have 5 hits each, the others none.
  const hits = Array.from({ length: HITS }, (_, j) => {
    const at = new Date(now - (j + 1) * 60_000).toISOString();
    const link = `(SELECT id FROM referral_links WHERE identifier = 'pg-0${(j % 5) + 1}')`;
    return `('page-hit-${String(j).padStart(2, "0")}', ${link}, '${crypto.randomUUID()}', 0, '${at}', '${at}')`;
  });
  await env.DB.prepare(
    `INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, created_at, updated_at) VALUES ${hits.join(", ")}`,
  ).run();
});

async function html(search: string): Promise<string> {
  const response = await openDashboard(search);
  const body = await response.text();
  expect(response.status, body).toBe(200);
  return body;
}

/** The href of the link whose text is `label`, with `&amp;` read as `&`. */
async function linkTo(page: string, label: string): Promise<string | undefined> {
  const anchors = await select(page, "a[href]");
  const anchor = anchors.find((a) => a.text.trim() === label);
  return anchor?.attributes.href?.replaceAll("&amp;", "&");
}

describe("the links table", () => {
  it("shows 25 links a page, most hits first, and pages through all 30 once each", async () => {
    const first = await html(PERIOD);
    const firstRows = await linkRows(first);
    expect(firstRows).toHaveLength(25);
    expect(firstRows.slice(0, 5).map((row) => [row.identifier, row.hits])).toEqual([
      ["pg-01", 5],
      ["pg-02", 5],
      ["pg-03", 5],
      ["pg-04", 5],
      ["pg-05", 5],
    ]);
    expect(await texts(first, ".pager span")).toEqual(["Page 1 of 2 (30 links)"]);
    expect(await linkTo(first, "← Previous")).toBeUndefined();
    const next = await linkTo(first, "Next →");
    expect(next).toBe(`?${PERIOD}&page=2`);

    const second = await html((next ?? "").slice(1));
    const secondRows = await linkRows(second);
    expect(secondRows).toHaveLength(5);
    expect(await linkTo(second, "Next →")).toBeUndefined();
    expect(await linkTo(second, "← Previous")).toBe(`?${PERIOD}`);

    const all = [...firstRows, ...secondRows].map((row) => row.identifier);
    expect(new Set(all).size).toBe(LINKS);
  });

  it("a page past the end says so and leads back to the first", async () => {
    const page = await html(`${PERIOD}&page=9`);
    expect(await select(page, "[data-empty=links-page]")).toHaveLength(1);
    expect(await linkTo(page, "First page")).toBe(`?${PERIOD}`);
  });
});

describe("the recent hits", () => {
  it("shows 20 a page, newest first, and the next page by cursor: each hit once", async () => {
    const first = await html(PERIOD);
    const firstIds = (await select(first, "table[data-table=hits] tbody tr")).map(
      (row) => row.attributes["data-hit"],
    );
    expect(firstIds).toHaveLength(20);
    expect(firstIds[0]).toBe("page-hit-00");
    const earlier = await linkTo(first, "Earlier hits →");
    expect(earlier).toMatch(new RegExp(`^\\?${PERIOD}&hits=[A-Za-z0-9_-]+$`));

    const second = await html((earlier ?? "").slice(1));
    expect(await texts(second, "#hits-heading")).toEqual(["Earlier hits"]);
    const secondIds = (await select(second, "table[data-table=hits] tbody tr")).map(
      (row) => row.attributes["data-hit"],
    );
    expect(secondIds).toEqual(["page-hit-20", "page-hit-21", "page-hit-22", "page-hit-23", "page-hit-24"]);
    expect(await linkTo(second, "Earlier hits →")).toBeUndefined();
    expect(await linkTo(second, "Newest hits")).toBe(`?${PERIOD}`);
    expect(new Set([...firstIds, ...secondIds]).size).toBe(HITS);
  });

  it("paging the hits keeps the links page, and the other way round", async () => {
    const page2 = await html(`${PERIOD}&page=2`);
    const earlier = await linkTo(page2, "Earlier hits →");
    expect(earlier).toContain("page=2");
    const both = await html((earlier ?? "").slice(1));
    expect(await linkRows(both)).toHaveLength(5);
    expect(await select(both, "table[data-table=hits] tbody tr")).toHaveLength(5);
  });
});
