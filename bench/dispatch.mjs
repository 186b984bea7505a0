import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runWranglerSync } from "../scripts/lib/wrangler.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(ROOT, "package.json"));
const wrangler = require("wrangler");
const { Miniflare } = createRequire(require.resolve("wrangler/package.json"))("miniflare");
const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const { values: args } = parseArgs({
  options: {
    path: { type: "string", multiple: true, default: [] },
    requests: { type: "string", default: "20000" },
    runs: { type: "string", default: "7" },
    variant: { type: "string", multiple: true, default: [] },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0]);
  process.exit(0);
}
const PATHS = args.path.length > 0 ? args.path : ["/pricing", "/pricing?ref=nobody"];
const REQUESTS = Number(args.requests);
const RUNS = Number(args.runs);

function bundle(entry, outdir) {
  const result = runWranglerSync(["deploy", "--dry-run", ...(entry ? [entry] : []), "--outdir", outdir]);
  if (result.code !== 0)
    throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}${result.stderr}`);
  const name = fs.readdirSync(outdir).find((file) => file.endsWith(".js"));
  return path.join(outdir, name);
}

/**
 * The harness: calls the build's fetch handler `n` times, one request after another, each with a
 * browser's headers; `fetch` (the origin) answers a small page at once. A loop over `n` requests
 * that are built but not handled is the zero it is measured from.
 */
const HARNESS = `
import worker from "./worker.js";
const page = "<!doctype html><title>Pricing</title><h1>Pricing</h1>";
globalThis.fetch = async () => new Response(page, { headers: { "Content-Type": "text/html" } });
const headers = { "User-Agent": ${JSON.stringify(BROWSER_UA)}, Accept: "text/html", "CF-Connecting-IP": "203.0.113.7" };
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n"));
    const target = "https://shop.example" + url.searchParams.get("path");
    const handle = url.searchParams.get("handle") === "1";
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const req = new Request(target, { headers });
      if (!handle) continue;
      const res = await worker.fetch(req, env, ctx);
      bytes += (await res.text()).length;
    }
    return new Response(String(bytes));
  },
};`;

/** The project's migrations, so that a `?ref=` lookup finds its table (and no link). */
async function migrate(db) {
  const files = fs.readdirSync(path.join(ROOT, "drizzle")).filter((name) => name.endsWith(".sql"));
  for (const file of files.sort()) {
    const sql = fs.readFileSync(path.join(ROOT, "drizzle", file), "utf8");
    for (const statement of sql.split("--> statement-breakpoint")) {
      if (statement.trim()) await db.prepare(statement).run();
    }
  }
}

/**
 * Every build in one workerd, as workers of their own (each its isolate), measured in
 * turns: each run times every build once per path, so that what the machine does meanwhile falls
 * on all of them alike.
 */
async function measureAll(builds) {
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  const mf = new Miniflare({
    workers: builds.map(([, script], i) => ({
      ...workerOptions,
      name: `build${i}`,
      bindings: { ...workerOptions.bindings, ORIGIN_URL: "https://origin.example", API_TOKEN: "t" },
      modulesRoot: "/",
      modules: [
        { type: "ESModule", path: "/harness.js", contents: HARNESS },
        { type: "ESModule", path: "/worker.js", contents: fs.readFileSync(script, "utf8") },
      ],
    })),
  });
  try {
    // One database for all (the same binding): migrated once.
    await migrate(await mf.getD1Database("DB", "build0"));
    const workers = [];
    for (let i = 0; i < builds.length; i++) workers.push(await mf.getWorker(`build${i}`));
    const time = async (worker, p, handle) => {
      const started = performance.now();
      const res = await worker.fetch(
        `http://harness/?n=${REQUESTS}&handle=${handle ? 1 : 0}&path=${encodeURIComponent(p)}`,
      );
      await res.text();
      return performance.now() - started;
    };
    const samples = builds.map(() => Object.fromEntries(PATHS.map((p) => [p, []])));
    for (const worker of workers) for (const p of PATHS) await time(worker, p, true); // warm: JIT, caches
    for (let run = 0; run < RUNS; run++) {
      for (const p of PATHS) {
        for (let i = 0; i < workers.length; i++) {
          const zero = await time(workers[i], p, false);
          const handled = await time(workers[i], p, true);
          samples[i][p].push(((handled - zero) * 1000) / REQUESTS);
        }
      }
    }
    return samples.map((byPath) =>
      Object.fromEntries(
        Object.entries(byPath).map(([p, list]) => {
          list.sort((a, b) => a - b);
          return [p, { median: list[list.length >> 1], min: list[0] }];
        }),
      ),
    );
  } finally {
    await mf.dispose();
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "reflinks-dispatch-"));
try {
  const builds = [
    ["reflinks", bundle(null, path.join(tmp, "project"))],
    ["(a) bare fetch passthrough", path.join(ROOT, "bench/baselines/passthrough.js")],
    ...args.variant.map((entry, i) => [
      `variant ${path.basename(entry)}`,
      bundle(entry, path.join(tmp, `v${i}`)),
    ]),
  ];
  console.log(
    `JavaScript per request, fetch stubbed: ${REQUESTS} requests × ${RUNS} runs per build and path, ` +
      `median (min) µs per request; load ${os.loadavg()[0].toFixed(2)}`,
  );
  const results = await measureAll(builds);
  console.log(`\n${"".padEnd(36)}${PATHS.map((p) => p.padStart(24)).join("")}`);
  builds.forEach(([label], i) => {
    const cells = PATHS.map((p) =>
      `${results[i][p].median.toFixed(2)} (${results[i][p].min.toFixed(2)})`.padStart(24),
    ).join("");
    console.log(`  ${label.padEnd(34)}${cells}`);
  });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
