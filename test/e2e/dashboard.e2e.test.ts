/**
 * The reports three ways on one seeded database, end to end: the SQL views, the API and
 * `npm run report` give the same numbers (hits, and money: revenue per link and currency, earnings
 * and what is due per referrer and currency), and the dashboard, opened in a real browser (Debian's
 * Chromium driven by playwright-core) on `wrangler dev`, shows them, with its chart.
 *
 * Then the dashboard is used as an operator would, on a phone (390 px) and on a desktop (1280 px):
 * no page wider than the window, no text under 10 px, no identifier broken over lines; every action
 * clicked (create, disable, enable, commission, a double-clicked payout, a webhook retry); and a
 * form on another site, sent by the same browser with its credentials, refused. Screenshots are
 * saved under test/artifacts/ (git-ignored) for a person to look at.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOriginServer } from "../../demo/origin.mjs";
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
import { BROWSER_UA, type Row, type Stack, startStack } from "./harness.ts";

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
          row.querySelector("[data-owner]")?.textContent === "—"
            ? null
            : row.querySelector("[data-owner]")?.textContent,
        hits: number("hits"),
        unique_hits: number("unique_hits"),
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
      "SELECT day, hits, unique_hits, visitors, confirmed FROM daily_hits WHERE identifier = 'rep-alpha' ORDER BY day",
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
      const response = await page.goto(`${stack.dashboardUrl}/_reflinks/dashboard?${search(DATASET_PERIOD)}`);
      expect(response?.status()).toBe(200);
      await expect(page.title()).resolves.toBe("reflinks dashboard");

      // Totals, and every link's numbers: those of link_stats.
      const totals = await page
        .locator("[data-total]")
        .evaluateAll((cards) =>
          Object.fromEntries(cards.map((c) => [c.getAttribute("data-total"), c.textContent])),
        );
      const [{ n: unique } = { n: -1 }] = await stack.query<{ n: number }>(
        "SELECT SUM(unique_hits) AS n FROM link_stats",
      );
      expect(totals).toEqual({
        hits: String(EXPECTED_TOTALS.hits),
        unique_hits: String(unique),
        visitors: String(EXPECTED_TOTALS.visitors),
        confirmed: String(EXPECTED_TOTALS.confirmed),
        conversion: "42.9%",
      });
      const view = await stack.query("SELECT * FROM link_stats ORDER BY hits DESC, identifier");
      expect(await shownLinks(page)).toEqual(view);

      // The chart is drawn: one group a day, bars as tall as their hits, the confirmations' line.
      const chart = page.locator("svg[data-chart=daily][data-size=wide]");
      await expect(chart.isVisible()).resolves.toBe(true);
      const box = await chart.boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(box?.height).toBeGreaterThan(150);
      const bars = await page.locator("svg[data-size=wide] g.day").evaluateAll((days) =>
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
      expect(await page.locator("svg[data-size=wide] polyline.confirmed").count()).toBe(1);
      expect(await page.locator("svg[data-size=wide] circle.confirmed-dot").count()).toBe(3);
      // The narrow chart is for narrow screens only.
      await expect(page.locator("svg[data-size=narrow]").isVisible()).resolves.toBe(false);

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
      await expect(
        page.locator("table[data-table=earnings]").getByText(HOSTILE.referrer, { exact: true }).isVisible(),
      ).resolves.toBe(true);
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
      const url = `${stack.dashboardUrl}/_reflinks/dashboard`;
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

/**
 * What the browser shows that a person could not use: a page wider than the window (the body
 * scrolls sideways), text under 10 px (CSS pixels on screen: an SVG's text is scaled with its
 * drawing, so its font size is multiplied by the drawing's scale), an identifier or user id
 * broken over two lines, and a table column whose cells are aligned otherwise than its header (a
 * right-aligned count over left-aligned numbers reads as misplaced).
 */
function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth || document.body.scrollWidth > root.clientWidth) {
      problems.push(`the page is ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
    }
    for (const element of document.querySelectorAll("body *")) {
      const text = [...element.childNodes]
        .filter((node) => node.nodeType === Node.TEXT_NODE)
        .map((node) => node.textContent ?? "")
        .join("")
        .trim();
      if (text === "" || !element.checkVisibility({ visibilityProperty: true, opacityProperty: true }))
        continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(element);
      let size = Number.parseFloat(style.fontSize);
      if (element instanceof SVGGraphicsElement) {
        const matrix = element.getScreenCTM();
        if (matrix) size *= Math.hypot(matrix.a, matrix.b);
      }
      if (size < 10)
        problems.push(`${element.tagName.toLowerCase()} "${text.slice(0, 30)}": ${size.toFixed(1)} px`);
      if (element.classList.contains("id") && element.getClientRects().length > 1) {
        problems.push(`"${text}" is broken over lines`);
      }
      if (element.classList.contains("id") && box.height > 2 * Number.parseFloat(style.fontSize) * 1.2) {
        problems.push(`"${text}" is ${box.height} px tall`);
      }
    }
    for (const table of document.querySelectorAll("table")) {
      const head = table.tHead?.rows[0];
      if (!head?.checkVisibility()) continue;
      const headers = [...head.cells];
      if (headers.some((cell) => cell.colSpan !== 1)) continue;
      const misaligned = new Set<number>();
      for (const body of table.tBodies) {
        for (const row of body.rows) {
          if (row.cells.length !== headers.length) continue;
          [...row.cells].forEach((cell, column) => {
            const header = headers[column];
            if (header && getComputedStyle(cell).textAlign !== getComputedStyle(header).textAlign) {
              misaligned.add(column);
            }
          });
        }
      }
      for (const column of misaligned) {
        const header = headers[column];
        problems.push(
          `column "${header?.textContent?.trim()}" of ${table.dataset.table ?? "a table"}: ` +
            `header ${header && getComputedStyle(header).textAlign}, a cell otherwise`,
        );
      }
    }
    return problems;
  });
}

/** A webhook receiver of this test's own: the first request gets a 500, every later one a 204. */
function flakyReceiver() {
  const requests: { id: string | undefined; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      requests.push({ id: request.headers["webhook-id"] as string | undefined, body });
      response.writeHead(requests.length === 1 ? 500 : 204).end();
    });
  });
  return { server, requests };
}

/** Another origin (another port of localhost than the dashboard's), serving one page: `html`. */
function otherSite(html: () => string) {
  return createServer((_, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(html());
  });
}

async function listenOn(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

describe("running the program from the dashboard, on a phone and on a desktop", () => {
  const receiver = flakyReceiver();
  let attackerPage = "";
  const attacker = otherSite(() => attackerPage);
  let receiverUrl = "";
  let attackerUrl = "";

  beforeAll(async () => {
    receiverUrl = `http://127.0.0.1:${await listenOn(receiver.server, "127.0.0.1")}/hooks`;
    attackerUrl = `http://localhost:${await listenOn(attacker, "127.0.0.1")}/`;
  });
  afterAll(async () => {
    receiver.server.closeAllConnections();
    attacker.closeAllConnections();
    await Promise.all([
      new Promise((resolve) => receiver.server.close(resolve)),
      new Promise((resolve) => attacker.close(resolve)),
    ]);
  });

  async function open(width: number) {
    const context = await browser.newContext({
      httpCredentials: { username: "ops", password: stack.apiToken },
      viewport: { width, height: width < 600 ? 844 : 900 },
      isMobile: width < 600,
      hasTouch: width < 600,
      deviceScaleFactor: width < 600 ? 3 : 1,
    });
    // Two cores shared with wrangler and workerd: a page can take a while.
    context.setDefaultTimeout(90_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    return { context, page, problems };
  }

  const dashboardUrl = () => `${stack.dashboardUrl}/_reflinks/dashboard?${search(DATASET_PERIOD)}`;
  const flash = (page: Page) => page.locator("[data-flash]").textContent();
  const one = async <T extends Row>(sql: string) => (await stack.query<T>(sql))[0];

  it("the layout check catches each thing it looks for (on a page made to fail it)", async () => {
    const { context, page } = await open(390);
    try {
      await page.setContent(`<!doctype html><meta name="viewport" content="width=device-width">
        <p style="font-size: 9px">small print</p>
        <svg viewBox="0 0 760 240" style="width: 100%"><text x="10" y="20" style="font-size: 11px">Jun 11</text></svg>
        <p style="width: 80px"><span class="id">anonymous 3fdda92b</span></p>
        <div style="width: 600px">wide</div>
        <table data-table="made"><thead><tr><th style="text-align: right">count</th></tr></thead>
          <tbody><tr><td style="text-align: left">1</td></tr></tbody></table>`);
      const problems = await layoutProblems(page);
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^the page is \d+ px wide in a 390 px window$/),
          'p "small print": 9.0 px',
          expect.stringMatching(/^text "Jun 11": [45]\.\d px$/),
          '"anonymous 3fdda92b" is broken over lines',
          'column "count" of made: header right, a cell otherwise',
        ]),
      );
    } finally {
      await context.close();
    }
  });

  it.each([1280, 390])(
    "is readable at %i px: nothing wider than the window, no text under 10 px, no id broken; screenshot",
    async (width) => {
      const { context, page, problems } = await open(width);
      try {
        const response = await page.goto(dashboardUrl());
        expect(response?.status()).toBe(200);
        expect(await layoutProblems(page)).toEqual([]);
        // The chart drawn for the width is the one shown, and its day labels are there to read.
        const shown = width < 600 ? "narrow" : "wide";
        await expect(page.locator(`svg[data-size=${shown}]`).isVisible()).resolves.toBe(true);
        await expect(
          page.locator(`svg[data-size=${shown === "wide" ? "narrow" : "wide"}]`).isVisible(),
        ).resolves.toBe(false);
        // On a phone the long tables are cards (no header row), earnings too: its "due" column was
        // scrolled out of sight when it was a table in a scrolling box.
        for (const table of ["hits", "links", "earnings"]) {
          await expect(page.locator(`table[data-table=${table}] thead`).isVisible()).resolves.toBe(
            width >= 600,
          );
        }
        const due = page.locator("table[data-table=earnings] tbody tr").first().locator("td[data-money=due]");
        await expect(due.isVisible()).resolves.toBe(true);
        const box = await due.boundingBox();
        expect(
          box !== null && box.x >= 0 && box.x + box.width <= width,
          `due at ${box?.x} (${box?.width} px wide) in a ${width} px window`,
        ).toBe(true);
        const labels = await page.locator(`svg[data-size=${shown}] text.x-label`).allTextContents();
        expect(labels.at(-1)).toBe("Jun 11");
        // The recent hits: an anonymous visitor reads as one piece, whatever the width.
        const visitor = page
          .locator("table[data-table=hits] [data-visitor] .id", { hasText: /^anonymous / })
          .first();
        await expect(visitor.isVisible()).resolves.toBe(true);
        expect(await visitor.evaluate((element) => element.getClientRects().length)).toBe(1);
        await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${width}.png`), fullPage: true });
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );

  it("every action from a phone: create a link, disable and enable it, set its commission, pay, retry a webhook", async () => {
    const webhook = await fetch(`${stack.workerUrl}/_reflinks/webhooks`, {
      method: "POST",
      headers: { Authorization: `Bearer ${stack.apiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: receiverUrl, events: ["link.created"] }),
    });
    expect(webhook.status).toBe(201);
    const { page, context, problems } = await open(390);
    try {
      await page.goto(dashboardUrl());

      // Create a link for a user.
      await page.getByLabel("Owner (user id)").fill("carol");
      await page.getByLabel("Identifier (empty: random)").fill("carol-phone");
      await Promise.all([
        page.waitForURL(/done=link_created/),
        page.locator("[data-action=create-link]").click(),
      ]);
      expect(await flash(page)).toBe(
        `Link carol-phone created. Its URL: ${stack.dashboardUrl}/ref/carol-phone`,
      );
      expect(
        await one("SELECT user_id, disabled FROM referral_links WHERE identifier = 'carol-phone'"),
      ).toEqual({
        user_id: "carol",
        disabled: 0,
      });
      expect(await layoutProblems(page)).toEqual([]);

      // Disable it: its URL still redirects and records nothing. Then enable it again.
      const row = page.locator("table[data-table=links] tr[data-link=carol-phone]");
      await Promise.all([
        page.waitForURL(/done=link_disabled/),
        row.locator("[data-action=disable]").click(),
      ]);
      expect(await flash(page)).toBe(
        "Link carol-phone disabled: its URL still redirects, but records no hit.",
      );
      expect(await row.locator("[data-status]").textContent()).toBe("disabled");
      const click = await fetch(`${stack.workerUrl}/ref/carol-phone`, {
        redirect: "manual",
        headers: { "User-Agent": BROWSER_UA },
      });
      expect(click.status).toBe(302);
      expect(
        await one(
          "SELECT COUNT(*) AS n FROM referral_hits h JOIN referral_links l ON l.id = h.link_id WHERE l.identifier = 'carol-phone'",
        ),
      ).toEqual({ n: 0 });
      await Promise.all([page.waitForURL(/done=link_enabled/), row.locator("[data-action=enable]").click()]);
      expect(await one("SELECT disabled FROM referral_links WHERE identifier = 'carol-phone'")).toEqual({
        disabled: 0,
      });

      // Its commission.
      await row.locator("summary[data-commission]").click();
      await row.getByLabel("percent:N or fixed:N (empty: default)").fill("percent:30");
      await Promise.all([
        page.waitForURL(/done=commission_set/),
        row.locator("[data-action=set-commission]").click(),
      ]);
      expect(await one("SELECT commission FROM referral_links WHERE identifier = 'carol-phone'")).toEqual({
        commission: "percent:30",
      });
      await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-390-commission.png"), fullPage: true });

      // What a friend who comes through it gets.
      await row.locator("summary[data-reward]").click();
      await row.getByLabel("What a referred friend gets (empty: nothing)").fill("20% off");
      await Promise.all([
        page.waitForURL(/done=reward_set/),
        row.locator("[data-action=set-reward]").click(),
      ]);
      expect(await one("SELECT referee_reward FROM referral_links WHERE identifier = 'carol-phone'")).toEqual(
        {
          referee_reward: "20% off",
        },
      );

      // Pay alice what is due in EUR, with a double click: one payout.
      const before = await one<{ n: number }>("SELECT COUNT(*) AS n FROM payouts");
      const pay = page.locator(
        "table[data-table=due] tr[data-referrer=alice][data-currency=EUR] [data-action=pay]",
      );
      expect(await pay.textContent()).toBe("Record payout of 13.00 EUR");
      await pay.dblclick();
      await page.waitForURL(/done=payout_(created|existing)/);
      await page.waitForLoadState("load");
      const payouts = await stack.query<{ amount: number }>(
        "SELECT amount FROM payouts WHERE referrer_user_id = 'alice' AND currency = 'EUR'",
      );
      expect(payouts).toEqual([{ amount: 1300 }]);
      expect(await one("SELECT COUNT(*) AS n FROM payouts")).toEqual({ n: (before?.n ?? 0) + 1 });
      expect(await flash(page)).toMatch(
        /^Payout #\d+ (recorded: 13\.00 EUR to alice|was already recorded by this form)/,
      );
      expect(
        await page.locator("table[data-table=due] tr[data-referrer=alice][data-currency=EUR]").count(),
      ).toBe(0);
      await expect(
        page.locator("table[data-table=payouts] tr[aria-current] [data-money=amount]").textContent(),
      ).resolves.toBe("13.00 EUR");
      await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-390-payout.png"), fullPage: true });

      // The link.created event of carol-phone failed once (a 500): send it again.
      expect(receiver.requests).toHaveLength(1);
      const failure = page.locator("[data-table=failures] tr[data-delivery]");
      expect(await failure.locator("td").allTextContents()).toEqual([
        expect.any(String),
        "link.created",
        "1",
        "HTTP 500",
        "retrying",
        "Send again now",
      ]);
      await Promise.all([
        page.waitForURL(/done=webhook_delivered/),
        failure.locator("[data-action=retry]").click(),
      ]);
      expect(await flash(page)).toBe("Event sent again: the receiver accepted it.");
      expect(receiver.requests).toHaveLength(2);
      expect(receiver.requests[1]?.id).toBe(receiver.requests[0]?.id);
      expect(await failure.locator("[data-event-status]").textContent()).toBe("delivered since");

      // A reload shows the page again; it sends nothing again (303, then GET).
      await page.reload();
      expect(receiver.requests).toHaveLength(2);
      expect(await one("SELECT COUNT(*) AS n FROM payouts")).toEqual({ n: (before?.n ?? 0) + 1 });
      expect(await layoutProblems(page)).toEqual([]);
      expect(problems).toEqual([]);

      // On a desktop the failures are a table: each column's cells aligned as its header.
      const desktop = await open(1280);
      try {
        await desktop.page.goto(dashboardUrl());
        await expect(desktop.page.locator("[data-table=failures] thead").isVisible()).resolves.toBe(true);
        expect(await layoutProblems(desktop.page)).toEqual([]);
        expect(desktop.problems).toEqual([]);
      } finally {
        await desktop.context.close();
      }
    } finally {
      await context.close();
    }
  }, 360_000);

  it("a form on another site cannot act, even with the browser's credentials and a real token", async () => {
    const { page, context } = await open(1280);
    try {
      await page.goto(dashboardUrl());
      const action = "/_reflinks/dashboard/links/rep-beta/disabled";
      const token = await page.locator(`form[action="${action}"] input[name=form_token]`).inputValue();
      const forms = [
        ["with-token", `<input type="hidden" name="form_token" value="${token}">`],
        ["without-token", ""],
      ];
      attackerPage = `<!doctype html><title>win a prize</title>${forms
        .map(
          ([name, extra]) =>
            `<form method="post" action="${stack.dashboardUrl}${action}"><input type="hidden" name="disabled" value="true">${extra}<button id="${name}">Claim</button></form>`,
        )
        .join("")}`;
      for (const [name] of forms) {
        await page.goto(attackerUrl);
        const [answer] = await Promise.all([
          page.waitForResponse((response) => response.url().endsWith(action) && response.status() !== 401),
          page.locator(`#${name}`).click(),
        ]);
        // Not a 401: the browser sent the credentials (the door is checked first), and was refused.
        expect(answer.status(), name).toBe(403);
        await page.waitForLoadState("load");
        await expect(page.locator("h1").textContent()).resolves.toBe("Refused");
        expect(await one("SELECT disabled FROM referral_links WHERE identifier = 'rep-beta'")).toEqual({
          disabled: 0,
        });
      }
    } finally {
      await context.close();
    }
  });
  it("a script on a page of the site can neither read the dashboard nor submit its forms (the operator's door)", async () => {
    // The operator is signed in: the browser answers any Basic challenge with the API token.
    const { page, context } = await open(1280);
    try {
      await page.goto(dashboardUrl());
      const action = "/_reflinks/dashboard/links/rep-beta/disabled";
      const token = await page.locator(`form[action="${action}"] input[name=form_token]`).inputValue();
      // A page of the site (an uploaded HTML file, a stored XSS, a third party's script): served on
      // the site's origin. The browser takes it for the origin's own answer, which the worker
      // passes on as sent; its script tries every way to the dashboard, as the red team's did.
      const uploaded = `${stack.workerUrl}/uploads/prize.html`;
      await page.route(uploaded, (route) =>
        route.fulfill({
          contentType: "text/html",
          body: `<!doctype html><title>prize</title><script>
            window.attempts = (async () => {
              const out = {};
              const read = async (url, init) => {
                try {
                  const response = await fetch(url, { credentials: "include", ...init });
                  const text = await response.text();
                  return { status: response.status, tokenSeen: text.includes("form_token") };
                } catch (error) {
                  return { blocked: String(error) };
                }
              };
              out.sameOrigin = await read("/_reflinks/dashboard");
              out.sameOriginPost = await read(${JSON.stringify(action)}, {
                method: "POST",
                headers: { "Content-Type": "application/x-www-form-urlencoded" },
                body: "disabled=true&form_token=" + encodeURIComponent(${JSON.stringify(token)}),
              });
              out.dashboardHost = await read(${JSON.stringify(stack.dashboardUrl)} + "/_reflinks/dashboard");
              // Blind: the answer cannot be read, but the request is sent with the credentials.
              await fetch(${JSON.stringify(stack.dashboardUrl + action)}, {
                method: "POST",
                mode: "no-cors",
                credentials: "include",
                headers: { "Content-Type": "application/x-www-form-urlencoded" },
                body: "disabled=true&form_token=" + encodeURIComponent(${JSON.stringify(token)}),
              }).catch(() => {});
              return out;
            })();
          </script>`,
        }),
      );
      await page.goto(uploaded);
      const attempts = await page.evaluate(
        () => (window as unknown as { attempts: Promise<unknown> }).attempts,
      );
      expect(attempts).toEqual({
        // On the site's origin the dashboard is not found, before any credentials are asked for.
        sameOrigin: { status: 404, tokenSeen: false },
        sameOriginPost: { status: 404, tokenSeen: false },
        // On its own origin the browser keeps the answer from the site's script (no CORS).
        dashboardHost: { blocked: expect.stringMatching(/Failed to fetch/) },
      });
      // And the blind post was refused: the link is as it was.
      expect(await one("SELECT disabled FROM referral_links WHERE identifier = 'rep-beta'")).toEqual({
        disabled: 0,
      });
    } finally {
      await context.close();
    }
  });
});

describe("the referrer's page in a browser, on a desktop and on a phone", () => {
  for (const width of [1280, 390]) {
    it(`at ${width} px: sign up, land on the page through next, get a link, copy it, scan it; no layout problem`, async () => {
      const context = await browser.newContext({
        viewport: { width, height: width < 600 ? 844 : 900 },
        isMobile: width < 600,
        hasTouch: width < 600,
        deviceScaleFactor: width < 600 ? 3 : 1,
      });
      context.setDefaultTimeout(90_000);
      const page = await context.newPage();
      // A CSP violation (a script or style the policy does not allow) is a console error. The
      // demo site has no favicon, which the desktop browser asks for.
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico"))
          problems.push(`${message.text()} (${message.location().url})`);
      });
      page.on("pageerror", (error) => problems.push(error.message));
      try {
        const site = stack.workerUrl;
        await page.goto(`${site}/_reflinks/me`);
        expect(page.url()).toBe(`${site}/login?next=%2F_reflinks%2Fme`);
        // A new user: the site's sign-up honours next like its login, and reports the login.
        await page.goto(`${site}/signup?next=%2F_reflinks%2Fme`);
        await page.fill('input[name="username"]', `reader-${width}-${randomUUID().slice(0, 8)}`);
        await page.click("form button");
        await page.waitForURL(`${site}/_reflinks/me`);
        await page.click('#get-link button[type="submit"]');
        await page.waitForURL(/\/_reflinks\/me\?created=[A-Za-z0-9_-]{10}$/);
        const url = (await page.textContent("[data-url]")) ?? "";
        expect(url).toMatch(new RegExp(`^${site}/ref/[A-Za-z0-9_-]{10}$`));
        // The script ran (allowed by its hash): the copy button is shown.
        expect(await page.isVisible("button[data-copy]")).toBe(true);
        const qr = await page.locator(".qr svg").boundingBox();
        expect(qr?.width).toBeGreaterThanOrEqual(120);
        expect(await layoutProblems(page)).toEqual([]);
        await page.screenshot({ path: `${ARTIFACTS}/referrer-page-${width}.png`, fullPage: true });
        expect(problems).toEqual([]);
        const click = await fetch(url, { redirect: "manual", headers: { "User-Agent": BROWSER_UA } });
        expect(click.status).toBe(302);
      } finally {
        await context.close();
      }
    });
  }
});

describe("the demo origin (npm start)", () => {
  it("has the accounts it is given from the start: alice, the demo link's owner, logs in and sees her links", async () => {
    const origin = createOriginServer({
      reflinksUrl: stack.workerUrl,
      apiToken: stack.apiToken,
      accounts: ["alice"],
    });
    const base = `http://127.0.0.1:${await listenOn(origin, "127.0.0.1")}`;
    try {
      const login = (username: string) =>
        fetch(`${base}/login`, {
          method: "POST",
          body: new URLSearchParams({ username }),
          redirect: "manual",
        });
      const alice = await login("alice");
      expect(alice.status).toBe(303);
      expect(alice.headers.get("location")).toBe("/account");
      const nobody = await login("nobody");
      expect(nobody.status).toBe(401);
      await nobody.body?.cancel();
      const cookie = (alice.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      const account = await (await fetch(`${base}/account`, { headers: { Cookie: cookie } })).text();
      expect(account).toContain("You are signed in as <b>alice</b>");
      // Her links, from the worker's GET /users/alice: rep-alpha is hers in the seeded data.
      expect(account).toContain("/ref/rep-alpha");
    } finally {
      origin.closeAllConnections();
      await new Promise((resolve) => origin.close(resolve));
    }
  });
});
