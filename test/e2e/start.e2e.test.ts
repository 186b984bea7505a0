/**
 * `npm start` as a newcomer and their tools run it: a bad setting stops it before anything starts,
 * saying which; and however it is stopped (npm signalled, as an IDE or `timeout` does, or npm
 * killed outright), nothing it started runs on: not wrangler dev, not workerd, not the demo origin.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "./harness.ts";

const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

interface Started {
  npm: ChildProcess;
  output: () => string;
  /** Resolves when npm start prints that it runs, rejects when it exits first. */
  running: Promise<void>;
  exited: Promise<number | null>;
}

function npmStart(ports: { worker: number; origin: number }, args: string[] = []): Started {
  const npm = spawn("npm", ["start", ...(args.length ? ["--", ...args] : [])], {
    env: { ...ENV, REFLINKS_PORT: String(ports.worker), DEMO_ORIGIN_PORT: String(ports.origin) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
  const running = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes("reflinks is running")) resolve();
    };
    npm.stdout?.on("data", onData);
    npm.stderr?.on("data", onData);
    exited.then(() => reject(new Error(`npm start exited before running:\n${output}`)));
  });
  running.catch(() => {});
  return { npm, output: () => output, running, exited };
}

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits (polling: nothing tells this process when another's listener closes) until neither port listens. */
async function bothClosed(ports: { worker: number; origin: number }, withinMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!(await listening(ports.worker)) && !(await listening(ports.origin))) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

async function ports() {
  return { worker: await freePort(), origin: await freePort() };
}

describe("npm start", () => {
  it("stops on a bad setting before starting anything, naming it", async () => {
    const at = await ports();
    const started = npmStart(at, ["--var", "ATTRIBUTION:middle"]);
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain("ATTRIBUTION must be first or last (given with --var)");
    expect(started.output()).not.toContain("Applying D1 migrations");
    expect(await listening(at.worker)).toBe(false);
  });

  it.each([
    ["npm gets SIGTERM (an IDE's stop button, timeout)", "SIGTERM"],
    ["npm is killed outright (SIGKILL): nobody forwards anything", "SIGKILL"],
  ] as const)("%s: the worker and the demo origin stop too", async (_, signal) => {
    const at = await ports();
    const started = npmStart(at);
    await started.running;
    expect(await listening(at.worker)).toBe(true);
    expect(await listening(at.origin)).toBe(true);
    started.npm.kill(signal);
    await started.exited;
    expect(await bothClosed(at), started.output()).toBe(true);
  });
});
