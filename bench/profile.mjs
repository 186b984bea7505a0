import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { runWranglerSync } from "../scripts/lib/wrangler.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(ROOT, "package.json"));
const wrangler = require("wrangler");
// wrangler's own Miniflare (and so its workerd), as bench/serve.mjs uses.
const { Miniflare } = createRequire(require.resolve("wrangler/package.json"))("miniflare");
const MiB = 1024 * 1024;
const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const { values: args } = parseArgs({
  options: {
    path: { type: "string", default: "/pricing" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
    top: { type: "string", default: "15" },
    allocations: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0]);
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const TOP = Number(args.top);
if (!args.path.startsWith("/") || !(SECONDS > 0) || !(CONNECTIONS > 0) || !(TOP > 0)) {
  console.error("--path must start with /; --seconds, --connections and --top must be positive numbers.");
  process.exit(2);
}

/** The origin: one small page for every request, so that the worker is what gets measured. */
async function startOrigin() {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end("<!doctype html><title>Pricing</title><h1>Pricing</h1>");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

/** A port nothing listens on now, for the inspector (Miniflare takes a number, not 0). */
async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function bundleWorker(outdir) {
  // Not minified, so that the profile names our functions (the deployed bundle is minified).
  const result = runWranglerSync(["deploy", "--dry-run", "--minify=false", "--outdir", outdir]);
  if (result.code !== 0)
    throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}${result.stderr}`);
  return path.join(outdir, "index.js");
}

async function migrate(mf) {
  const db = await mf.getD1Database("DB");
  const files = fs.readdirSync(path.join(ROOT, "drizzle")).filter((name) => name.endsWith(".sql"));
  for (const file of files.sort()) {
    const sql = fs.readFileSync(path.join(ROOT, "drizzle", file), "utf8");
    for (const statement of sql.split("--> statement-breakpoint")) {
      if (statement.trim()) await db.prepare(statement).run();
    }
  }
  // The link `bench`, as `npm run bench` seeds it: `/ref/bench` and `?ref=bench` record hits.
  const now = "2026-01-01T00:00:00.000Z";
  await db
    .prepare(
      "INSERT INTO referral_links (id, identifier, user_id, disabled, created_at, updated_at) " +
        "VALUES (1, 'bench', 'alice', 0, ?, ?)",
    )
    .bind(now, now)
    .run();
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function connectInspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => t.title?.includes("profiled")) ?? targets[0];
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  const pending = new Map();
  let nextId = 0;
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  return {
    call: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, (message) =>
          message.error ? reject(new Error(message.error.message)) : resolve(message.result),
        );
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

function load(url, seconds) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections: CONNECTIONS, duration: seconds, headers: { "user-agent": BROWSER_UA } },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** A function as the tables name it: ours by their line in the (unminified) bundle. */
function functionLabel({ functionName, url, lineNumber }) {
  return url
    ? `${functionName || "(anonymous)"} (bundle line ${lineNumber + 1})`
    : functionName || "(native)";
}

/** Self samples per function (native ones marked), as shares of the samples that were not idle. */
function summarize(profile) {
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFunction = new Map();
  let busy = 0;
  let total = 0;
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    total += count;
    if (node.callFrame.functionName === "(idle)") continue;
    busy += count;
    const name = functionLabel(node.callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + count);
  }
  const rows = [...byFunction].sort((a, b) => b[1] - a[1]);
  return { busy, total, rows, gc: gcPauses(profile) };
}

/**
 * Garbage collection as pauses: consecutive samples in the collector, each stretch's length in ms
 * (a long one holds every request in flight, so it shows in the p99, not in the throughput).
 */
function gcPauses(profile) {
  const gcNodes = new Set(
    profile.nodes
      .filter((node) => node.callFrame.functionName === "(garbage collector)")
      .map((node) => node.id),
  );
  const pauses = [];
  let current = 0;
  profile.samples.forEach((id, i) => {
    if (gcNodes.has(id)) current += profile.timeDeltas[i] / 1000;
    else if (current > 0) {
      pauses.push(current);
      current = 0;
    }
  });
  if (current > 0) pauses.push(current);
  pauses.sort((a, b) => b - a);
  return { count: pauses.length, longest: pauses.slice(0, 5), totalMs: pauses.reduce((a, b) => a + b, 0) };
}

async function profileWorker(label, script, originUrl) {
  const inspectorPort = await freePort();
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    inspectorPort,
    logRequests: false,
    workers: [
      {
        ...workerOptions,
        name: "profiled",
        bindings: { ...workerOptions.bindings, ORIGIN_URL: originUrl, API_TOKEN: "profile-token" },
        modules: true,
        scriptPath: script,
        modulesRoot: path.dirname(script),
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
    ],
  });
  try {
    await mf.ready;
    await migrate(mf);
    const url = `${(await mf.unsafeGetDirectURL("profiled")).origin}${args.path}`;
    const inspector = await connectInspector(inspectorPort);
    await load(url, 1); // warm: JIT, link cache, connections
    await inspector.call("Profiler.enable");
    await inspector.call("Profiler.setSamplingInterval", { interval: 100 });
    if (args.allocations) {
      await inspector.call("HeapProfiler.enable");
      // Every allocation sampled, kept or collected since: what the collector has to deal with.
      await inspector.call("HeapProfiler.startSampling", {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    await inspector.call("Profiler.start");
    const result = await load(url, SECONDS);
    const { profile } = await inspector.call("Profiler.stop");
    const allocations = args.allocations ? (await inspector.call("HeapProfiler.stopSampling")).profile : null;
    const heap = await inspector.call("Runtime.getHeapUsage").catch(() => null);
    inspector.close();
    const { busy, total, rows, gc } = summarize(profile);
    const statuses = Object.entries(result.statusCodeStats ?? {})
      .map(([status, { count }]) => `${count} × ${status}`)
      .join(", ");
    console.log(`\n${label}: GET ${args.path}`);
    console.log(
      `  ${Math.round(result.requests.average)} req/s over ${SECONDS} s (${statuses}); ` +
        `${total} samples, ${Math.round((100 * busy) / total)}% busy`,
    );
    for (const [name, count] of rows.slice(0, TOP)) {
      console.log(`  ${((100 * count) / busy).toFixed(1).padStart(5)}%  ${name}`);
    }
    console.log(
      `  garbage collection: ${gc.count} pauses, ${gc.totalMs.toFixed(0)} ms in all; the longest ` +
        `${gc.longest.map((ms) => ms.toFixed(1)).join(", ")} ms` +
        (heap
          ? `; V8 heap ${(heap.usedSize / MiB).toFixed(1)} of ${(heap.totalSize / MiB).toFixed(1)} MiB`
          : ""),
    );
    if (allocations) printAllocations(allocations, result.requests.total);
  } finally {
    await mf.dispose();
  }
}

/**
 * Bytes allocated per request, by the function that allocated them (V8's sampling heap profiler,
 * objects already collected included): what the worker gives its garbage collector to do.
 */
function printAllocations(profile, requests) {
  const byFunction = new Map();
  let total = 0;
  const visit = (node) => {
    const name = functionLabel(node.callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  console.log(`  allocated: ${Math.round(total / requests)} bytes per request (sampled), by function:`);
  for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`  ${String(Math.round(bytes / requests)).padStart(7)} B  ${name}`);
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "reflinks-profile-"));
const origin = await startOrigin();
try {
  console.log("reflinks CPU profile: self time per function, as a share of the worker's busy samples");
  const bundle = bundleWorker(path.join(tmp, "bundle"));
  await profileWorker("reflinks", bundle, origin.url);
  await profileWorker(
    "(a) bare fetch passthrough",
    path.join(ROOT, "bench/baselines/passthrough.js"),
    origin.url,
  );
  console.log(
    "\n(native: the runtime's own code, e.g. fetch and the timers; (program)/(garbage collector): V8)",
  );
} finally {
  origin.server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
