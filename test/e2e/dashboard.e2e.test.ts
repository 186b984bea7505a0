/**
 * The reports three ways on one seeded database, end to end: the SQL views, the API and
 * `npm run report` give the same numbers (hits, and money: revenue per link and currency, earnings
 * and what is due per referrer and currency), and the dashboard, opened in a real browser (Debian's
 * Chromium driven by playwright-core) on `wrangler dev`, shows them, with its chart. A screenshot
 * is saved under test/artifacts/ (git-ignored) for a person to look at.
 */
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CROSS_CURRENCY_SUMS,
  DATASET_PERIOD,
  DATASET_SQL,
  EXPECTED_DUE,
  EXPECTED_EARNINGS,
  EXPECTED_EARNINGS_TOTALS,
  EXPECTED_LINKS,
  EXPECTED_LINKS_NARROW,
  EXPECTED_REVENUE,
  EXPECTED_REVENUE_NARROW,
  EXPECTED_TOTALS,
  HOSTILE,
  NARROW_PERIOD,
  showsAmount,
} from "../support/report-dataset.ts";
import { type Stack, startStack } from "./harness.ts";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** Headless, and quiet: no network of its own, nothing but the page under test. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = path.resolve("test", "artifacts");
const execFileAsync = promisify(execFile);

type Row = Record<string, unknown>;

let stack: Stack;
let browser: Browser;

/**
 * What to do when there is no browser to drive: a failure, not a skip, since CI must run this test,
 * but one that says how to mend it rather than a stack trace from deep inside playwright.
 */
function noChromium(problem: string, detail = ""): Error {
  const where = process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${CHROMIUM}` : `${CHROMIUM} (the default)`;
  const error = new Error(
    `The dashboard's browser test needs Chromium: ${where} ${problem}.\n` +
      "  Install it:       sudo apt-get install chromium   (Debian/Ubuntu; .ci/run does this)\n" +
      "  or point to one:  CHROMIUM_PATH=/path/to/chromium npm test\n" +
      "This test fails rather than skips without a browser: CI must run it." +
      (detail ? `\n--- playwright ---\n${detail}` : ""),
  );
  error.stack = error.message; // the message is the whole story
  return error;
}

async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  } catch (error) {
    throw noChromium("is there but did not start", (error as Error).message);
  }
}

beforeAll(async () => {
  // Before anything else: no point starting the stack for a test that cannot run.
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw noChromium("is not an executable file");
  }
  // Side by side, but both kept: whichever fails, afterAll still stops what did start.
  const [started, launched] = await Promise.allSettled([startStack(), launchChromium()]);
  if (started.status === "fulfilled") stack = started.value;
  if (launched.status === "fulfilled") browser = launched.value;
  if (launched.status === "rejected") throw launched.reason;
  if (started.status === "rejected") throw started.reason;
  await stack.query(DATASET_SQL.join(";\n"));
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const search = (period: { from?: string; to?: string }) => new URLSearchParams(period).toString();

async function api(pathAndQuery: string): Promise<Row[]> {
  const response = await fetch(`${stack.workerUrl}/_reflinks${pathAndQuery}`, {
    headers: { Authorization: `Bearer ${stack.apiToken}` },
    signal: AbortSignal.timeout(15_000),
  });
  expect(response.status, pathAndQuery).toBe(200);
  return ((await response.json()) as { rows: Row[] }).rows;
}

/** When each `report()`'s process ran, `[start, end]` in ms, to check that none overlapped. */
const reportRuns: [number, number][] = [];

/**
 * `npm run report -- --json`. It runs `wrangler d1 execute` on the stack's D1, so it waits its turn
 * with every other wrangler command there (`stack.exclusive`): two at once can fail.
 */
async function report(...args: string[]): Promise<{ rows: Row[]; revenue: Row[]; earnings: Row[] }> {
  const { stdout } = await stack.exclusive(async () => {
    const start = performance.now();
    try {
      return await execFileAsync(
        process.execPath,
        ["scripts/report.mjs", "--json", "--persist-to", stack.persistDir, ...args],
        { env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } },
      );
    } finally {
      reportRuns.push([start, performance.now()]);
    }
  });
  return JSON.parse(stdout) as { rows: Row[]; revenue: Row[]; earnings: Row[] };
}

/** Whether any two of the runs were under way at the same moment. */
function anyOverlap(runs: [number, number][]): boolean {
  const sorted = [...runs].sort((a, b) => a[0] - b[0]);
  return sorted.some(([start], i) => i > 0 && start < (sorted[i - 1]?.[1] ?? 0));
}

/** The links table as the browser shows it: identifier, owner and the numbers, per row. */
function shownLinks(page: Page) {
  return page.locator("table[data-table=links] tbody tr").evaluateAll((rows) =>
    rows.map((row) => {
      const number = (col: string) =>
        Number((row.querySelector(`[data-col=${col}]`)?.textContent ?? "").replaceAll(",", ""));
      return {
        identifier: row.getAttribute("data-link"),
        user_id:
          row.querySelector("td.text")?.textContent === "—"
            ? null
            : row.querySelector("td.text")?.textContent,
        hits: number("hits"),
        visitors: number("visitors"),
        users: number("users"),
        confirmed: number("confirmed"),
      };
    }),
  );
}

describe("the same seeded data, three ways", () => {
  it("the views, the API and npm run report agree, with and without a period", async () => {
    const view = await stack.query("SELECT * FROM link_stats ORDER BY hits DESC, identifier");
    expect(view).toEqual(EXPECTED_LINKS);

    reportRuns.length = 0;
    // Asked for all at once: the API answers side by side, the reports take turns.
    const [apiAll, apiPeriod, apiNarrow, cliAll, cliNarrow] = await Promise.all([
      api("/reports/links"),
      api(`/reports/links?${search(DATASET_PERIOD)}`),
      api(`/reports/links?${search(NARROW_PERIOD)}`),
      report(),
      report("--from", NARROW_PERIOD.from, "--to", NARROW_PERIOD.to),
    ]);
    // Each report is a `wrangler d1 execute` on the same local D1, and two at once sometimes fail
    // with a wrangler internal error: they must have run one after the other.
    expect(reportRuns).toHaveLength(2);
    expect(anyOverlap(reportRuns), `report runs: ${JSON.stringify(reportRuns)}`).toBe(false);
    expect(apiAll).toEqual(view);
    expect(apiPeriod).toEqual(view);
    expect(cliAll.rows).toEqual(view);
    expect(apiNarrow).toEqual(EXPECTED_LINKS_NARROW);
    expect(cliNarrow.rows).toEqual(apiNarrow);

    // Money: revenue per link and currency, earnings per referrer and currency with what is due.
    const revenueView = await stack.query("SELECT * FROM link_revenue ORDER BY identifier, currency");
    expect(revenueView).toEqual(EXPECTED_REVENUE);
    const earningsView = await stack.query(
      "SELECT * FROM referrer_earnings ORDER BY referrer_user_id, currency",
    );
    expect(earningsView).toEqual(EXPECTED_EARNINGS.map(({ due: _, ...row }) => row));
    const [apiRevenue, apiRevenueNarrow, apiEarnings, apiDue] = await Promise.all([
      api("/reports/revenue"),
      api(`/reports/revenue?${search(NARROW_PERIOD)}`),
      api("/reports/earnings"),
      api("/payouts/due"),
    ]);
    expect(apiRevenue).toEqual(revenueView);
    expect(cliAll.revenue).toEqual(revenueView);
    expect(apiRevenueNarrow).toEqual(EXPECTED_REVENUE_NARROW);
    expect(cliNarrow.revenue).toEqual(apiRevenueNarrow);
    expect(apiEarnings).toEqual(EXPECTED_EARNINGS);
    expect(cliAll.earnings).toEqual(apiEarnings);
    expect(cliNarrow.earnings).toEqual(apiEarnings);
    expect(apiDue).toEqual(EXPECTED_DUE);

    const alphaDays = await stack.query(
      "SELECT day, hits, visitors, confirmed FROM daily_hits WHERE identifier = 'rep-alpha' ORDER BY day",
    );
    expect(await api("/reports/daily?link=rep-alpha")).toEqual(alphaDays);
  });
});

describe("the dashboard in a browser", () => {
  it("shows the views' numbers, the chart and the recent hits; runs nothing stored; screenshot", async () => {
    const context = await browser.newContext({
      httpCredentials: { username: "reflinks", password: stack.apiToken },
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const dialogs: string[] = [];
    const problems: string[] = [];
    page.on("dialog", async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));

    try {
      const response = await page.goto(`${stack.workerUrl}/_reflinks/dashboard?${search(DATASET_PERIOD)}`);
      expect(response?.status()).toBe(200);
      await expect(page.title()).resolves.toBe("reflinks dashboard");

      // Totals, and every link's numbers: those of link_stats.
      const totals = await page
        .locator("[data-total]")
        .evaluateAll((cards) =>
          Object.fromEntries(cards.map((c) => [c.getAttribute("data-total"), c.textContent])),
        );
      expect(totals).toEqual({
        hits: String(EXPECTED_TOTALS.hits),
        visitors: String(EXPECTED_TOTALS.visitors),
        confirmed: String(EXPECTED_TOTALS.confirmed),
        conversion: "42.9%",
      });
      const view = await stack.query("SELECT * FROM link_stats ORDER BY hits DESC, identifier");
      expect(await shownLinks(page)).toEqual(view);

      // The chart is drawn: one group a day, bars as tall as their hits, the confirmations' line.
      const chart = page.locator("svg[data-chart=daily]");
      await expect(chart.isVisible()).resolves.toBe(true);
      const box = await chart.boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(box?.height).toBeGreaterThan(150);
      const bars = await page.locator("svg[data-chart=daily] g.day").evaluateAll((days) =>
        days.map((day) => ({
          day: day.getAttribute("data-day"),
          hits: Number(day.getAttribute("data-hits")),
          height: (day.querySelector("rect.bar") as SVGGraphicsElement).getBBox().height,
        })),
      );
      expect(bars).toHaveLength(12);
      const tallest = bars.reduce((a, b) => (b.height > a.height ? b : a));
      expect(tallest).toMatchObject({ day: "2025-06-01", hits: 6 });
      for (const bar of bars) expect(bar.height > 0, bar.day ?? "").toBe(bar.hits > 0);
      expect(await page.locator("svg[data-chart=daily] polyline.confirmed").count()).toBe(1);
      expect(await page.locator("svg[data-chart=daily] circle.confirmed-dot").count()).toBe(3);

      // Money, as a person reads it: per currency, in the currency's unit, never two added up.
      const moneyTotals = await page
        .locator("[data-money-total]")
        .evaluateAll((cards) =>
          Object.fromEntries(
            cards.map((card) => [
              card.getAttribute("data-money-total"),
              [...card.querySelectorAll(".money")].map((line) => line.textContent),
            ]),
          ),
        );
      expect(moneyTotals).toEqual({
        revenue: ["197.00 EUR", "105.00 USD"],
        commission: ["25.00 EUR", "10.50 USD"],
      });
      const linkMoney = await page.locator("table[data-table=links] tbody tr").evaluateAll((rows) =>
        rows.map((row) => ({
          identifier: row.getAttribute("data-link"),
          revenue: [...row.querySelectorAll("[data-money=revenue] .money")].map((line) => line.textContent),
          commission: [...row.querySelectorAll("[data-money=commission] .money")].map(
            (line) => line.textContent,
          ),
        })),
      );
      expect(linkMoney).toEqual([
        {
          identifier: "rep-alpha",
          revenue: ["160.00 EUR", "105.00 USD"],
          commission: ["16.00 EUR", "10.50 USD"],
        },
        { identifier: "rep-beta", revenue: ["37.00 EUR"], commission: ["9.00 EUR"] },
        { identifier: "rep-gamma", revenue: [], commission: [] },
        { identifier: "rep-idle", revenue: [], commission: [] },
      ]);
      // Both amounts of a link with two currencies are on screen, one above the other.
      const alphaLines = page.locator(
        "table[data-table=links] tr[data-link=rep-alpha] [data-money=revenue] .money",
      );
      const [eurBox, usdBox] = [await alphaLines.nth(0).boundingBox(), await alphaLines.nth(1).boundingBox()];
      expect(eurBox && usdBox && usdBox.y >= eurBox.y + eurBox.height - 1).toBe(true);

      const cellsOf = (part: string) =>
        page
          .locator(`table[data-table=earnings] ${part} tr`)
          .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)));
      const money = (minor: number) => (minor / 100).toFixed(2); // EUR and USD: two decimals
      expect(await cellsOf("tbody")).toEqual(
        EXPECTED_EARNINGS.map((row) => [
          row.referrer_user_id,
          row.currency,
          ...[row.pending, row.approved, row.paid, row.reversed, row.due].map(money),
        ]),
      );
      expect(await cellsOf("tfoot")).toEqual(
        EXPECTED_EARNINGS_TOTALS.map((row) => [
          "all referrers",
          row.currency,
          ...[row.pending, row.approved, row.paid, row.reversed, row.due].map(money),
        ]),
      );
      await expect(page.getByText(HOSTILE.referrer, { exact: true }).isVisible()).resolves.toBe(true);
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, cells apart, is what is read.
      const visibleText = await page.locator("main").innerText();
      for (const amount of CROSS_CURRENCY_SUMS) expect(showsAmount(visibleText, amount), amount).toBe(false);

      // Recent hits, newest first; the hostile strings are shown as text and run nothing.
      expect(await page.locator("table[data-table=hits] tbody tr").count()).toBe(12);
      await expect(page.getByText(HOSTILE.owner, { exact: true }).isVisible()).resolves.toBe(true);
      await expect(page.getByText(HOSTILE.userAgent, { exact: true }).isVisible()).resolves.toBe(true);
      expect(await page.locator("script, img, iframe").count()).toBe(0);

      await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });

      // Narrowing to a link through the page's own link.
      await page.locator("table[data-table=links] a", { hasText: "rep-alpha" }).click();
      await page.waitForURL(/link=rep-alpha/);
      expect(await page.locator("[data-total=hits]").textContent()).toBe("8");
      expect(await page.locator("table[data-table=hits] tbody tr").count()).toBe(8);
      const alphaTotals = await page.locator("[data-money-total=revenue] .money").allTextContents();
      expect(alphaTotals).toEqual(["160.00 EUR", "105.00 USD"]);
      await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-rep-alpha.png"), fullPage: true });

      expect(dialogs).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("asks for the token: without credentials the browser gets a 401 Basic challenge", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const url = `${stack.workerUrl}/_reflinks/dashboard`;
      // Headless Chromium has no password prompt: the navigation fails once the 401 has arrived.
      const challenge = page.waitForResponse(url);
      await page.goto(url).catch(() => null);
      const response = await challenge;
      expect(response.status()).toBe(401);
      expect(await response.headerValue("www-authenticate")).toBe('Basic realm="reflinks"');
    } finally {
      await context.close();
    }
  });
});
