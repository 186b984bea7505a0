/** The reports API refuses what it cannot answer: bad days, bad links, other methods. */
import { describe, expect, it } from "vitest";
import { apiError, apiJson } from "../support/api";
import { createLink } from "../support/db";
import { uniqueIdentifier } from "../support/worker";

describe("from and to", () => {
  it.each([
    ["from=2025-6-1", "from"],
    ["from=20250601", "from"],
    ["from=2025-02-30", "from"],
    ["from=2025-13-01", "from"],
    ["to=yesterday", "to"],
    ["to=2025-06-01T00:00:00Z", "to"],
    ["from=2025-06-01%27%20OR%201=1--", "from"],
  ])("%s: 422 naming %s", async (search, field) => {
    for (const report of ["links", "daily"]) {
      const answer = await apiJson(`/reports/${report}?${search}`);
      expect(answer.status, report).toBe(422);
      expect(answer.body, report).toEqual(
        apiError("validation_failed", new RegExp(`^${field} must be a date`)),
      );
      expect(answer.headers.get("Cache-Control")).toBe("no-store");
    }
  });

  it("to before from: 422 naming to", async () => {
    const answer = await apiJson("/reports/links?from=2025-06-02&to=2025-06-01");
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", /^to must not be before from/));
  });

  it("empty parameters count as not given, as a client filling a URL template sends them", async () => {
    const link = await createLink(uniqueIdentifier("templated"));
    for (const [report, search] of [
      ["links", "from=&to="],
      ["daily", "from=&to=&link="],
      ["daily", `from=&to=&link=${link.identifier}`],
    ] as const) {
      const [given, plain] = await Promise.all([
        apiJson(`/reports/${report}?${search}`),
        apiJson(`/reports/${report}?${search.replace(/[a-z]+=(&|$)/g, "")}`),
      ]);
      expect(given.status, search).toBe(200);
      expect(given.body, search).toEqual(plain.body);
    }
  });

  it("a single day (from = to) and leap days are fine", async () => {
    expect((await apiJson("/reports/links?from=2024-02-29&to=2024-02-29")).status).toBe(200);
    expect((await apiJson("/reports/daily?from=9999-12-31&to=9999-12-31")).status).toBe(200);
  });
});

describe("link", () => {
  it("malformed: 422 naming link", async () => {
    for (const link of ["a b", "x".repeat(51), "<script>"]) {
      const answer = await apiJson(`/reports/daily?link=${encodeURIComponent(link)}`);
      expect(answer.status, link).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /^link must be 1-50 characters/));
    }
  });

  it("unknown: 404", async () => {
    const answer = await apiJson(`/reports/daily?link=${uniqueIdentifier("missing")}`);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("not_found", /^No link "missing-/));
  });

  it("a known link with no hits: 200 with no rows", async () => {
    const link = await createLink(uniqueIdentifier("quiet"));
    expect((await apiJson(`/reports/daily?link=${link.identifier}`)).body).toEqual({ rows: [] });
  });
});

describe("methods", () => {
  it.each(["POST", "PUT", "PATCH", "DELETE"])("%s: 405 with Allow: GET, HEAD", async (method) => {
    for (const report of ["links", "daily"]) {
      const answer = await apiJson(`/reports/${report}`, { method });
      expect(answer.status).toBe(405);
      expect(answer.headers.get("Allow")).toBe("GET, HEAD");
      expect(answer.body).toEqual(apiError("method_not_allowed"));
    }
  });

  it("an unknown report: 404", async () => {
    expect((await apiJson("/reports/weekly")).status).toBe(404);
  });
});
