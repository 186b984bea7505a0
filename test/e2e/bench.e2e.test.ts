/**
 * Smoke test of `npm run bench -- --quick`: the benchmark starts everything, measures every
 * scenario (which includes checking that each worker answers as expected and that every hit is
 * stored), stops everything, and ends with its ratio line. The figures themselves are not judged
 * here: on a shared machine a test on throughput would be flaky, so the targets live in the
 * benchmark's output and the README.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const RATIO = String.raw`\d+\.\d\d`;
const RATIO_LINE = new RegExp(
  `^ratios: passthrough ${RATIO} · unknown-ref ${RATIO} · ref-hit/c ${RATIO} · ` +
    `param-hit/c ${RATIO} · ref-hit/b ${RATIO} · download ${RATIO}$`,
  "m",
);

function runQuickBench(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bench", "run.mjs"), "--quick"], {
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
  const { code, output } = await runQuickBench();
  expect(code, output).toBe(0);
  expect(output).toMatch(RATIO_LINE);
  for (const scenario of ["GET /pricing", "/ref/bench", "?ref=bench", "?ref=nobody", "/download?mb=200"]) {
    expect(output).toContain(scenario);
  }
}, 180_000);
