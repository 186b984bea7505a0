/**
 * `GET /_reflinks/health` (docs/api.md): no token needed, `{"ok": true}` when D1 answers, and a
 * 503 in the API's error shape when it does not.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, apiJson, brokenDatabase } from "../support/api";
import { flakyDatabase } from "../support/faults";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /_reflinks/health", () => {
  it("needs no token and answers {ok: true} when D1 answers", async () => {
    for (const token of [null, "wrong-token", undefined]) {
      const answer = await apiJson("/health", { token });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ ok: true });
      expect(answer.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(answer.headers.get("Cache-Control")).toBe("no-store");
    }
  });

  it("answers 503 when the D1 binding throws at prepare", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const answer = await apiJson("/health", { token: null, bindings: { DB: brokenDatabase() } });
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual(apiError("unavailable"));
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    // The log says why; the response says nothing of the internals.
    expect(JSON.stringify(answer.body)).not.toContain("injected");
    expect(error).toHaveBeenCalled();
  });

  it("answers 503 when the D1 query fails, and 200 again once D1 is back", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const flaky = flakyDatabase(env.DB, 1);
    const down = await apiJson("/health", { token: null, bindings: { DB: flaky.db } });
    expect(down.status).toBe(503);
    expect(down.body).toEqual(apiError("unavailable"));
    expect(down.headers.get("Cache-Control")).toBe("no-store");
    expect(JSON.stringify(down.body)).not.toContain("D1_ERROR");
    const up = await apiJson("/health", { token: null, bindings: { DB: flaky.db } });
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ ok: true });
  });

  it("other methods on /health: 405 with Allow, like every other API route", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const answer = await apiJson("/health", { method });
      // docs/api.md: the API answers a known route called with another method 405 (as /links, /confirm do),
      // not 404 "No such API route".
      expect(answer.status, method).toBe(405);
      expect(answer.body).toEqual(apiError("method_not_allowed"));
      expect(answer.headers.get("Allow")).toMatch(/\bGET\b/);
      expect(answer.headers.get("Cache-Control")).toBe("no-store");
    }
  });
});
