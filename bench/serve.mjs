// One worker for the benchmark, in its own process: `node bench/serve.mjs '<json options>'`.
//
// It runs the worker under the Miniflare that wrangler itself uses (so the same workerd as
// `wrangler dev`), but serves it on a direct socket: no development proxy worker and no Miniflare
// entry worker in the path, as in production where nothing of ours runs before the worker. Every
// worker of a run, the project's and the baselines, is started this way with the project's own
// wrangler.toml settings (compatibility date and flags, the D1 binding, `[vars]`), only the script
// and the extra vars differing, so the comparison is between scripts and nothing else.
//
// Options: { script, persist, vars?, miniflare? } (miniflare: more worker options, e.g. the queue's
// producers and consumers). Prints one line of JSON when ready:
// { "ready": true, "url": "http://127.0.0.1:<port>", "workerd": <pid> }. SIGTERM stops it.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(ROOT, "package.json"));
const wrangler = require("wrangler");
// wrangler's own Miniflare (and so its workerd), whichever version another package hoisted.
const { Miniflare } = createRequire(require.resolve("wrangler/package.json"))("miniflare");

const options = JSON.parse(process.argv[2] ?? "{}");
const script = path.resolve(options.script);
const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  logRequests: false,
  // Where `wrangler d1 … --persist-to <dir>` keeps its data, so the migrated database is found.
  defaultPersistRoot: path.join(options.persist, "v3"),
  workers: [
    {
      ...workerOptions,
      name: "bench",
      bindings: { ...workerOptions.bindings, ...options.vars },
      modules: true,
      scriptPath: script,
      modulesRoot: path.dirname(script),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      ...options.miniflare,
    },
  ],
});

/** The workerd process Miniflare started: our child named workerd. */
function workerdPid() {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === process.pid && comm === "workerd") return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return null;
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

await mf.ready;
const url = await mf.unsafeGetDirectURL("bench");
process.stdout.write(`${JSON.stringify({ ready: true, url: url.origin, workerd: workerdPid() })}\n`);
