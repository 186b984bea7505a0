/**
 * Smoke tests of the benchmark tools. `npm run bench -- --quick` starts everything, measures every
 * scenario (which includes checking that each worker answers as expected and that every hit is
 * stored), stops everything, and ends with its ratio line; `npm run bench:scale` (a small year)
 * answers every report and archives; `npm run bench:profile` attributes the
 * worker's CPU and allocations to functions; `npm run bench:micro` times the runtime's building
 * blocks. The figures themselves are not judged here: on a shared machine a
 * test on throughput would be flaky, so the targets live in the benchmark's output and docs/performance.md.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const RATIO = String.raw`\d+\.\d\d`;
const RATIO_LINE = new RegExp(
  `^ratios: passthrough ${RATIO} · unknown-ref ${RATIO} · ref-hit/c ${RATIO} · ` +
    `param-hit/c ${RATIO} · ref-hit/b ${RATIO} · queue-hit/b ${RATIO} · queue-hit/c ${RATIO} · ` +
    `queue-hit/direct ${RATIO} · dedupe on/off ${RATIO} · page-view p99/\\(a\\) ${RATIO} · ` +
    `passthrough/d ${RATIO} · page-view wrk p99/\\(d\\) ${RATIO} · page-view wrk req/s/\\(d\\) ${RATIO} · ` +
    `unknown-ref wrk p99/\\(d\\) ${RATIO} · unknown-ref wrk req/s/\\(d\\) ${RATIO} · download ${RATIO}$`,
  "m",
);

function runNode(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

it("npm run bench -- --quick measures every scenario and prints the ratio line", async () => {
  const { code, output } = await runNode([path.join(ROOT, "bench", "run.mjs"), "--quick", "--verbose"]);
  expect(code, output).toBe(0);
  expect(output).toMatch(RATIO_LINE);
  // Every round as it ends (--verbose), and the share of slow responses beside each p99.
  expect(output).toMatch(
    /^ {2}round 1 reflinks: \d+ req\/s, p50 [\d.]+ ms, p99 [\d.]+ ms, [\d.]+% over 20 ms, the slowest [\d.]+ ms, \d+ µs CPU$/m,
  );
  expect(output).toMatch(/^ +req\/s +p50 ms +p99 ms +>20ms % +CPU µs$/m);
  for (const scenario of ["GET /pricing", "/ref/bench", "?ref=bench", "?ref=nobody", "/download?mb=200"]) {
    expect(output).toContain(scenario);
  }
  expect(output).toContain("referral link hit, HITS_QUEUE bound");
  expect(output).toContain("reflinks, DEDUPE_SECONDS=0");
  // The page views' tail through wrk too, against the one-route Hono proxy (.ci/run installs wrk).
  expect(output).toMatch(/^wrk -t1 -c16 -d2s, pinned to CPU \d+, right after autocannon in each round$/m);
  expect(output).toMatch(/^ {2}reflinks +\d+ +[\d.]+ +\d+; p99 [\d.]+× \(d\)'s, req\/s [\d.]+ of \(d\)'s$/m);
  // The bundle's size and startup, within their budgets (else the exit code is 1).
  expect(output).toMatch(
    /^Deploy bundle: main module \(what every isolate loads\) .*KiB gzipped \(budget \d+ KiB\); loaded lazily: .*startup CPU \d+ ms/m,
  );
  expect(output).toMatch(
    /^Budgets: ✔ main module ≤ \d+ KiB gzipped; ✔ total upload ≤ \d+ KiB gzipped; ✔ startup CPU ≤ \d+ ms$/m,
  );
}, 300_000);

it("npm run bench:scale seeds a year of hits, times the reports through the API and runs the archive job", async () => {
  const { code, output } = await runNode([
    path.join(ROOT, "bench", "scale.mjs"),
    ...["--hits", "20000", "--links", "20", "--archive-runs", "2"],
  ]);
  expect(code, output).toBe(0);
  expect(output).toMatch(/^scale: 20,000 hits, 20 links, 365 days \(seeded in [\d.]+ s/m);
  expect(output).toMatch(
    /^ {2}archive job: 2 runs, \d+ days, [\d,]+ hits written, [\d,]+ deleted in [\d.]+ s/m,
  );
  // Its CPU per run, bounded from above by workerd's (Linux's /proc, as on CI).
  expect(output).toMatch(/^ {4}CPU at most [\d,]+ ms a run \(workerd's, D1's SQLite included\)$/m);
  // Each report, timed three times: every hit in D1, the old days archived, their hits deleted.
  expect(output.match(/^ {4}\/reports\/links, the year +[\d.]+ ms$/gm)).toHaveLength(3);
  expect(output.match(/^ {4}\/reports\/daily, one link, the year +[\d.]+ ms$/gm)).toHaveLength(3);
  // D1's size is shown before and after: what the archive keeps out of it.
  expect(output).toMatch(/^ {2}every hit in D1 \(D1 uses \d+ MB\)$/m);
  expect(output).toMatch(
    /^ {2}the archive caught up: [\d,]+ old hits deleted in [\d.]+ s, [\d,]+ kept \(D1 uses \d+ MB\)$/m,
  );
}, 300_000);

it("npm run bench:profile names the worker's own functions with their share of its CPU", async () => {
  const { code, output } = await runNode([
    "--experimental-websocket",
    path.join(ROOT, "bench", "profile.mjs"),
    ...["--path", "/pricing?ref=nobody", "--seconds", "2", "--top", "40", "--allocations"],
  ]);
  expect(code, output).toBe(0);
  // Every request proxied: an unknown ref is the origin's business.
  expect(output).toMatch(
    /^reflinks: GET \/pricing\?ref=nobody\n {2}\d+ req\/s over 2 s \(\d+ × 200\); \d+ samples, \d+% busy$/m,
  );
  expect(output).toMatch(/^\(a\) bare fetch passthrough: GET \/pricing\?ref=nobody$/m);
  const project = output.slice(output.indexOf("reflinks: GET"), output.indexOf("(a) bare fetch"));
  expect(project).toMatch(/^ +\d+\.\d% {2}proxyToOrigin \(bundle line \d+\)$/m);
  expect(project).toMatch(/^ {2}allocated: \d+ bytes per request \(sampled\), by function:$/m);
  expect(project).toMatch(/^ +\d+ B {2}proxyToOrigin \(bundle line \d+\)$/m);
}, 120_000);

it("npm run bench:micro times each of the runtime's building blocks of a page view", async () => {
  const { code, output } = await runNode([
    path.join(ROOT, "bench", "micro.mjs"),
    ...["--runs", "1", "--iterations", "2000"],
  ]);
  expect(code, output).toBe(0);
  for (const operation of ["new Headers(request.headers): the copy", "AbortSignal.timeout()"]) {
    expect(output).toMatch(new RegExp(`^ +-?\\d+\\.\\d\\d {2}${operation.replace(/[().]/g, "\\$&")}$`, "m"));
  }
}, 60_000);
