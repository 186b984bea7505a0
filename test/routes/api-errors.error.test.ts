/**
 * The API's error answers (docs/api.md): `{"error": {"code", "message"}}` with 400 (bad JSON),
 * 404, 405, 413 (body over 64 KiB) and 422 (a field fails validation; the message names it), and
 * `Cache-Control: no-store` on every answer, error or not.
 */
import { describe, expect, it, vi } from "vitest";
import {
  type ApiOptions,
  api,
  apiError,
  apiJson,
  brokenDatabase,
  linkByIdentifier,
  referralsOf,
  seedHit,
} from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

const KIB_64 = 64 * 1024;

/** A JSON text padded with trailing spaces (still valid JSON) to exactly `bytes` bytes. */
function paddedJson(value: unknown, bytes: number): string {
  const text = JSON.stringify(value);
  if (text.length > bytes) throw new Error("padding target too small");
  return text + " ".repeat(bytes - text.length);
}

/** A chunked body (no Content-Length) of `text`, sent in 4 KiB pieces. */
function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + 4096));
      offset += 4096;
    },
  });
}

describe("400: a body that is not JSON", () => {
  it.each([
    ["POST", "/links", "{not json"],
    ["POST", "/links", '{"identifier": "x"'],
    ["POST", "/links", '{"identifier": "x"} trailing'],
    ["POST", "/reconcile", "user_id=1&anonymous_id=2"],
    ["POST", "/confirm", "{'user_id': 'single quotes'}"],
    ["POST", "/confirm", "\u0000"],
  ])("%s %s with %j: 400 bad_json", async (method, path, body) => {
    const answer = await apiJson(path, {
      method,
      body,
      headers: { "Content-Type": "application/json" },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(apiError("bad_json"));
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
  });

  it("PATCH with broken JSON is 400 and changes nothing", async () => {
    const link = await createLink(uniqueIdentifier());
    const answer = await apiJson(`/links/${link.identifier}`, { method: "PATCH", body: '{"disabled": tru}' });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(apiError("bad_json"));
    expect(await linkByIdentifier(link.identifier)).toMatchObject({ disabled: false });
  });
});

describe("413: a body over 64 KiB", () => {
  it("with a Content-Length: 413 payload_too_large, nothing written", async () => {
    const identifier = uniqueIdentifier("big");
    const answer = await apiJson("/links", {
      method: "POST",
      body: paddedJson({ identifier }, KIB_64 + 1),
      headers: { "Content-Type": "application/json" },
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(apiError("payload_too_large"));
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(await linkByIdentifier(identifier)).toBeNull();
  });

  it("exactly 64 KiB is accepted", async () => {
    const identifier = uniqueIdentifier("edge");
    const answer = await apiJson("/links", { method: "POST", body: paddedJson({ identifier }, KIB_64) });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ identifier });
  });

  it("a chunked (streamed) body without Content-Length: 413, nothing written", async () => {
    const identifier = uniqueIdentifier("chunked");
    const body = streamOf(paddedJson({ identifier }, KIB_64 + 1));
    const answer = await apiJson("/links", { method: "POST", body });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(apiError("payload_too_large"));
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(await linkByIdentifier(identifier)).toBeNull();
  });

  it("a chunked body of exactly 64 KiB is accepted", async () => {
    const identifier = uniqueIdentifier("chunked-edge");
    const answer = await apiJson("/links", {
      method: "POST",
      body: streamOf(paddedJson({ identifier }, KIB_64)),
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ identifier });
  });

  it("a never-ending chunked body is cut off: 413 without reading it all", async () => {
    let sent = 0;
    const limit = 16 * 1024 * 1024; // a safety stop, so that a failing worker cannot hang the test
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= limit) {
          controller.close();
          return;
        }
        controller.enqueue(new TextEncoder().encode(" ".repeat(8192)));
        sent += 8192;
      },
    });
    const answer = await apiJson("/reconcile", { method: "POST", body: endless });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(apiError("payload_too_large"));
    expect(sent).toBeLessThan(1024 * 1024);
  });

  it("also on PATCH, /reconcile and /confirm", async () => {
    const link = await createLink(uniqueIdentifier());
    const anonymousId = crypto.randomUUID();
    const hit = await seedHit(link.id, { anonymousId });
    for (const [method, path, value] of [
      ["PATCH", `/links/${link.identifier}`, { disabled: true }],
      ["POST", "/reconcile", { user_id: "big-user", anonymous_id: anonymousId }],
      ["POST", "/confirm", { user_id: "big-user" }],
    ] as const) {
      const answer = await apiJson(path, { method, body: paddedJson(value, KIB_64 + 100) });
      expect(answer.status, `${method} ${path}`).toBe(413);
      expect(answer.body).toEqual(apiError("payload_too_large"));
    }
    expect(await linkByIdentifier(link.identifier)).toMatchObject({ disabled: false });
    const [stored] = await hitsOf(link.id);
    expect(stored).toMatchObject({ id: hit.id, hitUserId: null });
  });
});

describe("422: a field fails validation, and the message names it and says what is wrong", () => {
  const IDENTIFIER_RULE = "identifier must be 1-50 characters of A-Z, a-z, 0-9, _ and -";
  const USER_ID_RULE = "user_id must be a non-empty string or an integer";
  it.each<[string, string, string, ApiOptions]>([
    [
      "identifier with a space",
      IDENTIFIER_RULE,
      "/links",
      { method: "POST", json: { identifier: "has space" } },
    ],
    [
      "identifier of 51 characters",
      IDENTIFIER_RULE,
      "/links",
      { method: "POST", json: { identifier: "a".repeat(51) } },
    ],
    ["empty identifier", IDENTIFIER_RULE, "/links", { method: "POST", json: { identifier: "" } }],
    ["identifier with a slash", IDENTIFIER_RULE, "/links", { method: "POST", json: { identifier: "a/b" } }],
    [
      "identifier as a number",
      "identifier must be a string",
      "/links",
      { method: "POST", json: { identifier: 12345 } },
    ],
    ["user_id as an object", USER_ID_RULE, "/links", { method: "POST", json: { user_id: { id: 1 } } }],
    ["user_id as an array", USER_ID_RULE, "/links", { method: "POST", json: { user_id: ["a"] } }],
    ["user_id empty", "user_id must not be empty", "/links", { method: "POST", json: { user_id: "" } }],
    ["user_id a fraction", USER_ID_RULE, "/links", { method: "POST", json: { user_id: 4.5 } }],
    ["user_id boolean", USER_ID_RULE, "/links", { method: "POST", json: { user_id: true } }],
    ["limit=0", "limit must be at least 1", "/links?limit=0", {}],
    ["limit=abc", "limit must be a whole number from 1 to 200", "/links?limit=abc", {}],
    ["limit=-1", "limit must be a whole number from 1 to 200", "/links?limit=-1", {}],
    ["limit=1.5", "limit must be a whole number from 1 to 200", "/links?limit=1.5", {}],
    ["limit=201", "limit must be at most 200", "/links?limit=201", {}],
    ["cursor garbage", "cursor is not a cursor this list gave out", "/links?cursor=garbage", {}],
    [
      "confirm without user_id",
      "user_id is required",
      "/confirm",
      { method: "POST", json: { event: "signup" } },
    ],
    ["confirm with user_id null", USER_ID_RULE, "/confirm", { method: "POST", json: { user_id: null } }],
    [
      "event too long",
      "event must be at most 64 characters",
      "/confirm",
      { method: "POST", json: { user_id: "u", event: "e".repeat(65) } },
    ],
    [
      "event empty",
      "event must not be empty",
      "/confirm",
      { method: "POST", json: { user_id: "u", event: "" } },
    ],
    [
      "event a number",
      "event must be a string",
      "/confirm",
      { method: "POST", json: { user_id: "u", event: 7 } },
    ],
    [
      "event with a control character",
      "event must be well-formed Unicode without control or bidirectional control characters",
      "/confirm",
      { method: "POST", json: { user_id: "u", event: "sign\nup" } },
    ],
    [
      "a misspelt key on confirm, which would otherwise credit the default event",
      "evnt is not a known field",
      "/confirm",
      { method: "POST", json: { user_id: "u", evnt: "purchase" } },
    ],
    [
      "a misspelt key on reconcile",
      "anonymousId is not a known field",
      "/reconcile",
      { method: "POST", json: { user_id: "u", anonymousId: crypto.randomUUID() } },
    ],
    [
      "reconcile without user_id",
      "user_id is required",
      "/reconcile",
      { method: "POST", json: { anonymous_id: "x" } },
    ],
  ])("%s", async (_, message, path, options) => {
    const answer = await apiJson(path, options);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", message));
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
  });

  it.each<[string, string, unknown]>([
    ['disabled as "yes"', "disabled must be true or false", { disabled: "yes" }],
    ["disabled as 1", "disabled must be true or false", { disabled: 1 }],
    ["user_id as an object", USER_ID_RULE, { user_id: { id: 1 } }],
  ])("PATCH with %s: 422 and nothing changed", async (_, message, json) => {
    const link = await createLink(uniqueIdentifier());
    const answer = await apiJson(`/links/${link.identifier}`, { method: "PATCH", json });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", message));
    expect(await linkByIdentifier(link.identifier)).toMatchObject({
      disabled: false,
      userId: link.userId,
      updatedAt: link.updatedAt,
    });
  });

  it("limit on a link's hits is checked the same way", async () => {
    const link = await createLink(uniqueIdentifier());
    for (const limit of ["0", "abc", "-5"]) {
      const answer = await apiJson(`/links/${link.identifier}/hits?limit=${limit}`);
      expect(answer.status).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /\blimit\b/));
    }
  });

  it("a JSON body that is not an object is 422, not a 500, and says what it is", async () => {
    const bodies = [
      ["[1, 2]", "array"],
      ['"a string"', "string"],
      ["42", "number"],
      ["null", "null"],
      ["true", "boolean"],
    ];
    for (const [body, received] of bodies) {
      for (const path of ["/links", "/reconcile", "/confirm"]) {
        const answer = await apiJson(path, { method: "POST", body });
        expect(answer.status, `${path} ${body}`).toBe(422);
        // zod's English message (zod/mini has none of its own unless configured: src/routes/api/input.ts).
        expect(answer.body).toEqual(
          apiError("validation_failed", `body Invalid input: expected object, received ${received}`),
        );
      }
    }
  });
});

describe("422 before anything is read: the route table's schemas run before the handler", () => {
  // With every D1 call failing, an answer other than 500 shows the handler never reached the
  // database: the params, query, headers and body were refused first, whatever the ids name.
  const unreachable = { bindings: { DB: brokenDatabase() } };

  it.each<[string, string, ApiOptions, RegExp]>([
    ["params", "/referrals/not-a-number/release", { method: "POST" }, /^id must be a referral id/],
    ["query", "/links/no-such-link/hits?limit=0", {}, /^limit must be at least 1/],
    ["query", "/reports/earnings?from=2026-01-01", {}, /^from is not a parameter of this report/],
    ["query", "/reports/earnings?page=2", {}, /^page is not a known field/],
    ["headers", "/payouts", { method: "POST", json: {} }, /^Idempotency-Key header is required/],
    [
      "headers",
      "/payout-runs",
      { method: "POST", json: { currency: "EUR" }, headers: { "Idempotency-Key": "  " } },
      /^Idempotency-Key header must not be blank/,
    ],
    ["body", "/links/no-such-link/coupons", { method: "POST", json: { code: 7 } }, /^code must be a string/],
    [
      "body",
      "/conversions/no-such-payment/reverse",
      { method: "POST", json: { reversal_id: "" } },
      /^reversal_id must not be empty/,
    ],
  ])("%s: %s answers 422 naming the field, never 404 or 500", async (_part, path, options, message) => {
    const answer = await apiJson(path, { ...options, ...unreachable });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", message));
  });
});

describe("404: unknown routes", () => {
  it.each([
    ["GET", "/nope"],
    ["POST", "/nope"],
    ["GET", ""],
    ["GET", "/"],
    ["GET", "/links/a/b/c"],
    ["POST", "/links/a/hits/more"],
    ["GET", "/LINKS"],
  ])("%s /_reflinks%s: 404 JSON", async (method, path) => {
    const answer = await apiJson(path, { method });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("not_found"));
    expect(answer.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
  });
});

describe("405: a known route, another method", () => {
  it.each([
    ["PUT", "/links", "GET, HEAD, POST"],
    ["DELETE", "/links", "GET, HEAD, POST"],
    ["PATCH", "/links", "GET, HEAD, POST"],
    ["PUT", "/links/some-link", "GET, HEAD, PATCH, DELETE"],
    ["POST", "/links/some-link", "GET, HEAD, PATCH, DELETE"],
    ["POST", "/links/some-link/hits", "GET, HEAD"],
    ["DELETE", "/links/some-link/hits", "GET, HEAD"],
    ["POST", "/openapi.json", "GET, HEAD"],
    ["GET", "/confirm", "POST"],
    ["PUT", "/confirm", "POST"],
    ["GET", "/reconcile", "POST"],
    ["DELETE", "/reconcile", "POST"],
  ])("%s %s: 405 with Allow: %s", async (method, path, allow) => {
    const answer = await apiJson(path, { method, ...(method === "GET" ? {} : { json: {} }) });
    expect(answer.status).toBe(405);
    expect(answer.body).toEqual(apiError("method_not_allowed"));
    expect(answer.headers.get("Allow")).toBe(allow);
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
  });

  it("GET /confirm confirms nothing", async () => {
    const link = await createLink(uniqueIdentifier());
    const user = `user-${crypto.randomUUID()}`;
    await seedHit(link.id, { hitUserId: user });
    const answer = await apiJson(`/confirm?user_id=${user}`);
    expect(answer.status).toBe(405);
    expect(await referralsOf(user)).toEqual([]);
  });
});

describe("Cache-Control: no-store on every API answer", () => {
  it("success and error alike", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const link = await createLink(uniqueIdentifier());
    const doomed = await createLink(uniqueIdentifier());
    const requests: [number, string, ApiOptions][] = [
      [200, "/health", { token: null }],
      [200, "/links", {}],
      [201, "/links", { method: "POST", json: {} }],
      [200, `/links/${link.identifier}`, {}],
      [200, `/links/${link.identifier}`, { method: "PATCH", json: { disabled: false } }],
      [200, `/links/${link.identifier}/hits`, {}],
      [204, `/links/${doomed.identifier}`, { method: "DELETE" }],
      [200, "/reconcile", { method: "POST", json: { user_id: "u", anonymous_id: "x" } }],
      [404, "/confirm", { method: "POST", json: { user_id: `nobody-${crypto.randomUUID()}` } }],
      [400, "/links", { method: "POST", body: "{" }],
      [401, "/links", { token: null }],
      [404, "/nope", {}],
      [404, "/links/no-such-link", {}],
      [405, "/links", { method: "PUT" }],
      [409, "/links", { method: "POST", json: { identifier: link.identifier } }],
      [413, "/links", { method: "POST", body: paddedJson({}, KIB_64 + 1) }],
      [422, "/links?limit=0", {}],
      [503, "/links", { bindings: { API_TOKEN: "" } }],
      [503, "/health", { token: null, bindings: { DB: brokenDatabase() } }],
    ];
    for (const [status, path, options] of requests) {
      const response = await api(path, options);
      const where = `${options.method ?? "GET"} ${path}`;
      expect(response.status, where).toBe(status);
      expect(response.headers.get("Cache-Control"), where).toBe("no-store");
      await response.body?.cancel();
    }
  });

  it("a bad configuration is answered on the API too: 500 naming the variable, no-store", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await send("/_reflinks/links", {
      headers: { Authorization: "Bearer test-api-token" },
      bindings: { ATTRIBUTION: "middle" },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.text()).toContain("ATTRIBUTION");
  });
});
