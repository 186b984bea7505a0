// `npm run report`: the link report (the `link_stats` numbers, or a period's), revenue and
// commission per link and currency (`link_revenue`), and each referrer's earnings and what is due
// (`referrer_earnings`), as tables in the terminal, read from D1 with one `wrangler d1 execute`.
// The SQL is the API's own (src/db/queries/report-sql.ts). Amounts of two currencies are never
// added together.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { importWorkerModule } from "./lib/import-worker-module.mjs";
import { runWrangler, WRANGLER } from "./lib/wrangler.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { earningsReportQuery, formatMinor, inlineParams, isDay, linkReportQuery, revenueReportQuery } =
  await importWorkerModule(path.join(ROOT, "src/db/queries/report-sql.ts"));
const MAX_TEXT = 32;

const USAGE = `Usage: npm run report [-- options]

The link report: per link, hits, unique hits (not duplicates), visitors, users and confirmed
referrals, most hits first; then revenue and commission per link and currency; then each referrer's earnings per currency (pending,
approved, paid, reversed) and what a payout would pay now (due). Money is per currency, never summed
across currencies.

  --remote             read the deployed database (needs \`wrangler login\` or CLOUDFLARE_API_TOKEN)
  --local              read the local database of \`wrangler dev\` / \`npm start\` (the default)
  --persist-to <dir>   the local database's directory, as for wrangler (default .wrangler/state)
  --from <YYYY-MM-DD>  count only hits, confirmations and conversions from this UTC day on
  --to <YYYY-MM-DD>    ... up to this UTC day, included (earnings are as of now, whatever the period)
  --json               print {"rows": [...], "revenue": [...], "earnings": [...]}: the rows of
                       GET /_reflinks/reports/links, /reports/revenue and /reports/earnings
  -h, --help           this help

Examples:
  npm run report
  npm run report -- --remote --from 2026-11-01 --to 2026-11-30
  npm run --silent report -- --json | jq '.rows[0]'    (--silent: no npm banner before the JSON)`;

function usageError(message) {
  console.error(`✖ ${message}\n\n${USAGE}`);
  process.exit(2);
}

function fail(message) {
  console.error(`✖ ${message}`);
  process.exit(1);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      remote: { type: "boolean", default: false },
      local: { type: "boolean", default: false },
      "persist-to": { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  usageError(error.message);
}

if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
if (options.remote && options.local) usageError("Choose --remote or --local, not both.");
if (options.remote && options["persist-to"]) usageError("--persist-to is for the local database only.");
for (const name of ["from", "to"]) {
  if (options[name] !== undefined && !isDay(options[name])) {
    usageError(`--${name} must be a date written YYYY-MM-DD (got "${options[name]}").`);
  }
}
if (options.from && options.to && options.from > options.to) usageError("--to must not be before --from.");
if (!fs.existsSync(WRANGLER)) fail("wrangler is not installed: run `npm ci` first.");

const where = options.remote ? "remote" : "local";
const period = { from: options.from, to: options.to };
// One wrangler run (it takes seconds to start), three statements, three results in this order.
const sql = [linkReportQuery(period), revenueReportQuery(period), earningsReportQuery()]
  .map(inlineParams)
  .join(";\n");
const args = ["d1", "execute", "DB", `--${where}`, "--json", "--command", sql];
if (options["persist-to"]) args.push("--persist-to", path.resolve(options["persist-to"]));

/** wrangler --json prints the results array, or `{"error": {"text": …}}`, after any banner. */
function parseOutput(stdout) {
  const start = stdout.search(/^[[{]/m);
  if (start === -1) return null;
  try {
    return JSON.parse(stdout.slice(start));
  } catch {
    return null;
  }
}

// Its output is ours to read, not the terminal's.
const result = await runWrangler(args);
const output = parseOutput(result.stdout);
const errorText =
  output?.error?.text ?? (result.code === 0 ? null : `${result.stderr}\n${result.stdout}`.trim());

if (errorText !== null || !Array.isArray(output)) {
  const text = errorText ?? "wrangler printed no results.";
  // A column of migration 0004 (click quality): a database migrated before it has the views without it.
  const missing =
    /no such (?:table|view): ([a-z_]+)/.exec(text)?.[1] ??
    (/no such column: (?:[a-z]+\.)?(unique_hits|duplicate)\b/.exec(text) ? "unique_hits" : undefined);
  const hitTables = ["link_stats", "referral_links", "referral_hits", "confirmed_referrals"];
  const moneyTables = ["link_revenue", "referrer_earnings", "conversions", "reversals", "payouts"];
  if (missing === "unique_hits") {
    fail(
      `The ${where} database is not migrated: its views have no unique_hits yet (migrated before click quality).\n` +
        `  Run: npx wrangler d1 migrations apply DB --${where}` +
        (options["persist-to"] ? ` --persist-to ${options["persist-to"]}` : ""),
    );
  }
  if (missing && [...hitTables, ...moneyTables].includes(missing)) {
    fail(
      `The ${where} database is not migrated: ` +
        (hitTables.includes(missing)
          ? "it has no reflinks tables yet.\n"
          : `it has no ${missing} yet (migrated before the money tables).\n`) +
        `  Run: npx wrangler d1 migrations apply DB --${where}` +
        (options["persist-to"] ? ` --persist-to ${options["persist-to"]}` : "") +
        (where === "local" ? "\n  (npm start does it too.)" : "\n  (npm run deploy does it too.)"),
    );
  }
  fail(`Could not read the ${where} database (wrangler d1 execute exited with ${result.code}):\n${text}`);
}

if (output.length !== 3) fail(`wrangler answered ${output.length} results for 3 statements.`);

const rows = (output[0]?.results ?? []).map((row) => ({
  identifier: row.identifier,
  user_id: row.user_id,
  hits: row.hits,
  unique_hits: row.unique_hits,
  visitors: row.visitors,
  users: row.users,
  confirmed: row.confirmed,
}));

const revenue = (output[1]?.results ?? []).map((row) => ({
  identifier: row.identifier,
  currency: row.currency,
  conversions: row.conversions,
  revenue: row.revenue,
  commission: row.commission,
}));
const earnings = (output[2]?.results ?? []).map((row) => ({
  referrer_user_id: row.referrer_user_id,
  currency: row.currency,
  pending: row.pending,
  approved: row.approved,
  paid: row.paid,
  reversed: row.reversed,
  due: row.due,
}));

if (options.json) {
  console.log(JSON.stringify({ rows, revenue, earnings }, null, 2));
  process.exit(0);
}

/** Stored text made safe for a terminal (no escape sequences) and short enough for a column. */
function cell(value) {
  if (value === null || value === undefined) return "—";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
  const text = String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, "�");
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

const number = new Intl.NumberFormat("en-US");
const conversion = (row) =>
  row.visitors === null || row.visitors === 0 ? "—" : `${((100 * row.confirmed) / row.visitors).toFixed(1)}%`;
const periodText =
  options.from || options.to
    ? `${options.from ?? "the beginning"} to ${options.to ?? "today"} (UTC days)`
    : "all time (the link_stats view)";

/** Prints rows as a table: a header, a rule, one line each; numbers right-aligned. */
function printTable(columns, items) {
  const table = items.map((item) => columns.map((column) => column.value(item)));
  const widths = columns.map((column, i) =>
    Math.max(column.title.length, ...table.map((line) => line[i].length)),
  );
  const format = (line) =>
    line
      .map((text, i) => (columns[i].right ? text.padStart(widths[i]) : text.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  console.log(format(columns.map((column) => column.title)));
  console.log(format(widths.map((width) => "-".repeat(width))));
  for (const line of table) console.log(format(line));
}

/** An amount of minor units in its currency's own digits: 16000 EUR is `160.00`. */
const money = (key) => (row) => formatMinor(row[key], row.currency);

/** Per currency, the sums of `keys` over `items` (amounts of one currency only, ever). */
function perCurrency(items, keys) {
  const sums = new Map();
  for (const item of items) {
    const sum = sums.get(item.currency) ?? Object.fromEntries(keys.map((key) => [key, 0]));
    for (const key of keys) sum[key] += item[key];
    sums.set(item.currency, sum);
  }
  return [...sums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, sum]) => ({ currency, ...sum }));
}

console.log(`reflinks link report · ${where} database · ${periodText}\n`);
if (rows.length === 0) {
  console.log("No links yet. Create one with POST /_reflinks/links.");
} else {
  printTable(
    [
      { title: "link", value: (row) => cell(row.identifier) },
      { title: "owner", value: (row) => cell(row.user_id) },
      { title: "hits", value: (row) => number.format(row.hits), right: true },
      { title: "unique", value: (row) => number.format(row.unique_hits), right: true },
      {
        title: "visitors",
        value: (row) => (row.visitors === null ? "—" : number.format(row.visitors)),
        right: true,
      },
      { title: "users", value: (row) => (row.users === null ? "—" : number.format(row.users)), right: true },
      { title: "confirmed", value: (row) => number.format(row.confirmed), right: true },
      { title: "conversion", value: conversion, right: true },
    ],
    rows,
  );
  const hits = rows.reduce((sum, row) => sum + row.hits, 0);
  const unique = rows.reduce((sum, row) => sum + row.unique_hits, 0);
  const confirmed = rows.reduce((sum, row) => sum + row.confirmed, 0);
  console.log(
    `\n${number.format(rows.length)} ${rows.length === 1 ? "link" : "links"} · ${number.format(hits)} hits (${number.format(unique)} unique) · ` +
      `${number.format(confirmed)} confirmed referrals. Conversion: confirmed per visitor.`,
  );
}

const revenueSource = options.from || options.to ? "conversions made in the period" : "the link_revenue view";
console.log(`\nRevenue per link and currency · ${revenueSource}\n`);
if (revenue.length === 0) {
  console.log("No conversions. Record them with POST /_reflinks/conversions.");
} else {
  printTable(
    [
      { title: "link", value: (row) => cell(row.identifier) },
      { title: "currency", value: (row) => cell(row.currency) },
      { title: "conversions", value: (row) => number.format(row.conversions), right: true },
      { title: "revenue", value: money("revenue"), right: true },
      { title: "commission", value: money("commission"), right: true },
    ],
    revenue,
  );
  const totals = perCurrency(revenue, ["conversions", "revenue", "commission"]).map(
    (total) =>
      `${cell(total.currency)} ${formatMinor(total.revenue, total.currency)} revenue, ` +
      `${formatMinor(total.commission, total.currency)} commission`,
  );
  console.log(`\nAll links: ${totals.join(" · ")}.`);
  console.log(
    "Revenue: payments less refunds. Amounts in each currency's unit, never added across currencies.",
  );
}

console.log("\nEarnings per referrer and currency · as of now (the referrer_earnings view)\n");
if (earnings.length === 0) {
  console.log("No commissions yet.");
} else {
  printTable(
    [
      { title: "referrer", value: (row) => cell(row.referrer_user_id) },
      { title: "currency", value: (row) => cell(row.currency) },
      { title: "pending", value: money("pending"), right: true },
      { title: "approved", value: money("approved"), right: true },
      { title: "paid", value: money("paid"), right: true },
      { title: "reversed", value: money("reversed"), right: true },
      { title: "due", value: money("due"), right: true },
    ],
    earnings,
  );
  const due = perCurrency(earnings, ["due"]).filter((total) => total.due > 0);
  console.log(
    due.length === 0
      ? "\nNothing is due."
      : `\nDue now, all referrers: ${due.map((total) => `${cell(total.currency)} ${formatMinor(total.due, total.currency)}`).join(" · ")}. Pay with POST /_reflinks/payouts.`,
  );
  console.log("Due: approved and unpaid, less clawbacks of refunded payouts (GET /_reflinks/payouts/due).");
}
