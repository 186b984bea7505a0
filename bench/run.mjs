// `npm run bench`: how much the worker costs compared with the least a worker could do.
//
// Starts the demo origin, the project's worker and four baseline workers (bench/baselines/):
// (a) a bare `fetch` passthrough, (b) a 302 with a cookie, (c) a 302 with a cookie and one awaited
// D1 insert, (d) the simplest Hono proxy (one `app.all("*")` route, built with our own `hono`).
// All of them run the same way (bench/serve.mjs: wrangler's Miniflare, a direct socket, the
// project's wrangler.toml settings), the project from the bundle `wrangler deploy` would upload.
// Each scenario alternates the project and its baselines round by round (medians are reported),
// driven by autocannon with a real browser's User-Agent. The page views (proxied, and with an
// unknown `?ref=`) are also loaded by `wrk` (Debian's package; skipped with a note when it is not
// installed), pinned to one CPU with `taskset`, right after autocannon in each round: its p99 is
// the tail the page-view target of docs/performance.md#the-page-view-tail is judged by. One scenario runs the project a second
// time with `HITS_QUEUE` bound (Miniflare's local Queues, consumed by the same worker). Then a
// 200 MiB download goes through the project and through (a) while the workerd process's memory is
// sampled. Before any of that: the deploy bundle's sizes, raw and gzipped (the main module every
// isolate loads, each lazily loaded module, the whole upload), and its startup CPU (`wrangler
// check startup`), each against a budget; a budget exceeded fails the bench.
//
//   npm run bench                       6 rounds of 3 s per worker and scenario (about 6 minutes)
//   npm run bench -- --quick            1 round of 2 s (about 2 minutes): the smoke test's run
//   npm run bench -- --rounds 5 --seconds 10 --connections 32 --download-mb 500
//   npm run bench -- --only passthrough,unknown-ref      some scenarios (and "download", "startup")
//   npm run bench -- --verbose          also prints every round of every worker as it ends
//   npm run bench -- --before /tmp/before               also runs the worker of another checkout
//       (a `git worktree add /tmp/before <rev>` with node_modules linked), interleaved round by
//       round in every scenario, so a change is measured against its parent in one run
//   npm run bench -- --variant bench/variants/plain-dispatcher.ts   also runs another entry point
//       built with this project's wrangler.toml (repeatable), e.g. the plain dispatcher the Hono
//       front replaced
//
// Nothing remote: wrangler runs only `deploy --dry-run` (to bundle) and `d1 … --local`.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import zlib from "node:zlib";
import autocannon from "autocannon";
import { runWrangler, wranglerEnv } from "../scripts/lib/wrangler.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HERE = path.join(ROOT, "bench");

/** A real desktop browser: `isbot` lets it through, so referral visits record hits. */
const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/** What Cloudflare would add: the project stores it with each hit and forwards it to the origin. */
const CLIENT_IP = "203.0.113.7";
const LINK = "bench";
const API_TOKEN = "bench-token";
const READY_TIMEOUT_MS = 90_000;
const MiB = 1024 * 1024;

// Child processes: each in its own process group, all of them stopped however this one ends.
/** @type {Set<import("node:child_process").ChildProcess>} */
const children = new Set();
let tmp = null;
let shuttingDown = false;

const OPTIONS = {
  quick: { type: "boolean", default: false },
  rounds: { type: "string" },
  seconds: { type: "string" },
  connections: { type: "string" },
  "download-mb": { type: "string" },
  only: { type: "string" },
  before: { type: "string" },
  variant: { type: "string", multiple: true, default: [] },
  verbose: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
};
let args = {};
try {
  args = parseArgs({ options: OPTIONS }).values;
} catch (error) {
  fail(`${error.message} (npm run bench -- --help)`);
}
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0]);
  process.exit(0);
}

function positive(name, raw, fallback) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(value > 0) || !Number.isFinite(value)) fail(`--${name} must be a positive number, got "${raw}".`);
  return value;
}

const ROUNDS = Math.round(positive("rounds", args.rounds, args.quick ? 1 : 6));
const SECONDS = positive("seconds", args.seconds, args.quick ? 2 : 3);
const WARMUP_SECONDS = args.quick ? 0.5 : 1;
const CONNECTIONS = Math.round(positive("connections", args.connections, 16));
const DOWNLOAD_MB = Math.round(positive("download-mb", args["download-mb"], 200));
const ONLY = args.only?.split(",").map((name) => name.trim());

// `migrations apply` would otherwise ask for confirmation in a terminal.
const WRANGLER_ENV = wranglerEnv({ CI: "true" });

// ---------------------------------------------------------------------------------------------

function fail(message) {
  // Once stopping (Ctrl-C), what fails next is only the consequence.
  if (shuttingDown) return;
  console.error(`\n✖ ${message}`);
  process.exitCode = 1;
  shutdown();
}

function killGroups(signal) {
  for (const child of children) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

function shutdown() {
  if (shuttingDown) return;
  shuttingDown = true;
  killGroups("SIGTERM");
  const done = () => {
    killGroups("SIGKILL");
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    process.exit();
  };
  if (children.size === 0) return done();
  const force = setTimeout(done, 3000);
  const check = setInterval(() => {
    if (children.size > 0) return;
    clearInterval(check);
    clearTimeout(force);
    done();
  }, 50);
}

process.on("SIGINT", () => {
  console.error("\nInterrupted: stopping the workers and the origin.");
  process.exitCode = 130;
  shutdown();
});
process.on("SIGTERM", () => {
  process.exitCode = 143;
  shutdown();
});
// Last resort (an uncaught error): never leave a worker running.
process.on("exit", () => {
  killGroups("SIGKILL");
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Starts a long-running child in its own group; keeps the tail of its output for errors. */
function startChild(label, argv, env = process.env) {
  if (shuttingDown) throw new Error("stopping");
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  children.add(child);
  child.output = "";
  const keep = (chunk) => {
    child.output = (child.output + chunk).slice(-8000);
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  child.once("exit", (code, signal) => {
    children.delete(child);
    if (!shuttingDown) fail(`${label} exited (${signal ?? `code ${code}`}):\n${child.output.trim()}`);
  });
  return child;
}

/** Resolves with the first stdout line that `parse` accepts (returns non-undefined for). */
function waitForLine(label, child, parse) {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(
      () => reject(new Error(`${label} was not ready within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    const onData = (chunk) => {
      buffer += chunk;
      for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
        const value = parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        if (value !== undefined) {
          clearTimeout(timer);
          child.stdout.off("data", onData);
          return resolve(value);
        }
      }
    };
    child.stdout.on("data", onData);
  });
}

/** Runs wrangler to completion (in `cwd`, a checkout); throws with its output when it fails. */
async function wrangler(argv, cwd = ROOT) {
  if (shuttingDown) throw new Error("stopping");
  const { code, output } = await runWrangler(argv, {
    cwd,
    env: { CI: "true" },
    detached: true,
    onSpawn: (child) => {
      children.add(child);
      child.once("close", () => children.delete(child));
    },
  });
  if (code !== 0) throw new Error(`wrangler ${argv.slice(0, 3).join(" ")} exited with ${code}:\n${output}`);
  return output;
}

// ---------------------------------------------------------------------------------------------
// Setting up: bundle, D1, origin, workers.

async function prepareDatabase(dir) {
  await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", dir]);
  const now = "2026-01-01T00:00:00.000Z";
  // Link id 1: baseline (c) inserts its hits for it.
  await wrangler([
    ...["d1", "execute", "DB", "--local", "--persist-to", dir, "--command"],
    "INSERT INTO referral_links (id, identifier, user_id, disabled, created_at, updated_at) " +
      `VALUES (1, '${LINK}', 'alice', 0, '${now}', '${now}')`,
  ]);
}

async function startOrigin() {
  const child = startChild("The demo origin", [path.join(ROOT, "demo", "origin.mjs")], {
    ...process.env,
    DEMO_ORIGIN_PORT: "0",
  });
  return waitForLine("The demo origin", child, (line) => line.match(/(http:\/\/\S+)/)?.[1]);
}

async function startWorker(label, options) {
  const child = startChild(label, [path.join(HERE, "serve.mjs"), JSON.stringify(options)], WRANGLER_ENV);
  const ready = await waitForLine(label, child, (line) => {
    try {
      const value = JSON.parse(line);
      return value.ready ? value : undefined;
    } catch {
      return undefined;
    }
  });
  // Its CPU time and memory are what the table reports.
  if (!ready.workerd) throw new Error(`${label}: no workerd process found among its children`);
  return { label, url: ready.url, workerdPid: ready.workerd };
}

/** One request, to check a worker answers a scenario as expected before loading it. */
function probe(url, headers) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers }));
      })
      .on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring.

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * A response slower than this waited for a stall, not for its own work (every worker answers a
 * page view in a few ms here): its share shows how close a p99 is to jumping from one to the other.
 */
const SLOW_MS = 20;

/** The share of `sorted` (ascending) above `limit`. */
function shareOver(sorted, limit) {
  if (sorted.length === 0) return 0;
  let first = sorted.length;
  while (first > 0 && sorted[first - 1] > limit) first--;
  return (sorted.length - first) / sorted.length;
}

/** CPU time (user + system, all threads) the process has used so far, in ms. */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** One autocannon run; every response timed (autocannon's own histogram skips non-2xx). */
function load(url, seconds, expectedStatus) {
  return new Promise((resolve, reject) => {
    const times = [];
    const statuses = new Map();
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: seconds,
        headers: { "user-agent": BROWSER_UA, "cf-connecting-ip": CLIENT_IP, accept: "text/html" },
      },
      (error, result) => {
        if (error) return reject(error);
        times.sort((a, b) => a - b);
        const unexpected = [...statuses].filter(([status]) => status !== expectedStatus);
        resolve({
          rps: times.length / result.duration,
          p50: percentile(times, 50),
          p99: percentile(times, 99),
          slow: shareOver(times, SLOW_MS),
          slowest: times.at(-1) ?? 0,
          answered: statuses.get(expectedStatus) ?? 0,
          sent: result.requests.sent,
          problems:
            result.errors + result.timeouts > 0 || unexpected.length > 0
              ? `${result.errors} errors, ${result.timeouts} timeouts, statuses ${JSON.stringify(Object.fromEntries(statuses))}`
              : null,
        });
      },
    );
    instance.on("response", (_client, status, _bytes, time) => {
      times.push(time);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
  });
}

/**
 * `wrk`, when installed, and the CPU it is pinned to: the last one, so that it competes with the
 * workers and the origin for one core only, as the issue that asked for it measured (issue 24).
 */
const WRK = commandPath("wrk");
const TASKSET = commandPath("taskset");
const WRK_CPU = os.cpus().length - 1;

/** The absolute path of `command` on PATH, or null. */
function commandPath(command) {
  const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() || null : null;
}

/** wrk's durations ("812.00us", "23.45ms", "1.20s") in ms. */
function wrkMs(value, unit) {
  return Number(value) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit];
}

/** One wrk run, one thread and `CONNECTIONS` connections: its p99 and throughput. */
function wrkLoad(url, seconds, expectedStatus) {
  const argv = [
    // wrk takes whole seconds.
    ...["-t1", `-c${CONNECTIONS}`, `-d${Math.max(1, Math.round(seconds))}s`, "--latency"],
    ...["-H", `User-Agent: ${BROWSER_UA}`, "-H", `CF-Connecting-IP: ${CLIENT_IP}`, "-H", "Accept: text/html"],
    url,
  ];
  const [command, ...rest] = TASKSET ? [TASKSET, "-c", String(WRK_CPU), WRK, ...argv] : [WRK, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command, rest, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.once("error", reject);
    child.once("close", (code) => {
      const p99 = output.match(/^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m);
      const rps = output.match(/^Requests\/sec:\s+([\d.]+)/m);
      const requests = output.match(/^\s*(\d+) requests in /m);
      const trouble = output.match(/Socket errors:.*|Non-2xx or 3xx responses: \d+/g);
      // wrk counts a 302 as success: only the page views (200) are loaded with it.
      if (code !== 0 || !p99 || !rps || !requests || expectedStatus !== 200) {
        return reject(new Error(`wrk on ${url} (exit ${code}):\n${output}`));
      }
      resolve({
        p99: wrkMs(p99[1], p99[2]),
        rps: Number(rps[1]),
        problems: trouble ? trouble.join("; ") : null,
      });
    });
  });
}

/** A project worker's recorded hits for the bench link, through its own API. */
async function recordedHits(project) {
  const res = await fetch(`${project.url}/_reflinks/links/${LINK}`, {
    headers: { Authorization: `Bearer ${API_TOKEN}` },
  });
  if (!res.ok) throw new Error(`GET /_reflinks/links/${LINK} answered ${res.status}`);
  return (await res.json()).stats.hits;
}

/**
 * Counts the hits a project worker should have stored: at least one per 302 received, at most one
 * per request sent (autocannon stops with requests in flight, which the worker may still complete).
 * `probed`: the hits the probes recorded, waited for first (the queue's consumer stores them a
 * batch timeout later).
 */
async function hitLedger(project, probed) {
  const since = performance.now();
  let low = await recordedHits(project);
  while (low < probed && performance.now() - since < 30_000) {
    await sleep(50);
    low = await recordedHits(project);
  }
  if (low !== probed) throw new Error(`${project.label} stored ${low} hits for ${probed} probes`);
  let high = low;
  return {
    /** Waits until the hits of `run` are stored; how long that took after the run, in ms. */
    async drain(run) {
      low += run.answered;
      high += run.sent;
      const since = performance.now();
      let recorded = await recordedHits(project);
      while (recorded < low && performance.now() - since < 30_000) {
        await sleep(50);
        recorded = await recordedHits(project);
      }
      if (recorded < low || recorded > high) {
        throw new Error(`the project stored ${recorded} hits; expected ${low} to ${high}`);
      }
      low = recorded;
      return performance.now() - since;
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN);
}

/** Downloads `mb` MiB through `worker`, discarding it, while sampling its workerd's RSS. */
async function download(worker, mb) {
  await sleep(300);
  const before = rssKiB(worker.workerdPid);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssKiB(worker.workerdPid));
  }, 20);
  const started = performance.now();
  const bytes = await new Promise((resolve, reject) => {
    http
      .get(`${worker.url}/download?mb=${mb}`, { headers: { "user-agent": BROWSER_UA } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${worker.label}: download answered ${res.statusCode}`));
        let received = 0;
        res.on("data", (chunk) => {
          received += chunk.length;
        });
        res.on("end", () => resolve(received));
        res.on("error", reject);
      })
      .on("error", reject);
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, rssKiB(worker.workerdPid));
  if (bytes !== mb * MiB) throw new Error(`${worker.label}: downloaded ${bytes} bytes of ${mb * MiB}`);
  return { mibps: mb / seconds, seconds, beforeMiB: before / 1024, deltaMiB: (peak - before) / 1024 };
}

/** The script `wrangler deploy --dry-run --outdir` wrote: named after the entry point. */
function bundledScript(dir) {
  const name = fs.readdirSync(dir).find((file) => file.endsWith(".js"));
  if (!name) throw new Error(`no script in ${dir}`);
  return path.join(dir, name);
}

// ---------------------------------------------------------------------------------------------
// The bundle: size and startup CPU, against budgets.

/**
 * The deploy bundle's sizes, gzipped, and its startup CPU here: budgets that fail the bench when
 * exceeded, and the size target of issue 16. The upload is a main module (src/index.ts's bundle:
 * the front, the proxy, referral links, hit writing, the configuration), which every isolate
 * parses and evaluates at startup, and lazily loaded modules (src/lazy/*.js, scripts/build-lazy.mjs:
 * the API and dashboard, the archive's Parquet code), parsed only by an isolate that imports one.
 * So the 100 KiB target of issue 16 (docs/performance.md#the-bundle-and-startup) is the main module's budget, what
 * startup and every page view's isolate pay for; the whole upload has a generous budget of its own
 * (Cloudflare's limit is far above it), which catches a dependency pulled in whole by mistake
 * (zod's locales: +60 KiB). On 2026-12-07 the main module weighed 54 KiB (the one script before
 * the split: 145 KiB) and the whole upload 180 KiB (the API bundle carries its own copies of hono,
 * drizzle and zod); startup took 20-26 ms here, 55 ms before the split, when the one script held
 * every module.
 * Startup is judged by the least of a few runs: a busy machine only ever adds to it.
 */
const BUNDLE_BUDGET_GZIP_KIB = 100;
const BUNDLE_TARGET_GZIP_KIB = 100;
const UPLOAD_BUDGET_GZIP_KIB = 300;
const STARTUP_BUDGET_MS = 100;
const STARTUP_RUNS = args.quick ? 2 : 3;

/** Every JavaScript module `wrangler deploy --dry-run --outdir` wrote (source maps excluded), by name. */
function modulesIn(dir, prefix = "") {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory()) return modulesIn(path.join(dir, entry.name), `${name}/`);
    return /\.m?js$/.test(entry.name) ? [name] : [];
  });
}

/**
 * The bundle's sizes: each module's own, gzipped at level 6 (the main module's is the budget's),
 * and the whole upload's as `wrangler deploy` reports it ("Total Upload: 628.53 KiB / gzip: 179.76
 * KiB", what Cloudflare's limits count), else the modules' sum.
 */
function bundleSizes(deployOutput, dir) {
  const modules = modulesIn(dir).map((name) => {
    const bytes = fs.readFileSync(path.join(dir, name));
    return { name, raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 6 }).length };
  });
  const main = modules.find((module) => module.name === "index.js");
  if (!main) throw new Error(`no index.js in ${dir}`);
  const lazy = modules.filter((module) => module !== main);
  const reported = deployOutput.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
  const total = reported
    ? { raw: Number(reported[1]) * 1024, gzip: Number(reported[2]) * 1024 }
    : {
        raw: modules.reduce((sum, module) => sum + module.raw, 0),
        gzip: modules.reduce((sum, module) => sum + module.gzip, 0),
      };
  return { main, lazy, total };
}

/**
 * The startup phase's CPU time: `wrangler check startup` profiles the bundle's evaluation (the top
 * level of every module) in workerd; the busy samples' time, idle excluded. The least and the
 * median of a few runs.
 */
async function startupCpuMs() {
  const runs = [];
  for (let run = 0; run < STARTUP_RUNS; run++) {
    const file = path.join(tmp, `startup-${run}.cpuprofile`);
    await wrangler(["check", "startup", "--outfile", file]);
    const profile = JSON.parse(fs.readFileSync(file, "utf8"));
    const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
    let busyUs = 0;
    profile.samples.forEach((id, i) => {
      if (!idle.has(id)) busyUs += profile.timeDeltas[i];
    });
    runs.push(busyUs / 1000);
  }
  return { least: Math.min(...runs), median: median(runs) };
}

// ---------------------------------------------------------------------------------------------
// The run.

const SCENARIOS = [
  {
    key: "passthrough",
    title: "page view, proxied: GET /pricing",
    path: "/pricing",
    status: 200,
    against: ["a", "d"],
    wrk: true,
  },
  {
    key: "ref-hit",
    title: "referral link hit: GET /ref/bench?next=/pricing",
    path: `/ref/${LINK}?next=/pricing`,
    status: 302,
    against: ["b", "c"],
    hits: true,
  },
  {
    key: "param-hit",
    title: "?ref= hit: GET /pricing?ref=bench&utm_source=x",
    path: `/pricing?ref=${LINK}&utm_source=x`,
    status: 302,
    against: ["c"],
    hits: true,
  },
  {
    key: "unknown-ref",
    title: "unknown ?ref=, proxied: GET /pricing?ref=nobody",
    path: "/pricing?ref=nobody",
    status: 200,
    against: ["a", "d"],
    wrk: true,
  },
  {
    key: "queue-hit",
    title: "referral link hit, HITS_QUEUE bound: GET /ref/bench?next=/pricing",
    path: `/ref/${LINK}?next=/pricing`,
    status: 302,
    // The queue worker against the direct-write project and the bare 302s.
    subject: "queue",
    alongside: ["project"],
    against: ["b", "c"],
    versus: { queue: ["project"] },
    hits: true,
  },
  {
    key: "dedupe-hit",
    title:
      "referral link hit, the dedupe check on (DEDUPE_SECONDS=3600) and off (0): GET /ref/bench?next=/pricing",
    path: `/ref/${LINK}?next=/pricing`,
    status: 302,
    // The same build twice, differing only in DEDUPE_SECONDS: what the duplicate lookup inside the
    // hit insert costs. Every click is a new visitor here, so the lookup runs and finds nothing.
    alongside: ["nodedupe"],
    against: ["c"],
    versus: { project: ["nodedupe"] },
    hits: true,
  },
];

const EXTRA_KEYS = ["download", "startup"];
const SELECTED = ONLY ? SCENARIOS.filter((scenario) => ONLY.includes(scenario.key)) : SCENARIOS;
const unknown = ONLY?.filter((name) => !EXTRA_KEYS.includes(name) && !SCENARIOS.some((s) => s.key === name));
if (unknown?.length) {
  fail(
    `--only takes ${[...SCENARIOS.map((s) => s.key), ...EXTRA_KEYS].join(", ")}; not ${unknown.join(", ")}.`,
  );
}
const wants = (name) => !ONLY || ONLY.includes(name);

const BASELINES = {
  a: "(a) bare fetch passthrough",
  b: "(b) bare 302 + cookie",
  c: "(c) bare 302 + cookie + awaited D1 insert",
  d: '(d) Hono app.all("*") passthrough',
};
const isBaseline = (name) => name in BASELINES;

/** The project's other builds run in every scenario but the queue's: `--before` and `--variant`s. */
const EXTRAS = [
  ...(args.before
    ? [{ name: "before", label: "reflinks before (--before)", dir: path.resolve(args.before) }]
    : []),
  ...args.variant.map((entry) => ({
    name: `variant:${path.basename(entry).replace(/\.[jt]s$/, "")}`,
    label: `variant ${path.basename(entry)}`,
    entry: path.resolve(entry),
  })),
];
const LABELS = {
  project: "reflinks",
  queue: "reflinks with HITS_QUEUE",
  nodedupe: "reflinks, DEDUPE_SECONDS=0",
  ...BASELINES,
  ...Object.fromEntries(EXTRAS.map((extra) => [extra.name, extra.label])),
};

function contendersOf(scenario) {
  const subject = scenario.subject ?? "project";
  const alongside = scenario.alongside ?? EXTRAS.map((extra) => extra.name);
  return [subject, ...alongside, ...scenario.against];
}

/** The local queue: what docs/scaling.md's wrangler.toml snippet declares, with a short batch timeout. */
const QUEUE = "reflinks-hits";
const QUEUE_OPTIONS = {
  queueProducers: { HITS_QUEUE: { queueName: QUEUE } },
  queueConsumers: { [QUEUE]: { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 } },
};

async function main() {
  const started = performance.now();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "reflinks-bench-"));
  const load1 = os.loadavg()[0];
  const versions = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/wrangler/package.json"), "utf8"));
  console.log(
    `reflinks benchmark: ${ROUNDS} round(s) × ${SECONDS} s per worker and scenario, ${CONNECTIONS} connections; ` +
      `Node ${process.version}, wrangler ${versions.version}, ${os.cpus().length} CPUs, load ${load1.toFixed(2)}`,
  );

  process.stdout.write("• Bundling the worker and migrating D1… ");
  const template = path.join(tmp, "d1-template");
  const bundles = { project: path.join(tmp, "bundle"), d: path.join(tmp, "bundle-d") };
  for (const extra of EXTRAS) bundles[extra.name] = path.join(tmp, `bundle-${extra.name.replace(":", "-")}`);
  const [deployOutput] = await Promise.all([
    wrangler(["deploy", "--dry-run", "--outdir", bundles.project]),
    ...EXTRAS.map((extra) =>
      extra.dir
        ? wrangler(["deploy", "--dry-run", "--outdir", bundles[extra.name]], extra.dir)
        : wrangler(["deploy", "--dry-run", extra.entry, "--outdir", bundles[extra.name]]),
    ),
    wrangler([
      "deploy",
      "--dry-run",
      path.join(HERE, "baselines", "hono-passthrough.ts"),
      "--outdir",
      bundles.d,
    ]),
    prepareDatabase(template),
  ]);
  const names = ["project", "queue", "nodedupe", ...EXTRAS.map((extra) => extra.name), "a", "b", "c", "d"];
  for (const name of names)
    fs.cpSync(template, path.join(tmp, `d1-${name.replace(":", "-")}`), { recursive: true });
  console.log("done");

  const bundle = bundleSizes(deployOutput, bundles.project);
  let startupMs = null;
  if (wants("startup")) {
    process.stdout.write(`• Measuring startup CPU (wrangler check startup, ${STARTUP_RUNS} runs)… `);
    startupMs = await startupCpuMs();
    console.log("done");
  }

  process.stdout.write("• Starting the demo origin and the workers… ");
  const originUrl = await startOrigin();
  const vars = { ORIGIN_URL: originUrl };
  const baseline = (name) => path.join(HERE, "baselines", name);
  const persist = (name) => path.join(tmp, `d1-${name.replace(":", "-")}`);
  const project = (name, script, extra = {}) =>
    startWorker(LABELS[name], { script, persist: persist(name), vars: { ...vars, API_TOKEN }, ...extra });
  const needs = (name) => SELECTED.some((scenario) => contendersOf(scenario).includes(name));
  const started_ = await Promise.all([
    project("project", path.join(bundles.project, "index.js")),
    needs("queue")
      ? project("queue", path.join(bundles.project, "index.js"), { miniflare: QUEUE_OPTIONS })
      : null,
    needs("nodedupe")
      ? project("nodedupe", path.join(bundles.project, "index.js"), {
          vars: { ...vars, API_TOKEN, DEDUPE_SECONDS: "0" },
        })
      : null,
    ...EXTRAS.map((extra) => project(extra.name, bundledScript(bundles[extra.name]))),
    startWorker("(a)", { script: baseline("passthrough.js"), persist: persist("a"), vars }),
    startWorker("(b)", { script: baseline("redirect-cookie.js"), persist: persist("b"), vars }),
    startWorker("(c)", { script: baseline("redirect-d1.js"), persist: persist("c"), vars }),
    needs("d") ? startWorker("(d)", { script: bundledScript(bundles.d), persist: persist("d"), vars }) : null,
  ]);
  const workers = Object.fromEntries(names.map((name, i) => [name, started_[i]]).filter(([, w]) => w));
  console.log("done");

  // A scenario that answers wrongly would measure the wrong thing: check each once first.
  const headers = { "user-agent": BROWSER_UA, "cf-connecting-ip": CLIENT_IP };
  for (const scenario of SELECTED) {
    for (const name of contendersOf(scenario)) {
      const { status, headers: got } = await probe(`${workers[name].url}${scenario.path}`, headers);
      const cookie = scenario.hits && !String(got["set-cookie"] ?? "").includes("reflinks_rk=");
      if (status !== scenario.status || cookie) {
        throw new Error(
          `${workers[name].label} answered ${status} to ${scenario.path} (expected ${scenario.status}` +
            `${scenario.hits ? " with a reflinks_rk cookie" : ""})`,
        );
      }
    }
  }
  // Every project worker that records hits has its own database, and so its own ledger.
  const probed = {};
  for (const scenario of SELECTED.filter((s) => s.hits)) {
    for (const name of contendersOf(scenario).filter((n) => !isBaseline(n))) {
      probed[name] = (probed[name] ?? 0) + 1;
    }
  }
  const ledgers = {};
  for (const [name, count] of Object.entries(probed)) ledgers[name] = await hitLedger(workers[name], count);

  const results = {};
  for (const scenario of SELECTED) {
    const contenders = contendersOf(scenario);
    const projects = contenders.filter((name) => !isBaseline(name));
    console.log(`• ${scenario.title}`);
    const runs = Object.fromEntries(contenders.map((name) => [name, []]));
    const drainMs = {};
    const measure = async (name, seconds) => {
      const worker = workers[name];
      const cpuBefore = cpuMs(worker.workerdPid);
      const run = await load(`${worker.url}${scenario.path}`, seconds, scenario.status);
      if (run.problems) throw new Error(`${worker.label} on ${scenario.path}: ${run.problems}`);
      // Hits are written after the response (waitUntil, or the queue's consumer): let them land
      // before the next round, so that no one else's round pays for them, and check that none was
      // lost and none stored twice. The CPU that writing them took is counted in this run's.
      if (scenario.hits && ledgers[name]) {
        drainMs[name] = Math.max(drainMs[name] ?? 0, await ledgers[name].drain(run));
      }
      // The CPU its workerd used per request (D1 included): other load on the machine disturbs it
      // much less than it disturbs throughput.
      run.cpuUs = ((cpuMs(worker.workerdPid) - cpuBefore) * 1000) / run.answered;
      if (scenario.wrk && WRK) {
        run.wrk = await wrkLoad(`${worker.url}${scenario.path}`, seconds, scenario.status);
        if (run.wrk.problems)
          throw new Error(`${worker.label} on ${scenario.path} (wrk): ${run.wrk.problems}`);
      }
      return run;
    };
    for (const name of contenders) await measure(name, WARMUP_SECONDS);
    for (const name of projects) drainMs[name] = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate who goes first, so that no one always runs on a freshly idle machine.
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
      for (const name of order) {
        const run = await measure(name, SECONDS);
        runs[name].push(run);
        if (args.verbose) {
          console.log(
            `  round ${round + 1} ${LABELS[name]}: ${fixed(run.rps, 0)} req/s, p50 ${fixed(run.p50, 2)} ms, ` +
              `p99 ${fixed(run.p99, 2)} ms, ${fixed(100 * run.slow, 2)}% over ${SLOW_MS} ms, ` +
              `the slowest ${fixed(run.slowest, 1)} ms, ${fixed(run.cpuUs, 0)} µs CPU` +
              (run.wrk ? `; wrk ${fixed(run.wrk.rps, 0)} req/s, p99 ${fixed(run.wrk.p99, 2)} ms` : ""),
          );
        }
      }
    }
    const result = { contenders, projects, drainMs: scenario.hits ? drainMs : null, ratios: {}, summary: {} };
    for (const name of contenders) {
      result.summary[name] = {
        rps: median(runs[name].map((r) => r.rps)),
        p50: median(runs[name].map((r) => r.p50)),
        p99: median(runs[name].map((r) => r.p99)),
        slow: median(runs[name].map((r) => r.slow)),
        cpuUs: median(runs[name].map((r) => r.cpuUs)),
        wrk: runs[name][0]?.wrk
          ? {
              rps: median(runs[name].map((r) => r.wrk.rps)),
              p99: median(runs[name].map((r) => r.wrk.p99)),
              p99s: runs[name].map((r) => r.wrk.p99),
            }
          : null,
      };
    }
    // Each round's contenders ran seconds apart: their ratio, round by round, cancels most of
    // what the rest of the machine was doing then. Every project build against every baseline,
    // and the queue's worker against the direct-write project too.
    for (const name of projects) {
      const others = [...scenario.against, ...(scenario.versus?.[name] ?? [])];
      result.ratios[name] = Object.fromEntries(
        others.map((base) => [base, runs[name].map((run, round) => run.rps / runs[base][round].rps)]),
      );
      // wrk's figures against the Hono passthrough's of the same round: the tail's target.
      if (scenario.wrk && WRK && scenario.against.includes("d")) {
        result.wrkRatios ??= {};
        result.wrkRatios[name] = {
          p99: runs[name].map((run, round) => run.wrk.p99 / runs.d[round].wrk.p99),
          rps: runs[name].map((run, round) => run.wrk.rps / runs.d[round].wrk.rps),
        };
      }
    }
    results[scenario.key] = result;
  }

  let dl = null;
  if (wants("download")) {
    console.log(`• Downloading ${DOWNLOAD_MB} MiB through the project and through (a)`);
    const downloads = { project: [], a: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 ? ["a", "project"] : ["project", "a"]) {
        downloads[name].push(await download(workers[name], DOWNLOAD_MB));
      }
    }
    dl = {
      ratios: downloads.project.map((d, round) => d.mibps / downloads.a[round].mibps),
    };
    Object.assign(
      dl,
      Object.fromEntries(
        Object.entries(downloads).map(([name, list]) => [
          name,
          {
            mibps: median(list.map((d) => d.mibps)),
            seconds: median(list.map((d) => d.seconds)),
            beforeMiB: list[0].beforeMiB,
            deltaMiB: Math.max(...list.map((d) => d.deltaMiB)),
          },
        ]),
      ),
    );
  }

  report(results, dl, bundle, startupMs, performance.now() - started);
}

// ---------------------------------------------------------------------------------------------
// Printing.

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const pad = (text, width) => String(text).padStart(width);
const KiB = 1024;

function report(results, dl, bundle, startupMs, elapsedMs) {
  const ratio = (key, name, base) => {
    const list = results[key]?.ratios[name]?.[base];
    return list ? median(list) : null;
  };
  const wrkRatio = (key, figure, name = "project") => {
    const list = results[key]?.wrkRatios?.[name]?.[figure];
    return list ? median(list) : null;
  };
  const spread = (list) =>
    list.length > 1 ? ` (${fixed(Math.min(...list), 2)}–${fixed(Math.max(...list), 2)})` : "";
  const rows = [];
  for (const scenario of SELECTED) {
    const r = results[scenario.key];
    rows.push(`\n${scenario.title}`);
    for (const name of r.contenders) {
      const s = r.summary[name];
      const vs = r.ratios[name]
        ? Object.entries(r.ratios[name])
            .map(
              ([base, list]) =>
                `${fixed(median(list), 2)}${spread(list)} of ${isBaseline(base) ? `(${base})` : LABELS[base]} ` +
                `[CPU ×${fixed(s.cpuUs / r.summary[base].cpuUs, 2)}]`,
            )
            .join(", ")
        : "";
      rows.push(
        `  ${LABELS[name].padEnd(44)}${pad(fixed(s.rps, 0), 8)}${pad(fixed(s.p50, 2), 9)}` +
          `${pad(fixed(s.p99, 2), 9)}${pad(fixed(100 * s.slow, 2), 9)}${pad(fixed(s.cpuUs, 0), 10)}   ${vs}`,
      );
    }
    if (r.drainMs) {
      const drained = Object.entries(r.drainMs)
        .map(([name, ms]) => `${LABELS[name]} ${fixed(ms, 0)} ms`)
        .join(", ");
      rows.push(`  (every hit stored once; the last ones after the round: ${drained})`);
    }
  }
  if (rows.length > 0) {
    console.log(
      `\n${"".padEnd(46)}${pad("req/s", 8)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad(`>${SLOW_MS}ms %`, 9)}${pad("CPU µs", 10)}` +
        `${rows.join("\n")}`,
    );
    console.log(
      `\n(medians of the rounds; >${SLOW_MS}ms %: the share of responses slower than ${SLOW_MS} ms; ` +
        "CPU µs: the workerd process's CPU time per request, D1 included)",
    );
  }

  const withWrk = SELECTED.filter((scenario) => scenario.wrk);
  if (withWrk.length > 0 && !WRK) {
    console.log("\nwrk: not installed (apt-get install wrk), so the page views' tail is autocannon's only.");
  } else if (withWrk.length > 0) {
    console.log(
      `\nwrk -t1 -c${CONNECTIONS} -d${Math.max(1, Math.round(SECONDS))}s${TASKSET ? `, pinned to CPU ${WRK_CPU}` : ""}, right after autocannon in each round` +
        `\n${"".padEnd(46)}${pad("req/s", 8)}${pad("p99 ms", 9)}   p99 of each round (ms); against (d) in the same round`,
    );
    for (const scenario of withWrk) {
      const r = results[scenario.key];
      console.log(`  ${scenario.title}`);
      for (const name of r.contenders) {
        const w = r.summary[name].wrk;
        const vs = r.wrkRatios?.[name]
          ? `; p99 ${fixed(median(r.wrkRatios[name].p99), 2)}× (d)'s, req/s ${fixed(median(r.wrkRatios[name].rps), 2)} of (d)'s`
          : "";
        console.log(
          `  ${LABELS[name].padEnd(44)}${pad(fixed(w.rps, 0), 8)}${pad(fixed(w.p99, 1), 9)}   ` +
            `${w.p99s.map((ms) => fixed(ms, 0)).join(" ")}${vs}`,
        );
      }
    }
  }

  if (dl) {
    console.log(`\n${DOWNLOAD_MB} MiB download, proxied: GET /download?mb=${DOWNLOAD_MB}`);
    console.log(
      `${"".padEnd(46)}${pad("MiB/s", 8)}${pad("time s", 9)}${pad("RSS MiB", 9)}${pad("peak Δ", 9)}`,
    );
    for (const [name, label] of [
      ["project", "reflinks"],
      ["a", BASELINES.a],
    ]) {
      const d = dl[name];
      console.log(
        `  ${label.padEnd(44)}${pad(fixed(d.mibps, 0), 8)}${pad(fixed(d.seconds, 2), 9)}` +
          `${pad(fixed(d.beforeMiB, 0), 9)}${pad(fixed(d.deltaMiB, 1), 9)}`,
      );
    }
  }

  const kib = (module) => `${fixed(module.raw / KiB, 1)} KiB, ${fixed(module.gzip / KiB, 1)} KiB gzipped`;
  console.log(
    `\nDeploy bundle: main module (what every isolate loads) ${kib(bundle.main)} ` +
      `(budget ${BUNDLE_BUDGET_GZIP_KIB} KiB); loaded lazily: ` +
      `${bundle.lazy.map((module) => `${module.name} ${kib(module)}`).join(", ") || "none"}; ` +
      `total upload (wrangler deploy --dry-run) ${kib(bundle.total)} (budget ${UPLOAD_BUDGET_GZIP_KIB} KiB)` +
      (startupMs === null
        ? ""
        : `; startup CPU ${fixed(startupMs.least, 0)} ms (wrangler check startup, least of ${STARTUP_RUNS} runs; ` +
          `median ${fixed(startupMs.median, 0)} ms; budget ${STARTUP_BUDGET_MS} ms)`),
  );

  const passthrough = results.passthrough?.summary;
  const p99Ratio = passthrough ? passthrough.project.p99 / passthrough.a.p99 : null;
  const ratios = {
    passthrough: ratio("passthrough", "project", "a"),
    "unknown-ref": ratio("unknown-ref", "project", "a"),
    "ref-hit/c": ratio("ref-hit", "project", "c"),
    "param-hit/c": ratio("param-hit", "project", "c"),
    "ref-hit/b": ratio("ref-hit", "project", "b"),
    "queue-hit/b": ratio("queue-hit", "queue", "b"),
    "queue-hit/c": ratio("queue-hit", "queue", "c"),
    "queue-hit/direct": ratio("queue-hit", "queue", "project"),
    "dedupe on/off": ratio("dedupe-hit", "project", "nodedupe"),
    "page-view p99/(a)": p99Ratio,
    "passthrough/d": ratio("passthrough", "project", "d"),
    "page-view wrk p99/(d)": wrkRatio("passthrough", "p99"),
    "page-view wrk req/s/(d)": wrkRatio("passthrough", "rps"),
    "unknown-ref wrk p99/(d)": wrkRatio("unknown-ref", "p99"),
    "unknown-ref wrk req/s/(d)": wrkRatio("unknown-ref", "rps"),
    download: dl && median(dl.ratios),
  };
  for (const extra of EXTRAS) {
    for (const [key, base] of [
      ["passthrough", "a"],
      ["unknown-ref", "a"],
      ["ref-hit", "c"],
      ["param-hit", "c"],
    ]) {
      const value = ratio(key, extra.name, base);
      if (value !== null) ratios[`${extra.name} ${key}/${base}`] = value;
    }
    for (const key of ["passthrough", "unknown-ref"]) {
      const value = wrkRatio(key, "p99", extra.name);
      if (value !== null) ratios[`${extra.name} ${key} wrk p99/(d)`] = value;
    }
  }
  const targets = [
    ["page views ≥ 0.95 of (a)", ratios.passthrough, (v) => v >= 0.95],
    ["unknown ?ref= ≥ 0.92 of (a)", ratios["unknown-ref"], (v) => v >= 0.92],
    ["/ref/ hit ≥ 0.92 of (c)", ratios["ref-hit/c"], (v) => v >= 0.92],
    ["?ref= hit ≥ 0.92 of (c)", ratios["param-hit/c"], (v) => v >= 0.92],
    [`page-view p99 ≤ 1.5× (a)'s (${fixed(p99Ratio, 2)}×)`, p99Ratio, (v) => v <= 1.5],
    [
      `page-view wrk p99 ≤ 1.5× (d)'s (${fixed(ratios["page-view wrk p99/(d)"], 2)}×)`,
      ratios["page-view wrk p99/(d)"],
      (v) => v <= 1.5,
    ],
    [
      `unknown ?ref= wrk p99 ≤ 1.5× (d)'s (${fixed(ratios["unknown-ref wrk p99/(d)"], 2)}×)`,
      ratios["unknown-ref wrk p99/(d)"],
      (v) => v <= 1.5,
    ],
    ["page views (wrk) ≥ 0.95 of (d)", ratios["page-view wrk req/s/(d)"], (v) => v >= 0.95],
    [
      `main module ≤ ${BUNDLE_TARGET_GZIP_KIB} KiB gzipped (${fixed(bundle.main.gzip / KiB, 1)} KiB)`,
      bundle.main.gzip / KiB,
      (v) => v <= BUNDLE_TARGET_GZIP_KIB,
    ],
    // "No memory proportional to the body": a tenth of it would already be a buffered part.
    [
      `the ${DOWNLOAD_MB} MiB stream adds no memory proportional to it (peak Δ ${fixed(dl?.project.deltaMiB, 1)} MiB)`,
      dl?.project.deltaMiB,
      (v) => v < DOWNLOAD_MB / 10,
    ],
  ].filter(([, value]) => value != null);
  const budgets = [
    [
      `main module ≤ ${BUNDLE_BUDGET_GZIP_KIB} KiB gzipped`,
      bundle.main.gzip / KiB,
      (v) => v <= BUNDLE_BUDGET_GZIP_KIB,
    ],
    [
      `total upload ≤ ${UPLOAD_BUDGET_GZIP_KIB} KiB gzipped`,
      bundle.total.gzip / KiB,
      (v) => v <= UPLOAD_BUDGET_GZIP_KIB,
    ],
    [`startup CPU ≤ ${STARTUP_BUDGET_MS} ms`, startupMs?.least, (v) => v <= STARTUP_BUDGET_MS],
  ].filter(([, value]) => value != null);
  console.log(
    `\nTargets: ${targets.map(([name, value, ok]) => `${ok(value) ? "✔" : "✘"} ${name}`).join("; ")}`,
  );
  console.log(
    `Budgets: ${budgets.map(([name, value, ok]) => `${ok(value) ? "✔" : "✘"} ${name}`).join("; ")}`,
  );
  console.log(`(${(elapsedMs / 1000).toFixed(0)} s in all)\n`);
  console.log(
    `ratios: ${Object.entries(ratios)
      .filter(([, value]) => value != null)
      .map(([name, value]) => `${name} ${fixed(value, 2)}`)
      .join(" · ")}`,
  );
  // The budgets are hard limits: a bench that exceeds one fails (targets are measurements, noisy
  // on a shared machine, and only reported).
  const over = budgets.filter(([, value, ok]) => !ok(value));
  if (over.length > 0) {
    console.error(`\n✖ Over budget: ${over.map(([name]) => name).join("; ")}`);
    process.exitCode = 1;
  }
}

main()
  .catch((error) => fail(error.stack ?? String(error)))
  .then(() => shutdown());
