// `npm start`: the whole demo on this machine, no Cloudflare account and no network needed.
// Local D1 migrated and seeded, the demo origin on :8000, `wrangler dev` in front of it on :8787.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pollUntilReady, runWrangler, spawnWrangler, WRANGLER, wranglerEnv } from "./lib/wrangler.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 60_000;
const now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";
const SEED_SQL =
  "INSERT INTO referral_links (identifier, user_id, disabled, referee_reward, created_at, updated_at) " +
  `VALUES ('demo', 'alice', 0, '20% off', ${now}, ${now}) ` +
  // A database seeded by an older demo gets the reward too (docs/referred-visitor.md).
  "ON CONFLICT(identifier) DO UPDATE SET referee_reward = '20% off' WHERE referee_reward IS NULL; " +
  // Where alice is paid, so that a payout run's PayPal file has her line (she may change it on
  // her referral page).
  "INSERT INTO payout_methods (user_id, type, email, iban, account_name, updated_at) " +
  `VALUES ('alice', 'paypal', 'alice@example.com', NULL, 'Alice Example', ${now}) ON CONFLICT(user_id) DO NOTHING`;

function fail(message, details = "") {
  console.error(`\n✖ ${message}${details ? `\n\n${details.trim()}` : ""}`);
  process.exit(1);
}

function portFromEnv(name, fallback, min) {
  const raw = process.env[name] ?? String(fallback);
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < min || port > 65535) {
    fail(`${name} must be a port number (${min}-65535), got "${raw}".`);
  }
  return port;
}

const originPort = portFromEnv("DEMO_ORIGIN_PORT", 8000, 0);
const workerPort = portFromEnv("REFLINKS_PORT", 8787, 1);
const workerUrl = `http://${HOST}:${workerPort}`;
const token = process.env.REFLINKS_API_TOKEN ?? "demo-token";
const secret = process.env.REFLINKS_SIGNING_SECRET ?? "demo-signing-secret-change-me-0123456789";
const tokenShown = process.env.REFLINKS_API_TOKEN ? "$REFLINKS_API_TOKEN" : token;
// Offline, miniflare's fetch of the real `request.cf` fails with a noisy stack trace; its
// placeholder (country "US") is what it falls back to anyway. CLOUDFLARE_CF_FETCH_ENABLED=true
// fetches it (scripts/lib/wrangler.mjs keeps what the environment sets).
const env = wranglerEnv();

if (!fs.existsSync(WRANGLER)) fail("wrangler is not installed: run `npm ci` first.");

// The demo's own settings, given to `wrangler dev` over wrangler.toml's [vars]. The demo pays
// referrers 20% of each purchase, payable at once (HOLD_DAYS=0; a real site holds it for its
// refund period, 30 days by default), so that a payout run can be shown in the same minute; and
// it names a (published example) bank account, so that the run's SEPA file can be made.
const DEMO_VARS = [
  "COMMISSION:percent:20",
  "HOLD_DAYS:0",
  "SEPA_DEBTOR_NAME:Demo Shop",
  "SEPA_DEBTOR_IBAN:DE89370400440532013000",
  "SEPA_DEBTOR_BIC:COBADEFFXXX",
];
// `npm start -- --var NAME:VALUE` (repeatable) tries a setting on the demo, as `wrangler dev --var`.
const args = process.argv.slice(2);
for (let at = 0; at < args.length; at++) {
  if (args[at] === "--var" && args[at + 1]?.includes(":")) DEMO_VARS.push(args[++at]);
  else fail(`Unknown argument "${args[at]}": npm start takes only --var NAME:VALUE (repeatable).`);
}

// First of all, as `npm run deploy` does: a bad setting stops the demo with the variable's name,
// rather than a worker that answers its API with 500 while this script says it is running.
const check = spawnSync(
  process.execPath,
  [
    path.join(ROOT, "scripts", "check-config.mjs"),
    "--local",
    ...DEMO_VARS.flatMap((pair) => ["--var", pair]),
  ],
  { cwd: ROOT, env, encoding: "utf8" },
);
if (check.status !== 0)
  fail("The configuration is not valid: fix it and run `npm start` again.", check.stderr);

// Quiet on success; on failure the whole output is the useful part.
async function step(label, args) {
  process.stdout.write(`• ${label}… `);
  // CI=true: `migrations apply` would otherwise stop and ask for confirmation in a terminal.
  const { code, output } = await runWrangler(args, { env: { CI: "true" } });
  if (code !== 0) {
    console.log("failed");
    fail(`${label} failed (wrangler ${args.slice(0, 3).join(" ")} exited with ${code}).`, output);
  }
  console.log("done");
}

// Without this check a stray server on the port would answer /health and look like our worker.
function ensurePortFree(port, name) {
  return new Promise((resolve) => {
    const probe = http.createServer();
    probe.once("error", (err) =>
      fail(`Port ${port} is not free (${err.code}): stop what uses it or set ${name}.`),
    );
    probe.listen(port, HOST, () => probe.close(resolve));
  });
}

console.log("reflinks demo\n");
// Before the slow steps, so that a busy port fails in a second rather than after the migrations.
await ensurePortFree(workerPort, "REFLINKS_PORT");
if (originPort !== 0) await ensurePortFree(originPort, "DEMO_ORIGIN_PORT");
await step("Applying D1 migrations (local)", ["d1", "migrations", "apply", "DB", "--local"]);
await step('Creating the demo link "demo" (owner alice, reward "20% off") and where alice is paid', [
  "d1",
  "execute",
  "DB",
  "--local",
  "--command",
  SEED_SQL,
]);

// The demo origin calls the worker's API, so it gets the URL and token before it loads.
process.env.REFLINKS_URL = workerUrl;
process.env.REFLINKS_API_TOKEN = token;
const { createOriginServer, registerDemoWebhook } = await import("../demo/origin.mjs");
// alice owns the demo link: she can log in at once, to see her referrals and earnings; bob has
// no link yet and can get one on his referral page.
const origin = createOriginServer({ accounts: ["alice", "bob"] });
await new Promise((resolve) => {
  origin.once("error", (err) =>
    fail(`The demo origin could not listen on ${HOST}:${originPort} (${err.code}): set DEMO_ORIGIN_PORT.`),
  );
  origin.listen(originPort, HOST, resolve);
});
const originUrl = `http://${HOST}:${origin.address().port}`;
console.log(`• Demo origin on ${originUrl}`);
console.log(`• Starting the worker (wrangler dev) on ${workerUrl}…\n`);

// Its own process group, so that stopping it also stops workerd and anything else it started.
const worker = spawnWrangler(
  [
    "dev",
    "--ip",
    HOST,
    "--port",
    String(workerPort),
    "--var",
    `ORIGIN_URL:${originUrl}`,
    "--var",
    `API_TOKEN:${token}`,
    "--var",
    `SIGNING_SECRET:${secret}`,
    ...DEMO_VARS.flatMap((pair) => ["--var", pair]),
    // GET /__scheduled runs the scheduled job (webhook retries, approvals, retention, archive)
    // now: wrangler dev runs no Cron Trigger by itself.
    "--test-scheduled",
    "--show-interactive-dev-session=false",
  ],
  {
    // Piped, not inherited (a background process group writing to the terminal can be stopped),
    // so colour is asked for when the terminal shows it.
    env: process.stdout.isTTY ? { FORCE_COLOR: "1", NO_COLOR: undefined } : {},
    detached: true,
  },
);
worker.stdout.pipe(process.stdout);
worker.stderr.pipe(process.stderr);

const workerRunning = () => worker.exitCode === null && worker.signalCode === null;
function killWorker(signal) {
  try {
    process.kill(-worker.pid, signal);
  } catch {
    // Already gone.
  }
}

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  const done = () => {
    origin.close();
    origin.closeAllConnections();
    process.exit(code);
  };
  if (!workerRunning()) return done();
  killWorker("SIGTERM");
  const force = setTimeout(() => {
    killWorker("SIGKILL");
    done();
  }, 5000);
  worker.once("exit", () => {
    clearTimeout(force);
    killWorker("SIGTERM"); // Whatever wrangler left behind in its group.
    done();
  });
}

worker.on("error", (err) => {
  console.error(`\n✖ Could not start wrangler dev: ${err.message}`);
  stop(1);
});
worker.on("exit", (code, signal) => {
  if (stopping) return;
  console.error(`\n✖ wrangler dev exited (${signal ?? `code ${code}`}); stopping the demo origin.`);
  stopping = true;
  killWorker("SIGTERM");
  origin.close();
  origin.closeAllConnections();
  process.exit(code ?? 1);
});
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
process.on("SIGHUP", () => stop(0));
// `npm start` runs this script under npm (and a shell): when whatever started it is gone (npm
// killed by a process manager, an IDE or `timeout`, a closed terminal), this script is handed to
// another parent. Then nobody is left to press Ctrl-C: stop everything rather than run on.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop(0);
}, 500).unref();
// Last resort if this script dies some other way: never leave a worker running.
process.on("exit", () => workerRunning() && killWorker("SIGKILL"));

// /health goes through the worker to the origin, so a 200 means both ends work.
const up = await pollUntilReady(`${workerUrl}/health`, {
  timeoutMs: READY_TIMEOUT_MS,
  intervalMs: 500,
  stopped: () => (stopping ? "stopping" : null),
  check: async (res) => res.ok || `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`,
});
let ready = up.ready;
if (!up.ready && !stopping) {
  console.error(`\n✖ The worker did not answer ${workerUrl}/health: ${up.why}.`);
  stop(1);
}
// The worker's own health: its configuration (as wrangler dev read it, .dev.vars included) and
// its database's migrations. Anything else than ok stops the demo, saying why.
if (ready && !stopping) {
  let answer = "no answer";
  try {
    const res = await fetch(`${workerUrl}/_reflinks/health`, { signal: AbortSignal.timeout(10_000) });
    answer = res.ok ? "" : `HTTP ${res.status}: ${(await res.json()).error?.message ?? "?"}`;
  } catch (err) {
    answer = err.cause?.code ?? err.message;
  }
  if (answer) {
    console.error(`\n✖ The worker is not healthy (${answer}).`);
    ready = false;
    stop(1);
  }
}
if (ready && !stopping) {
  // The demo receives the worker's webhooks: registered anew on every start (idempotent: the
  // previous run's registration is replaced, its secret being gone with that run).
  try {
    origin.setWebhookSecret(
      await registerDemoWebhook({
        reflinksUrl: workerUrl,
        apiToken: token,
        receiverUrl: `${originUrl}/webhooks/reflinks`,
      }),
    );
  } catch (err) {
    console.error(`\n✖ Could not register the demo's webhook: ${err.message}`);
  }
  console.log(`
✔ reflinks is running: the worker on ${workerUrl}, in front of the demo origin on ${originUrl}.

  The whole program in five steps:
    1. In a private window, open ${workerUrl}/ref/demo (alice's link: a click; "alice gave you 20% off").
    2. Sign up there (${workerUrl}/signup): the origin reports the login, the referral is confirmed.
    3. On /account, buy the Pro plan: a conversion, alice earns 20%, payable at once (HOLD_DAYS=0).
    4. In your usual window, log in as alice and open her referral page: ${workerUrl}/_reflinks/me
    5. On the dashboard (below): the payout run for USD, then download its PayPal file.
       Webhooks go to the demo (${workerUrl}/webhooks), which refuses the payout's first delivery
       on purpose: 5 s later, retry it with the scheduled job:  curl ${workerUrl}/__scheduled

  Open:
    ${workerUrl}/?ref=demo                   a ?ref= link on any page (one hop)
    ${workerUrl}/ref/demo?next=/pricing      a referral link
    ${workerUrl}/cookies                     the cookies the origin sees (reflinks_rk)
    ${workerUrl}/signup                      sign up: the origin reports the login to the worker
    ${workerUrl}/webhooks                    the webhooks the worker sent the origin, verified

  Dashboard: ${dashboardUrlOf(workerUrl)}/_reflinks/dashboard
    user name: anything, password: ${tokenShown}   (links, earnings, payouts, webhook failures)
    on localhost, a host of its own: no page of the site (${workerUrl}) can reach it.
    Deployed, it answers only on DASHBOARD_HOST (SECURITY.md).
  Log in as alice (the demo link's owner) at ${workerUrl}/login to see what she earned.
  Referrer's page: ${workerUrl}/_reflinks/me   (log in as alice, or as bob to get a link of his own)

  API: ${workerUrl}/_reflinks/… with "Authorization: Bearer ${tokenShown}"
  Ctrl-C stops everything.
`);
}

/**
 * The dashboard's address beside the site's: the host name `localhost`, where it answers while
 * `DASHBOARD_HOST` is unset, so that it is another origin than the site on 127.0.0.1.
 */
function dashboardUrlOf(workerUrl) {
  const url = new URL(workerUrl);
  url.hostname = "localhost";
  return url.origin;
}
