/**
 * The dashboard of a database with no links (this file's storage is its own, and stays empty),
 * and the dashboard's errors, which are pages for a person rather than JSON.
 */
import { describe, expect, it } from "vitest";
import { DASHBOARD_URL, openDashboard, select, texts } from "../support/dashboard";
import { send } from "../support/worker";

describe("an empty database", () => {
  it("says there is nothing yet, and offers to make a link", async () => {
    const response = await openDashboard();
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(await texts(html, "[data-empty=links]")).toEqual(["No referral links yet: create one above."]);
    expect(await select(html, "form[action='/_reflinks/dashboard/links'] button")).toHaveLength(1);
    expect(await texts(html, "[data-empty=daily]")).toEqual([
      "No hits and no confirmed referrals in this period.",
    ]);
    expect(await texts(html, "[data-empty=hits]")).toEqual(["No hits in this period."]);
    expect(await texts(html, "[data-total]")).toEqual(["0", "0", "0", "0", "—"]);
    expect(await texts(html, "[data-money-total]")).toEqual(["—", "—"]);
    expect(await texts(html, "[data-empty=earnings]")).toEqual([
      "No commissions yet. Record payments with POST /_reflinks/conversions.",
    ]);
    expect(await texts(html, "[data-empty=due]")).toEqual([
      "Nothing is due: no approved commission is waiting to be paid.",
    ]);
    expect(await texts(html, "[data-empty=payouts]")).toEqual(["No payouts recorded yet."]);
    expect(await texts(html, "[data-empty=webhooks]")).toEqual(["No webhooks."]);
    expect(
      await select(html, "table[data-table=links], svg, table[data-table=hits], table[data-table=earnings]"),
    ).toEqual([]);
  });
});

describe("errors are pages", () => {
  it.each([
    ["from=2025-02-30", 422, "from must be a date written YYYY-MM-DD"],
    ["from=2025-06-02&to=2025-06-01", 422, "to must not be before from"],
    ["from=2024-01-01&to=2025-06-01", 422, "The period is at most 366 days; choose a later from."],
    ["link=no-such-link", 404, 'No link "no-such-link".'],
    ["link=bad%20link", 422, "link must be 1-50 characters of A-Z, a-z, 0-9, _ and -"],
    ["page=0", 422, "page must be a whole number from 1"],
    ["hits=bm90LWEtY3Vyc29y", 422, "cursor is not a cursor this list gave out"],
  ])("%s: %i", async (search, status, message) => {
    const response = await openDashboard(search);
    expect(response.status).toBe(status);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    const html = await response.text();
    expect(await texts(html, "[data-error]")).toEqual([message.replaceAll('"', "&quot;")]);
  });

  it("a year, exactly: 366 days are allowed", async () => {
    const response = await openDashboard("from=2024-06-02&to=2025-06-02");
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("other methods: 405 with Allow: GET, HEAD", async () => {
    const response = await send(DASHBOARD_URL, {
      method: "POST",
      headers: { Authorization: `Bearer ${"test-api-token"}` },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    await response.body?.cancel();
  });
});
