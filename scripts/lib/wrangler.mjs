// Running the project's own wrangler from Node: the scripts (`npm start`, `npm run report`,
// `npm run import:django`), the bench and the end-to-end harness. One place for where it is, the
// environment it runs in, and how its output is collected.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The project's wrangler, run by this Node directly: `npx` would add a process layer and, if
 * wrangler were missing, try to download one.
 */
export const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/**
 * Offline and private, and plain text: no metrics, no fetch of the real `request.cf`, no colour.
 * A variable the caller set (in `extra`, or in the environment for the first two) wins.
 */
export function wranglerEnv(extra = {}) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false",
    CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    ...extra,
  };
}

/**
 * Starts wrangler with `args`, never through a shell; its output is piped for the caller.
 * `detached`: its own process group, so that killing the group stops workerd along with it.
 *
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, detached?: boolean }} [options]
 */
export function spawnWrangler(args, { cwd = ROOT, env = {}, detached = false } = {}) {
  return spawn(process.execPath, [WRANGLER, ...args], {
    cwd,
    env: wranglerEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
}

/**
 * Runs wrangler to completion. Never rejects: a wrangler that could not start answers code 1 with
 * the reason as its stderr. `output` is stdout and stderr as they came, for error messages.
 * `onSpawn` sees the child, for callers that must be able to stop it.
 *
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, detached?: boolean,
 *   onSpawn?: (child: import("node:child_process").ChildProcess) => void }} [options]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string, output: string }>}
 */
export function runWrangler(args, options = {}) {
  return new Promise((resolve) => {
    const child = spawnWrangler(args, options);
    options.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
      output += chunk;
    });
    child.once("error", (error) =>
      resolve({ code: 1, stdout, stderr: error.message, output: error.message }),
    );
    child.once("close", (code) => resolve({ code, stdout, stderr, output }));
  });
}

/**
 * {@link runWrangler} for a script with nothing else to do meanwhile.
 *
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv }} [options]
 */
export function runWranglerSync(args, { cwd = ROOT, env = {} } = {}) {
  const run = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd,
    encoding: "utf8",
    env: wranglerEnv(env),
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: run.error ? 1 : run.status,
    stdout: run.stdout ?? "",
    stderr: run.error?.message ?? run.stderr ?? "",
  };
}

/**
 * Polls `url` (a `wrangler dev` worker coming up) until `check` says it is ready, `stopped()`
 * names a reason to give up (the process exited, the user stopped it), or `timeoutMs` passes.
 * `check(response)` answers true when ready, else what it got (kept for the caller's message);
 * it throws to give up at once, on an answer that waiting will not change. A request that fails
 * (nothing listening yet) is tried again.
 *
 * @param {string} url
 * @param {{ timeoutMs: number, intervalMs?: number, headers?: Record<string, string>,
 *   stopped?: () => string | null,
 *   check?: (response: Response) => Promise<true | string> | true | string }} options
 * @returns {Promise<{ ready: true } | { ready: false, why: string }>}
 */
export async function pollUntilReady(url, options) {
  const { timeoutMs, intervalMs = 250, headers = {}, stopped = () => null } = options;
  const check = options.check ?? ((response) => response.ok || `HTTP ${response.status}`);
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    const reason = stopped();
    if (reason !== null) return { ready: false, why: reason };
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) });
      const verdict = await check(response);
      if (verdict === true) return { ready: true };
      last = verdict;
    } catch (error) {
      if (error instanceof GiveUp) throw error.cause;
      last = error.cause?.code ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return { ready: false, why: `no ready answer within ${timeoutMs / 1000} s (last: ${last})` };
}

/** Thrown by a `check` of {@link pollUntilReady} to give up at once with `cause`. */
export class GiveUp extends Error {
  /** @param {Error} cause */
  constructor(cause) {
    super(cause.message, { cause });
  }
}
