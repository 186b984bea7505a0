// `npm run bench:micro`: what the runtime's building blocks of a proxied page view cost inside
// workerd, each in a loop of 20,000 inside one request (the clock does not move while JavaScript
// runs there, so the loop is timed from outside, less an empty loop's time). The figures that
// docs/performance.md gives for the origin timer and the header work come from here.
//
//   npm run bench:micro
//   npm run bench:micro -- --runs 9 --iterations 50000
//
// Nothing remote: one workerd, from wrangler's Miniflare, and no network.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(ROOT, "package.json"));
const { Miniflare } = createRequire(require.resolve("wrangler/package.json"))("miniflare");

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    iterations: { type: "string", default: "20000" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0]);
  process.exit(0);
}
const RUNS = Number(args.runs);
const ITERATIONS = Number(args.iterations);
if (!(RUNS > 0) || !(ITERATIONS > 0)) {
  console.error("--runs and --iterations must be positive numbers.");
  process.exit(2);
}

/** A desktop browser's request headers (ten), as a page view brings them. */
const HEADERS = {
  "user-agent":
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "cf-connecting-ip": "203.0.113.7",
  accept: "text/html,application/xhtml+xml",
  "accept-language": "en-US,en;q=0.9",
  "accept-encoding": "gzip, br",
  cookie: "theme=dark; session=abc",
  referer: "https://example.com/",
  "sec-fetch-mode": "navigate",
  "sec-fetch-site": "none",
  "upgrade-insecure-requests": "1",
};

/** Each operation, as the worker's code or a cheaper alternative to it would do it. */
const OPERATIONS = {
  "new URL(request.url)": "return new URL(r.url);",
  "new Headers(request.headers): the copy": "return new Headers(r.headers);",
  "iterating the header names": "let n = 0; for (const k of r.headers.keys()) n += k.length; return n;",
  "15 × headers.has()": "let n = 0; for (const k of NAMES) if (r.headers.has(k)) n++; return n;",
  "4 × headers.set() on a copy, less the copy":
    'const h = new Headers(r.headers); h.set("x-reflinks-hop", "1"); h.set("x-forwarded-host", "shop.example"); ' +
    'h.set("x-forwarded-proto", "https"); h.set("x-forwarded-for", "203.0.113.7"); return h;',
  "new Request(url, init): fetch's own copy":
    'return new Request("http://origin.example/pricing", { method: r.method, headers: r.headers, redirect: "manual" });',
  "AbortController + setTimeout + clearTimeout":
    "const c = new AbortController(); const t = setTimeout(abort, 30000, c); clearTimeout(t); return c.signal;",
  "AbortSignal.timeout()": "return AbortSignal.timeout(30000);",
};
/** Subtracted from the row it names, so that the row shows its own part. */
const LESS = { "4 × headers.set() on a copy, less the copy": "new Headers(request.headers): the copy" };

const WORKER = `
const NAMES = ["keep-alive", "te", "trailer", "reflinks-user", "reflinks-user-signature", "x-forwarded-for",
  "x-real-ip", "true-client-ip", "client-ip", "forwarded", "connection", "upgrade", "x-reflinks-hop",
  "proxy-authorization", "proxy-connection"];
const abort = (c) => c.abort();
const OPERATIONS = [${Object.values(OPERATIONS)
  .map((body) => `(r) => { ${body} }`)
  .join(",\n")}, () => 0];
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const operation = OPERATIONS[Number(url.searchParams.get("op"))];
    const n = Number(url.searchParams.get("n"));
    let kept;
    for (let i = 0; i < n; i++) kept = operation(request);
    return new Response(typeof kept);
  },
};`;

const mf = new Miniflare({
  modules: [{ type: "ESModule", path: "/micro.js", contents: WORKER }],
  modulesRoot: "/",
  compatibilityDate: "2026-05-01",
});
try {
  const url = await mf.ready;
  const names = Object.keys(OPERATIONS);
  const time = async (op) => {
    const started = performance.now();
    const response = await mf.dispatchFetch(`${url.origin}/?op=${op}&n=${ITERATIONS}`, { headers: HEADERS });
    await response.text();
    return performance.now() - started;
  };
  const samples = names.map(() => []);
  for (let op = 0; op <= names.length; op++) await time(op); // warm: JIT
  for (let run = 0; run < RUNS; run++) {
    const empty = await time(names.length);
    for (let op = 0; op < names.length; op++)
      samples[op].push(((await time(op)) - empty) * (1000 / ITERATIONS));
  }
  const median = (list) => [...list].sort((a, b) => a - b)[list.length >> 1];
  const cost = Object.fromEntries(names.map((name, op) => [name, median(samples[op])]));
  console.log(
    `The runtime's building blocks, µs per call (median of ${RUNS} runs of ${ITERATIONS}), ten request headers:\n`,
  );
  for (const name of names) {
    const own = cost[name] - (LESS[name] ? cost[LESS[name]] : 0);
    console.log(`  ${own.toFixed(2).padStart(6)}  ${name}`);
  }
} finally {
  await mf.dispose();
}
