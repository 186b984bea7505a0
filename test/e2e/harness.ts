/**
 * End-to-end harness: the real stack on this machine, over real HTTP.
 *
 * `startStack()` makes a fresh temporary D1 (never the developer's `.wrangler/state`), applies the
 * migrations, seeds links, starts the demo origin in this process and `wrangler dev` in front of it
 * in its own process group, and waits until the worker answers `/_reflinks/health`. `stop()` undoes
 * all of it. No Cloudflare account, no network: wrangler only ever runs with `--local`.
 *
 * Two `wrangler d1` commands (`stack.query`, `npm run report`) never run at once on one stack's
 * D1: two of them starting together on the same `--persist-to` directory can fail with a wrangler
 * internal error. `query` waits its turn by itself; any other command on `persistDir` goes through
 * `stack.exclusive`.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createOriginServer } from "../../demo/origin.mjs";
import { GiveUp, pollUntilReady, runWrangler, spawnWrangler } from "../../scripts/lib/wrangler.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 90_000;
const READY_POLL_MS = 250;
const STOP_TIMEOUT_MS = 10_000;
/** How much of wrangler's output is kept for error messages. */
const OUTPUT_TAIL_CHARS = 16_000;

/** A real desktop browser: `isbot` lets it through, so its referral visits record hits. */
export const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export interface SeedLink {
  identifier: string;
  userId?: string | null;
  disabled?: boolean;
}

export interface StackOptions {
  /** Links inserted into `referral_links` before the worker starts. */
  links?: SeedLink[];
  /** Extra `--var NAME:value` pairs for `wrangler dev` (e.g. `{ STORE_IP: "none" }`). */
  vars?: Record<string, string>;
  /**
   * `wrangler-dev` (default): the developer's command. `miniflare`: the same bundle (`wrangler
   * deploy --dry-run`) served by Miniflare's own HTTP server, without wrangler dev's development
   * proxy, which on a 2-core machine leaves some of several hundred simultaneous requests
   * unanswered. Load tests use it: the product, not the dev proxy, is under test.
   */
  runtime?: "wrangler-dev" | "miniflare";
  /**
   * An origin of the test's own (a Django site, say) for `ORIGIN_URL`, instead of the demo origin,
   * which is then not started. The worker does not call it before the test does.
   */
  originUrl?: string;
  /**
   * `wrangler dev --test-scheduled`: `GET /__scheduled` on the worker runs its scheduled job
   * (the Cron Trigger) now. wrangler-dev only.
   */
  testScheduled?: boolean;
}

export type Row = Record<string, unknown>;

export interface Stack {
  /** `http://127.0.0.1:<port>`: the worker, in front of the origin. */
  workerUrl: string;
  /**
   * `http://localhost:<port>`: the same worker under the host name the dashboard answers on while
   * `DASHBOARD_HOST` is unset (SECURITY.md); the site is `workerUrl`, another origin.
   */
  dashboardUrl: string;
  /** `http://127.0.0.1:<port>`: the demo origin, directly. */
  originUrl: string;
  /** Bearer token of the `/_reflinks/*` API. */
  apiToken: string;
  /**
   * Runs SQL on the stack's local D1 (`wrangler d1 execute --local`): the last statement's rows.
   * Calls made together run one after the other (see {@link Stack.exclusive}).
   */
  query<T extends Row = Row>(sql: string): Promise<T[]>;
  /**
   * Runs `command` (say, `npm run report` with `--persist-to persistDir`) once no other wrangler
   * command of this stack is running on its D1, and holds the next ones off until it is done.
   * Every process that opens `persistDir` with wrangler must go through here.
   */
  exclusive<T>(command: () => Promise<T>): Promise<T>;
  /** The local D1's directory, for other tools' `--persist-to` (`npm run report`), via `exclusive`. */
  persistDir: string;
  /** Stops the worker's process group and the origin, and removes the temporary D1. */
  stop(): Promise<void>;
}

/** SQL text literal. */
export function sqlString(value: string | null | undefined): string {
  return value == null ? "NULL" : `'${value.replaceAll("'", "''")}'`;
}

async function wranglerOk(label: string, args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<string> {
  const result = await runWrangler(args, { env: extraEnv });
  if (result.code !== 0) {
    throw new Error(
      `${label} failed: wrangler ${args.join(" ")} exited with ${result.code}\n` +
        `--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
    );
  }
  return result.stdout;
}

async function d1Execute(persistDir: string, sql: string): Promise<Row[]> {
  const args = ["d1", "execute", "DB", "--local", "--persist-to", persistDir, "--json", "--command", sql];
  const stdout = await wranglerOk("d1 execute", args);
  // With --json, stdout is the JSON array of results, one per statement.
  const start = stdout.search(/[[{]/);
  let parsed: unknown;
  try {
    parsed = JSON.parse(start === -1 ? stdout : stdout.slice(start));
  } catch {
    throw new Error(`d1 execute printed no JSON for ${JSON.stringify(sql)}:\n${stdout}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`d1 execute: unexpected output ${stdout}`);
  const last = parsed.at(-1) as { results?: Row[]; success?: boolean } | undefined;
  if (!last || last.success === false) throw new Error(`d1 execute failed: ${stdout}`);
  return last.results ?? [];
}

/**
 * A queue of one: each task starts when the previous one has settled (failed or not), in the order
 * they were handed in.
 */
function oneAtATime() {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = last.then(task);
    last = run.catch(() => undefined);
    return run;
  };
}

/** A port that was free a moment ago (the usual listen-on-0-and-close trick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return `http://${HOST}:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether any process of the group `pgid` is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours to signal (cannot happen for our own group, but it is alive).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** Ends wrangler dev and everything it started (workerd), waiting until the whole group is gone. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killGroup(pgid, "SIGTERM");
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  await Promise.race([exited, sleep(STOP_TIMEOUT_MS)]);
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) {
    killGroup(pgid, "SIGKILL");
    await Promise.race([exited, sleep(2_000)]);
  }
}

/** Keeps the last `OUTPUT_TAIL_CHARS` characters of a child's stdout and stderr, interleaved. */
function captureOutput(child: ChildProcess): () => string {
  let tail = "";
  const append = (chunk: string) => {
    tail = (tail + chunk).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.setEncoding("utf8").on("data", append);
  child.stderr?.setEncoding("utf8").on("data", append);
  return () => tail;
}

async function waitUntilReady(workerUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  const up = await pollUntilReady(`${workerUrl}/_reflinks/health`, {
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: READY_POLL_MS,
    headers: { "User-Agent": BROWSER_UA },
    stopped: () =>
      child.exitCode !== null || child.signalCode !== null
        ? `wrangler dev exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready`
        : null,
    check: async (response) => {
      const text = await response.text();
      let body: { ok?: unknown; error?: { code?: unknown } } | undefined;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON yet: keep polling.
      }
      if (response.ok && body?.ok === true) return true;
      // A bad `--var` does not get better by waiting.
      if (body?.error?.code === "misconfigured") {
        throw new GiveUp(
          new Error(`The worker is misconfigured: ${text}\n--- wrangler output ---\n${output()}`),
        );
      }
      return `HTTP ${response.status}: ${text.slice(0, 300)}`;
    },
  });
  if (!up.ready) {
    throw new Error(`wrangler dev at ${workerUrl}: ${up.why}.\n--- wrangler output ---\n${output()}`);
  }
}

/**
 * Serves the worker's deployable bundle with Miniflare on a free port, with the same bindings as
 * wrangler dev would give it: wrangler.toml's vars and D1 (persisted where wrangler keeps it, so
 * `wrangler d1 execute --persist-to` reads the same database), plus `vars`.
 */
async function startMiniflare(persistDir: string, vars: Record<string, string>, port: number) {
  const outdir = path.join(persistDir, "dist");
  await wranglerOk("bundle", ["deploy", "--dry-run", "--outdir", outdir]);
  const { Miniflare } = await import("miniflare");
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") });
  const database = config.d1_databases[0];
  if (!database?.database_id) throw new Error("wrangler.toml has no D1 database id");
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(outdir, "index.js"),
    modulesRoot: outdir,
    // The lazily loaded modules (lazy/*.js, docs/architecture.md) are ES modules, as wrangler.toml's
    // rules upload them; Miniflare would read a .js file it finds by an import() as CommonJS.
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    bindings: { ...(config.vars as Record<string, string>), ...vars },
    d1Databases: { [database.binding]: database.database_id },
    d1Persist: path.join(persistDir, "v3", "d1"),
    host: HOST,
    port,
  });
  const url = (await mf.ready).origin;
  return { url, dispose: () => mf.dispose() };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const apiToken = `e2e-token-${randomBytes(12).toString("hex")}`;
  const signingSecret = `e2e-signing-secret-${randomBytes(24).toString("hex")}`;
  const persistDir = await mkdtemp(path.join(tmpdir(), "reflinks-e2e-"));
  // Every wrangler d1 command on persistDir, from here on, goes through this.
  const exclusive = oneAtATime();
  const query = <T extends Row = Row>(sql: string) =>
    exclusive(() => d1Execute(persistDir, sql)) as Promise<T[]>;
  const port = await freePort();
  const workerUrl = `http://${HOST}:${port}`;
  // The demo origin calls the worker's API (its purchase confirms a referral).
  const origin: Server = createOriginServer({ reflinksUrl: workerUrl, apiToken });
  let worker: ChildProcess | undefined;
  // Last resort if the test process dies without calling stop(): never leave workerd behind.
  const onExit = () => {
    if (worker?.pid !== undefined) killGroup(worker.pid, "SIGKILL");
  };
  process.once("exit", onExit);

  let disposeMiniflare: (() => Promise<void>) | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      try {
        if (worker) await stopGroup(worker);
        if (disposeMiniflare) await disposeMiniflare();
      } finally {
        process.off("exit", onExit);
        await closeServer(origin);
        await rm(persistDir, { recursive: true, force: true, maxRetries: 3 });
      }
    })();
    return stopped;
  };

  try {
    // CI=true: `migrations apply` would otherwise ask for confirmation.
    await exclusive(() =>
      wranglerOk(
        "d1 migrations apply",
        ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir],
        { CI: "true" },
      ),
    );
    const links = options.links ?? [];
    if (links.length > 0) {
      const now = sqlString(new Date().toISOString());
      const values = links
        .map(
          (link) =>
            `(${sqlString(link.identifier)}, ${sqlString(link.userId)}, ${link.disabled ? 1 : 0}, ${now}, ${now})`,
        )
        .join(", ");
      await query(
        `INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at) VALUES ${values}`,
      );
    }

    const originUrl = options.originUrl ?? (await listen(origin));
    const vars = {
      ...options.vars,
      ORIGIN_URL: originUrl,
      API_TOKEN: apiToken,
      SIGNING_SECRET: signingSecret,
    };
    if (options.runtime === "miniflare") {
      const { url, dispose } = await startMiniflare(persistDir, vars, port);
      disposeMiniflare = dispose;
      return {
        workerUrl: url,
        dashboardUrl: url.replace(HOST, "localhost"),
        originUrl,
        apiToken,
        query,
        exclusive,
        persistDir,
        stop,
      };
    }
    const args = [
      "dev",
      "--ip",
      HOST,
      "--port",
      String(port),
      "--persist-to",
      persistDir,
      "--show-interactive-dev-session=false",
      ...(options.testScheduled ? ["--test-scheduled"] : []),
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ];
    // Its own process group, so that stop() ends workerd along with wrangler.
    worker = spawnWrangler(args, { detached: true });
    const output = captureOutput(worker);
    const spawnError = new Promise<never>((_, reject) => worker?.once("error", reject));
    await Promise.race([waitUntilReady(workerUrl, worker, output), spawnError]);

    return {
      workerUrl,
      dashboardUrl: `http://localhost:${port}`,
      originUrl,
      apiToken,
      query,
      exclusive,
      persistDir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
