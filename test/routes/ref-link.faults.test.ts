import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { withRetries } from "../../src/lib/retry";
import { createLink, hitsOf } from "../support/db";
import { flakyDatabase } from "../support/faults";
import { send, uniqueIdentifier } from "../support/worker";

describe("a D1 error during a referral visit", () => {
  it("retries a failed insert: the visitor is redirected and the hit is stored", async () => {
    const link = await createLink(uniqueIdentifier());
    // The lookup goes through; the first two insert attempts fail.
    const failingInserts = flakyDatabase(env.DB, 2, { only: /^insert/i }).db;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send(`/ref/${link.identifier}?next=/after`, { bindings: { DB: failingInserts } });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/after");
    expect(await hitsOf(link.id)).toHaveLength(1);
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)).event)).toContain("hit_write_failed");
    warn.mockRestore();
  });

  it("when even the link lookup fails, redirects at once and stores the hit once D1 is back", async () => {
    const link = await createLink(uniqueIdentifier());
    const flaky = flakyDatabase(env.DB, 2);
    const quiet = [vi.spyOn(console, "warn"), vi.spyOn(console, "error")].map((spy) =>
      spy.mockImplementation(() => {}),
    );
    const response = await send(`/ref/${link.identifier}`, { bindings: { DB: flaky.db } });
    expect(response.status).toBe(302);
    expect(response.headers.getSetCookie()).toHaveLength(1);
    expect(flaky.refused).toBe(2);
    const [hit] = await hitsOf(link.id);
    expect(hit?.anonymousId).toBe(response.headers.getSetCookie()[0]?.split(/[=;]/)[1]);
    for (const spy of quiet) spy.mockRestore();
  });

  it("every log line it causes names the request (its cf-ray)", async () => {
    const link = await createLink(uniqueIdentifier());
    const lines: string[] = [];
    for (const level of ["warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line) => lines.push(String(line)));
    }
    const flaky = flakyDatabase(env.DB, 3);
    const response = await send(`/ref/${link.identifier}`, {
      headers: { "cf-ray": "8f1e2d3c4b5a6978-AMS" },
      bindings: { DB: flaky.db },
    });
    expect(response.status).toBe(302);
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.map((entry) => entry.event)).toEqual([
      "link_lookup_failed",
      "hit_write_failed",
      "hit_write_failed",
    ]);
    for (const entry of entries) expect(entry.request_id).toBe("8f1e2d3c4b5a6978-AMS");
    vi.restoreAllMocks();
  });

  it("a ?ref= URL whose lookup fails shows the page rather than an error", async () => {
    const link = await createLink(uniqueIdentifier());
    const flaky = flakyDatabase(env.DB, 1);
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await send(`/page?ref=${link.identifier}`, { bindings: { DB: flaky.db } });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Origin")).toBe("stub");
    await response.body?.cancel();
    error.mockRestore();
  });
});

describe("withRetries", () => {
  it("gives up after the last delay, logging each failure, and reports it", async () => {
    const lines: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((line) => lines.push(String(line)));
    const error = vi.spyOn(console, "error").mockImplementation((line) => lines.push(String(line)));
    let attempts = 0;
    const stored = await withRetries(
      async () => {
        attempts += 1;
        throw new Error("down");
      },
      { event: "test_work", delaysMs: [1, 1, 1] },
    );
    expect(stored).toBe(false);
    expect(attempts).toBe(4);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { level: "warn", event: "test_work", attempt: 1, gave_up: false, error: "down" },
      { level: "warn", event: "test_work", attempt: 2, gave_up: false, error: "down" },
      { level: "warn", event: "test_work", attempt: 3, gave_up: false, error: "down" },
      { level: "error", event: "test_work", attempt: 4, gave_up: true, error: "down" },
    ]);
    warn.mockRestore();
    error.mockRestore();
  });

  it("gives up when the next wait would end past its time budget, and says so", async () => {
    const lines: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((line) => lines.push(String(line)));
    const error = vi.spyOn(console, "error").mockImplementation((line) => lines.push(String(line)));
    let attempts = 0;
    // A quick first failure, then one that hangs for 100 ms: past the 50 ms budget, no third try.
    const stored = await withRetries(
      async () => {
        attempts += 1;
        if (attempts > 1) await new Promise((resolve) => setTimeout(resolve, 100));
        throw new Error("slow and down");
      },
      { event: "test_work", delaysMs: [1, 1, 1, 1], budgetMs: 50 },
    );
    expect(stored).toBe(false);
    expect(attempts).toBe(2);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { level: "warn", event: "test_work", attempt: 1, gave_up: false, error: "slow and down" },
      {
        level: "error",
        event: "test_work",
        attempt: 2,
        gave_up: true,
        out_of_time: true,
        error: "slow and down",
      },
    ]);
    warn.mockRestore();
    error.mockRestore();
  });

  it("stops at once on a permanent error", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    let attempts = 0;
    const stored = await withRetries(
      async () => {
        attempts += 1;
        throw new Error("FOREIGN KEY constraint failed");
      },
      { event: "test_work", delaysMs: [1, 1], isPermanent: () => true },
    );
    expect([stored, attempts]).toEqual([false, 1]);
    error.mockRestore();
  });
});
