// `npm run import:django -- dump.json [--remote]`: moves a django-reflinks site's links, hits and
// confirmed referrals into D1, keeping their ids and timestamps. Idempotent: a second run adds
// nothing. The mapping is scripts/lib/django-dump.mjs; this file reads, runs wrangler, reports.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DumpError, dumpToSql } from "./lib/django-dump.mjs";
import { runWranglerSync } from "./lib/wrangler.mjs";

const USAGE = `Usage: npm run import:django -- <dump.json> [options]

Imports the output of \`python manage.py dumpdata django_reflinks auth.user > dump.json\`:
links, hits (with their UUIDs and timestamps) and confirmed referrals. Running it again imports
nothing twice.

  --remote             write to the deployed database (needs \`wrangler login\` or CLOUDFLARE_API_TOKEN)
  --local              write to the local database of \`wrangler dev\` / \`npm start\` (the default)
  --persist-to <dir>   the local database's directory, as for wrangler (default .wrangler/state)
  --event <name>       the event imported confirmations are recorded under (default signup)
  --sql                print the SQL instead of running it
  -h, --help           this help`;

function fail(message, code = 1) {
  console.error(`✖ ${message}`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      remote: { type: "boolean", default: false },
      local: { type: "boolean", default: false },
      "persist-to": { type: "string" },
      event: { type: "string", default: "signup" },
      sql: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (error) {
  fail(`${error.message}\n\n${USAGE}`, 2);
}
const { values: options, positionals } = parsed;
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length !== 1) fail(`give one dump file\n\n${USAGE}`, 2);
if (options.remote && (options.local || options["persist-to"]))
  fail("--remote cannot go with --local or --persist-to", 2);

const file = positionals[0];
let dump;
try {
  dump = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (error) {
  fail(`cannot read ${file}: ${error.message}`);
}

let result;
try {
  result = dumpToSql(dump, { event: options.event });
} catch (error) {
  if (error instanceof DumpError) fail(`${file}: ${error.message}. Nothing was imported.`);
  throw error;
}
const { statements, counts } = result;
if (options.sql) {
  console.log(statements.join("\n"));
  process.exit(0);
}

const COUNT =
  "SELECT (SELECT COUNT(*) FROM referral_links) AS links, (SELECT COUNT(*) FROM referral_hits) AS hits, " +
  "(SELECT COUNT(*) FROM confirmed_referrals) AS confirmations";
const target = options.remote
  ? ["--remote"]
  : ["--local", ...(options["persist-to"] ? ["--persist-to", options["persist-to"]] : [])];

function wrangler(args) {
  const run = runWranglerSync(["d1", "execute", "DB", ...target, "--yes", "--json", ...args]);
  if (run.code !== 0) fail(`wrangler d1 execute failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}
function totals() {
  const out = wrangler(["--command", COUNT]);
  const rows = JSON.parse(out.slice(out.search(/[[{]/))).at(-1).results;
  return rows[0];
}

const before = totals();
// One file, run as one batch by wrangler: the statements are each idempotent, so a run cut short is
// simply run again.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reflinks-import-"));
const sqlFile = path.join(dir, "import.sql");
fs.writeFileSync(sqlFile, `${statements.join("\n")}\n`);
try {
  wrangler(["--file", sqlFile]);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const after = totals();
const line = (label, key) =>
  `  ${label.padEnd(14)} ${String(counts[key]).padStart(7)} in the dump, ${String(after[key] - before[key]).padStart(7)} new`;
console.log(`Imported ${file} into the ${options.remote ? "remote" : "local"} database:`);
console.log(line("links", "links"));
console.log(line("hits", "hits"));
console.log(line("confirmations", "confirmations"));
