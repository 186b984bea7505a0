// The README's screenshots, made from the real stack: `node scripts/screenshots.mjs`.
//
// Starts the stack as the end-to-end tests do (test/e2e/harness.ts: a temporary local D1, the
// demo origin, `wrangler dev` in front of it; no account, no network), plays the demo's story in
// Chromium (a friend clicks alice's link, signs up and buys; alice signs up and opens her
// referral page), and saves at 1280 px wide:
//
//   docs/images/dashboard.png       the dashboard (http://localhost:<port>/_reflinks/dashboard)
//   docs/images/referrer-page.png   alice's referral page (/_reflinks/me)
//
// Needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH), as the dashboard's browser test does.
// The harness is TypeScript: esbuild bundles it into .screenshots/ (ignored by git) first, at the
// same depth below the repository as test/e2e/, so that it finds the repository as it does there.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "docs", "images");
const BUILD = path.join(ROOT, ".screenshots", "e2e");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** As test/e2e/dashboard.e2e.test.ts: headless, and no network of its own. */
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
const VIEWPORT = { width: 1280, height: 900 };

await esbuild.build({
  entryPoints: [path.join(ROOT, "test", "e2e", "harness.ts")],
  outfile: path.join(BUILD, "harness.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});
const { BROWSER_UA, startStack } = await import(pathToFileURL(path.join(BUILD, "harness.mjs")).href);

const stack = await startStack({
  links: [{ identifier: "demo", userId: "alice" }],
  vars: { COMMISSION: "percent:20" },
});
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
try {
  await mkdir(OUT, { recursive: true });

  // A friend clicks alice's link, signs up and buys: a hit, a referral, a conversion.
  const friend = await browser.newContext({ userAgent: BROWSER_UA, viewport: VIEWPORT });
  const page = await friend.newPage();
  await page.goto(`${stack.workerUrl}/?ref=demo`);
  await signUp(page, "sam");
  await page.goto(`${stack.workerUrl}/account`);
  await Promise.all([page.waitForURL(/\/account/), page.click("text=Complete purchase")]);
  await friend.close();

  // alice signs up on the site (the worker learns who she is) and opens her referral page.
  const alice = await browser.newContext({ userAgent: BROWSER_UA, viewport: VIEWPORT });
  const portal = await alice.newPage();
  await signUp(portal, "alice");
  await portal.goto(`${stack.workerUrl}/_reflinks/me`);
  await portal.screenshot({ path: path.join(OUT, "referrer-page.png"), fullPage: true });
  await alice.close();

  const operator = await browser.newContext({
    userAgent: BROWSER_UA,
    viewport: VIEWPORT,
    httpCredentials: { username: "demo", password: stack.apiToken },
  });
  const dashboard = await operator.newPage();
  await dashboard.goto(`${stack.dashboardUrl}/_reflinks/dashboard`);
  await dashboard.screenshot({ path: path.join(OUT, "dashboard.png"), fullPage: true });
  await operator.close();
  console.log(`Saved ${path.relative(ROOT, OUT)}/dashboard.png and referrer-page.png`);
} finally {
  await browser.close();
  await stack.stop();
  await rm(path.join(ROOT, ".screenshots"), { recursive: true, force: true });
}

/** The demo site's sign-up form; it reports the login to the worker on its response. */
async function signUp(page, username) {
  await page.goto(`${stack.workerUrl}/signup`);
  await page.fill('input[name="username"]', username);
  await Promise.all([page.waitForURL(/\/account/), page.click("button:has-text('Sign up')")]);
}
