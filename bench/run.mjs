// `npm run bench`: how much the worker costs compared with the least a worker could do.
//
// Starts the demo origin, the project's worker and three bare baseline workers (bench/baselines/):
// (a) a `fetch` passthrough, (b) a 302 with a cookie, (c) a 302 with a cookie and one awaited D1
// insert. All four run the same way (bench/serve.mjs: wrangler's Miniflare, a direct socket, the
// project's wrangler.toml settings), the project from the bundle `wrangler deploy` would upload.
// Each scenario alternates the project and its baselines round by round (medians are reported),
// driven by autocannon with a real browser's User-Agent. Then a 200 MiB download goes through the
// project and through (a) while the workerd process's memory is sampled.
//
//   npm run bench                       6 rounds of 3 s per worker and scenario (about 3½ minutes)
//   npm run bench -- --quick            1 round of 2 s (about 40 s): the smoke test's run
//   npm run bench -- --rounds 5 --seconds 10 --connections 32 --download-mb 500
//
// Nothing remote: wrangler runs only `deploy --dry-run` (to bundle) and `d1 … --local`.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
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

const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  FORCE_COLOR: "0",
  NO_COLOR: "1",
  // `migrations apply` would otherwise ask for confirmation in a terminal.
  CI: "true",
};

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

/** Runs wrangler to completion; throws with its output when it fails. */
function wrangler(argv) {
  return new Promise((resolve, reject) => {
    if (shuttingDown) return reject(new Error("stopping"));
    const child = spawn(process.execPath, [WRANGLER, ...argv], {
      cwd: ROOT,
      env: WRANGLER_ENV,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    children.add(child);
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.once("error", reject);
    child.once("close", (code) => {
      children.delete(child);
      if (code === 0) resolve(output);
      else reject(new Error(`wrangler ${argv.slice(0, 3).join(" ")} exited with ${code}:\n${output}`));
    });
  });
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

/** The project's recorded hits for the bench link, through its own API. */
async function recordedHits(project) {
  const res = await fetch(`${project.url}/_reflinks/links/${LINK}`, {
    headers: { Authorization: `Bearer ${API_TOKEN}` },
  });
  if (!res.ok) throw new Error(`GET /_reflinks/links/${LINK} answered ${res.status}`);
  return (await res.json()).stats.hits;
}

/**
 * Counts the hits the project should have stored: at least one per 302 received, at most one per
 * request sent (autocannon stops with requests in flight, which the worker may still complete).
 */
async function hitLedger(project) {
  let low = await recordedHits(project);
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

// ---------------------------------------------------------------------------------------------
// The run.

const SCENARIOS = [
  {
    key: "passthrough",
    title: "page view, proxied: GET /pricing",
    path: "/pricing",
    status: 200,
    against: ["a"],
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
    against: ["a"],
  },
];

const SELECTED = ONLY ? SCENARIOS.filter((scenario) => ONLY.includes(scenario.key)) : SCENARIOS;
const unknown = ONLY?.filter((name) => name !== "download" && !SCENARIOS.some((s) => s.key === name));
if (unknown?.length) {
  fail(`--only takes ${[...SCENARIOS.map((s) => s.key), "download"].join(", ")}; not ${unknown.join(", ")}.`);
}

const BASELINES = {
  a: "(a) bare fetch passthrough",
  b: "(b) bare 302 + cookie",
  c: "(c) bare 302 + cookie + awaited D1 insert",
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
  await Promise.all([
    wrangler(["deploy", "--dry-run", "--outdir", path.join(tmp, "bundle")]),
    prepareDatabase(template),
  ]);
  for (const name of ["d1-project", "d1-a", "d1-b", "d1-c"]) {
    fs.cpSync(template, path.join(tmp, name), { recursive: true });
  }
  console.log("done");

  process.stdout.write("• Starting the demo origin and the workers… ");
  const originUrl = await startOrigin();
  const vars = { ORIGIN_URL: originUrl };
  const baseline = (name) => path.join(HERE, "baselines", name);
  const [project, a, b, c] = await Promise.all([
    startWorker("project", {
      script: path.join(tmp, "bundle", "index.js"),
      persist: path.join(tmp, "d1-project"),
      vars: { ...vars, API_TOKEN },
    }),
    startWorker("(a)", { script: baseline("passthrough.js"), persist: path.join(tmp, "d1-a"), vars }),
    startWorker("(b)", { script: baseline("redirect-cookie.js"), persist: path.join(tmp, "d1-b"), vars }),
    startWorker("(c)", { script: baseline("redirect-d1.js"), persist: path.join(tmp, "d1-c"), vars }),
  ]);
  const workers = { project, a, b, c };
  console.log("done");

  // A scenario that answers wrongly would measure the wrong thing: check each once first.
  const headers = { "user-agent": BROWSER_UA, "cf-connecting-ip": CLIENT_IP };
  for (const scenario of SELECTED) {
    for (const name of ["project", ...scenario.against]) {
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
  const hits = SELECTED.some((scenario) => scenario.hits) ? await hitLedger(project) : null;

  const results = {};
  for (const scenario of SELECTED) {
    const contenders = ["project", ...scenario.against];
    console.log(`• ${scenario.title}`);
    const runs = Object.fromEntries(contenders.map((name) => [name, []]));
    let drainMs = 0;
    const measure = async (name, seconds) => {
      const worker = workers[name];
      const cpuBefore = cpuMs(worker.workerdPid);
      const run = await load(`${worker.url}${scenario.path}`, seconds, scenario.status);
      if (run.problems) throw new Error(`${worker.label} on ${scenario.path}: ${run.problems}`);
      // Hits are written after the response (waitUntil): let them land before the next round, so
      // that no one else's round pays for them, and check that none was lost.
      if (hits && name === "project" && scenario.hits) drainMs = Math.max(drainMs, await hits.drain(run));
      // The CPU its workerd used per request (D1 included): other load on the machine disturbs it
      // much less than it disturbs throughput.
      run.cpuUs = ((cpuMs(worker.workerdPid) - cpuBefore) * 1000) / run.answered;
      return run;
    };
    for (const name of contenders) await measure(name, WARMUP_SECONDS);
    drainMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate who goes first, so that no one always runs on a freshly idle machine.
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
      for (const name of order) runs[name].push(await measure(name, SECONDS));
    }
    results[scenario.key] = Object.fromEntries(
      contenders.map((name) => [
        name,
        {
          rps: median(runs[name].map((r) => r.rps)),
          p50: median(runs[name].map((r) => r.p50)),
          p99: median(runs[name].map((r) => r.p99)),
          cpuUs: median(runs[name].map((r) => r.cpuUs)),
        },
      ]),
    );
    results[scenario.key].drainMs = scenario.hits ? drainMs : null;
    // Each round's project and baseline ran minutes apart at most: their ratio, round by round,
    // cancels most of what the rest of the machine was doing then.
    results[scenario.key].ratios = Object.fromEntries(
      scenario.against.map((base) => [
        base,
        runs.project.map((run, round) => run.rps / runs[base][round].rps),
      ]),
    );
  }

  let dl = null;
  if (!ONLY || ONLY.includes("download")) {
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

  report(results, dl, performance.now() - started);
}

// ---------------------------------------------------------------------------------------------
// Printing.

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const pad = (text, width) => String(text).padStart(width);

function report(results, dl, elapsedMs) {
  const ratio = (key, base) => results[key] && median(results[key].ratios[base]);
  const spread = (list) =>
    list.length > 1 ? ` (${fixed(Math.min(...list), 2)}–${fixed(Math.max(...list), 2)})` : "";
  const rows = [];
  for (const scenario of SELECTED) {
    const r = results[scenario.key];
    rows.push(`\n${scenario.title}`);
    for (const name of ["project", ...scenario.against]) {
      const label = name === "project" ? "reflinks" : BASELINES[name];
      const vs =
        name === "project"
          ? scenario.against
              .map(
                (base) =>
                  `${fixed(ratio(scenario.key, base), 2)}${spread(r.ratios[base])} of (${base}) ` +
                  `[CPU ×${fixed(r.project.cpuUs / r[base].cpuUs, 2)}]`,
              )
              .join(", ")
          : "";
      rows.push(
        `  ${label.padEnd(44)}${pad(fixed(r[name].rps, 0), 8)}${pad(fixed(r[name].p50, 2), 9)}` +
          `${pad(fixed(r[name].p99, 2), 9)}${pad(fixed(r[name].cpuUs, 0), 10)}   ${vs}`,
      );
    }
    if (r.drainMs !== null) {
      rows.push(`  (every hit stored; the last ones ${fixed(r.drainMs, 0)} ms after the round)`);
    }
  }
  if (rows.length > 0) {
    console.log(
      `\n${"".padEnd(46)}${pad("req/s", 8)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("CPU µs", 10)}` +
        `${rows.join("\n")}`,
    );
    console.log("\n(medians of the rounds; CPU µs: the workerd process's CPU time per request, D1 included)");
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

  const ratios = {
    passthrough: ratio("passthrough", "a"),
    "unknown-ref": ratio("unknown-ref", "a"),
    "ref-hit/c": ratio("ref-hit", "c"),
    "param-hit/c": ratio("param-hit", "c"),
    "ref-hit/b": ratio("ref-hit", "b"),
    download: dl && median(dl.ratios),
  };
  const targets = [
    ["passthrough ≥ 0.90 of (a)", ratios.passthrough, (v) => v >= 0.9],
    ["unknown ?ref= ≥ 0.85 of (a)", ratios["unknown-ref"], (v) => v >= 0.85],
    ["/ref/ hit ≥ 0.80 of (c)", ratios["ref-hit/c"], (v) => v >= 0.8],
    ["?ref= hit ≥ 0.80 of (c)", ratios["param-hit/c"], (v) => v >= 0.8],
    // "No memory proportional to the body": a tenth of it would already be a buffered part.
    [
      `the ${DOWNLOAD_MB} MiB stream adds no memory proportional to it (peak Δ ${fixed(dl?.project.deltaMiB, 1)} MiB)`,
      dl?.project.deltaMiB,
      (v) => v < DOWNLOAD_MB / 10,
    ],
  ].filter(([, value]) => value != null);
  console.log(
    `\nTargets: ${targets.map(([name, value, ok]) => `${ok(value) ? "✔" : "✘"} ${name}`).join("; ")}`,
  );
  console.log(`(${(elapsedMs / 1000).toFixed(0)} s in all)\n`);
  console.log(
    `ratios: ${Object.entries(ratios)
      .filter(([, value]) => value != null)
      .map(([name, value]) => `${name} ${fixed(value, 2)}`)
      .join(" · ")}`,
  );
}

main()
  .catch((error) => fail(error.stack ?? String(error)))
  .then(() => shutdown());
