#!/usr/bin/env node
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { runWranglerSync } from "../scripts/lib/wrangler.mjs";

const { values: args } = parseArgs({
  options: {
    hits: { type: "string", default: "1000000" },
    links: { type: "string", default: "200" },
    "archive-runs": { type: "string", default: "5" },
    // Longer history at the same daily traffic: D1 once archived should not grow with it.
    days: { type: "string", default: "365" },
  },
});
const HITS = Number(args.hits);
const LINKS = Number(args.links);
const DAYS = Number(args.days);
const TOKEN = "scale-bench-token";
const root = path.resolve(import.meta.dirname, "..");
const out = mkdtempSync(path.join(tmpdir(), "reflinks-scale-"));
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * The CPU time (user and system, ms) of this process's workerd children so far, from /proc
 * (Linux): the worker's JavaScript and, locally, D1's SQLite and R2's storage too, so an upper
 * bound of what a run costs the Worker (on Cloudflare, D1's queries run in D1). null elsewhere.
 */
function workerdCpuMs() {
  const TICK_MS = 10; // USER_HZ is 100 on Linux
  let total = 0;
  let found = false;
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue; // gone meanwhile
      }
      // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (!name.startsWith("workerd") || Number(fields[1]) !== process.pid) continue;
      found = true;
      total += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    }
  } catch {
    return null;
  }
  return found ? total : null;
}

const bundled = runWranglerSync(["deploy", "--dry-run", "--outdir", out]);
if (bundled.code !== 0)
  throw new Error(`wrangler deploy --dry-run failed:\n${bundled.stdout}${bundled.stderr}`);
const now = new Date();
const mf = new Miniflare({
  modules: true,
  scriptPath: path.join(out, "index.js"),
  modulesRoot: out,
  // The lazily loaded modules (lazy/*.js, imported by the main module) are ES modules too.
  modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
  compatibilityDate: "2026-04-20",
  d1Databases: ["DB"],
  r2Buckets: ["ARCHIVE"],
  bindings: {
    API_TOKEN: TOKEN,
    ARCHIVE_AFTER_DAYS: "90",
    ATTRIBUTION_WINDOW_DAYS: "90",
    DASHBOARD_HOST: "localhost",
  },
  d1Persist: path.join(out, "d1"),
  r2Persist: path.join(out, "r2"),
});
try {
  const db = await mf.getD1Database("DB");
  const migrations = readdirSync(path.join(root, "drizzle"))
    .filter((f) => f.endsWith(".sql"))
    .sort();
  const seedBefore = migrations.filter((f) => f < "0008");
  const apply = async (files) => {
    for (const file of files) {
      for (const statement of readFileSync(path.join(root, "drizzle", file), "utf8").split(
        "--> statement-breakpoint",
      )) {
        if (statement.trim()) await db.prepare(statement).run();
      }
    }
  };
  await apply(seedBefore);
  const start = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - DAYS * 86_400_000,
  );
  let t = process.hrtime.bigint();
  await db
    .prepare(
      `INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${LINKS})
     SELECT 'scale-' || i, 'owner-' || (i % 50), 0, '${start.toISOString()}', '${start.toISOString()}' FROM n`,
    )
    .run();
  // Hits spread evenly over the year, links skewed (link i gets a share ∝ 1/i), visitors reused.
  const chunk = 250_000;
  for (let done = 0; done < HITS; done += chunk) {
    const n = Math.min(chunk, HITS - done);
    await db
      .prepare(
        `INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, next, duplicate, created_at, updated_at)
       WITH RECURSIVE n(i) AS (SELECT ${done + 1} UNION ALL SELECT i + 1 FROM n WHERE i < ${done + n})
       SELECT printf('%08x-0000-4000-8000-%012x', i, i), 1 + (abs(random()) % ${LINKS}) * (abs(random()) % ${LINKS}) / ${LINKS},
         'anon-' || (abs(random()) % ${Math.max(1, Math.floor(HITS / 3))}), 0,
         CASE WHEN i % 10 = 0 THEN 'user-' || (i % 20000) END, '/', (i % 4 = 0),
         strftime('%Y-%m-%dT%H:%M:%fZ', '${start.toISOString()}', '+' || CAST((i - 1) * ${(DAYS * 86400) / HITS} AS INTEGER) || ' seconds'),
         strftime('%Y-%m-%dT%H:%M:%fZ', '${start.toISOString()}', '+' || CAST((i - 1) * ${(DAYS * 86400) / HITS} AS INTEGER) || ' seconds')
       FROM n`,
      )
      .run();
  }
  const seedMs = ms(t);
  t = process.hrtime.bigint();
  await apply(migrations.filter((f) => f >= "0008"));
  const backfillMs = ms(t);
  await db.prepare("ANALYZE").run();

  const from = start.toISOString().slice(0, 10);
  const to = now.toISOString().slice(0, 10);
  /** D1's size as D1 reports it after a statement (`meta.size_after`, what it bills), in MB. */
  const usedMb = async () => (await db.prepare("SELECT 1").run()).meta.size_after / 1e6;
  const request = async (p) => {
    const started = process.hrtime.bigint();
    const res = await mf.dispatchFetch(`http://localhost${p}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${p}: ${res.status} ${body.slice(0, 200)}`);
    return ms(started);
  };
  const median = async (p, runs = 5) => {
    await request(p);
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await request(p));
    return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
  };
  const span = DAYS === 365 ? "the year" : `${DAYS} days`;
  const reports = async (label) => {
    console.log(`  ${label}`);
    for (const [name, p] of [
      [`/reports/links, ${span}`, `/_reflinks/reports/links?from=${from}&to=${to}`],
      ["/reports/links, all time (link_stats)", "/_reflinks/reports/links"],
      [`/reports/daily, one link, ${span}`, `/_reflinks/reports/daily?link=scale-7&from=${from}&to=${to}`],
      [`/reports/daily, all links, ${span}`, `/_reflinks/reports/daily?from=${from}&to=${to}`],
    ]) {
      console.log(`    ${name.padEnd(42)} ${(await median(p)).toFixed(1).padStart(8)} ms`);
    }
  };
  console.log(
    `scale: ${HITS.toLocaleString("en")} hits, ${LINKS} links, ${DAYS} days (seeded in ${(seedMs / 1000).toFixed(1)} s, totals backfilled in ${(backfillMs / 1000).toFixed(1)} s)`,
  );
  await reports(`every hit in D1 (D1 uses ${(await usedMb()).toFixed(0)} MB)`);

  const worker = await mf.getWorker();
  let archived = 0;
  let deleted = 0;
  t = process.hrtime.bigint();
  const cpuBefore = workerdCpuMs();
  for (let run = 0; run < Number(args["archive-runs"]); run++) {
    await worker.scheduled({ scheduledTime: now, cron: "* * * * *" });
  }
  const archiveMs = ms(t);
  const cpuAfter = workerdCpuMs();
  const row = await db
    .prepare("SELECT COALESCE(SUM(rows), 0) AS hits, COUNT(*) AS days FROM archived_days")
    .first();
  archived = row.hits;
  const left = await db.prepare("SELECT COUNT(*) AS n FROM referral_hits").first();
  deleted = HITS - left.n;
  console.log(
    `  archive job: ${args["archive-runs"]} runs, ${row.days} days, ${archived.toLocaleString("en")} hits written, ` +
      `${deleted.toLocaleString("en")} deleted in ${(archiveMs / 1000).toFixed(1)} s: ` +
      `${Math.round(archived / (archiveMs / 1000)).toLocaleString("en")} hits/s written and deleted (whole runs)`,
  );
  if (cpuBefore !== null && cpuAfter !== null) {
    const perRun = (cpuAfter - cpuBefore) / Number(args["archive-runs"]);
    console.log(
      `    CPU at most ${Math.round(perRun).toLocaleString("en")} ms a run (workerd's, D1's SQLite included)`,
    );
  }
  // The days before the window, as if the archive had caught up: visitors and users are then null.
  await db
    .prepare(
      `INSERT INTO archived_days (day, object, rows, sha256, archived_at, deleted_at)
     SELECT DISTINCT day, 'hits/day=' || day || '/part-0.parquet', 0, '', '${now.toISOString()}', '${now.toISOString()}'
     FROM link_daily_totals WHERE day < date('${to}', '-90 days') ON CONFLICT DO NOTHING`,
    )
    .run();
  await reports("days older than 90 recorded as archived (distinct counts null there)");

  // Where the archive job ends once it has caught up: those days' hits deleted (it deletes them
  // in bounded batches, ARCHIVE_LIMITS; here at once, the end state being what is measured).
  t = process.hrtime.bigint();
  const emptied = await db
    .prepare(`DELETE FROM referral_hits WHERE created_at < date('${to}', '-90 days')`)
    .run();
  const emptyMs = ms(t);
  await db.prepare("ANALYZE").run();
  const kept = await db.prepare("SELECT COUNT(*) AS n FROM referral_hits").first();
  await reports(
    `the archive caught up: ${emptied.meta.changes.toLocaleString("en")} old hits deleted in ` +
      `${(emptyMs / 1000).toFixed(1)} s, ${kept.n.toLocaleString("en")} kept (D1 uses ${(await usedMb()).toFixed(0)} MB)`,
  );
} finally {
  await mf.dispose();
  rmSync(out, { recursive: true, force: true });
}
