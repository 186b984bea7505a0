/**
 * The API's bearer token (docs/api.md#authentication, docs/configuration.md): missing or wrong is 401, the
 * scheme is case-insensitive, and with no token configured the API answers 503 and does nothing
 * (fail closed).
 */
import { describe, expect, it } from "vitest";
import {
  API_TOKEN,
  type ApiOptions,
  api,
  apiError,
  apiJson,
  hitById,
  linkByIdentifier,
  referralsOf,
  seedHit,
  uniqueUser,
} from "../support/api";
import { createLink } from "../support/db";
import { uniqueIdentifier } from "../support/worker";

/** Every route of the API (docs/api.md), with a body that would be valid. */
function everyRoute(identifier: string): [string, string, ApiOptions][] {
  return [
    ["GET", "/links", {}],
    ["POST", "/links", { json: { identifier: uniqueIdentifier("auth") } }],
    ["GET", `/links/${identifier}`, {}],
    ["PATCH", `/links/${identifier}`, { json: { disabled: true } }],
    ["DELETE", `/links/${identifier}`, {}],
    ["GET", `/links/${identifier}/hits`, {}],
    ["POST", "/reconcile", { json: { user_id: "u", anonymous_id: crypto.randomUUID() } }],
    ["POST", "/confirm", { json: { user_id: "u" } }],
    ["GET", "/reports/links", {}],
    ["GET", "/reports/daily", {}],
    ["GET", "/no-such-route", {}],
  ];
}

describe("missing or wrong token", () => {
  it("no Authorization header: 401 with the error shape, WWW-Authenticate and no-store, on every route", async () => {
    const link = await createLink(uniqueIdentifier());
    for (const [method, path, options] of everyRoute(link.identifier)) {
      const answer = await apiJson(path, { ...options, method, token: null });
      const where = `${method} ${path}`;
      expect(answer.status, where).toBe(401);
      expect(answer.body, where).toEqual(apiError("unauthorized"));
      expect(answer.headers.get("WWW-Authenticate"), where).toMatch(/^Bearer\b/);
      expect(answer.headers.get("Cache-Control"), where).toBe("no-store");
      expect(answer.headers.get("Content-Type"), where).toMatch(/^application\/json/);
    }
    // Nothing was done: the link is still there and enabled.
    expect(await linkByIdentifier(link.identifier)).toMatchObject({ disabled: false });
  });

  it.each([
    ["a wrong token of the same length", "Bearer test-api-tokeX"],
    ["a different case", `Bearer ${API_TOKEN.toUpperCase()}`],
    ["a shorter token", "Bearer test"],
    ["a prefix of the token", `Bearer ${API_TOKEN.slice(0, -1)}`],
    ["a longer token", `Bearer ${API_TOKEN}-and-more`],
    ["a very long token", `Bearer ${"x".repeat(10_000)}`],
    ["an empty token", "Bearer "],
    ["the scheme alone", "Bearer"],
    ["the token without a scheme", API_TOKEN],
    ["another scheme", `Basic ${btoa(`user:${API_TOKEN}`)}`],
    ["the token as Basic credentials", `Basic ${API_TOKEN}`],
    ["the token twice", `Bearer ${API_TOKEN}, Bearer ${API_TOKEN}`],
  ])("%s: 401", async (_, authorization) => {
    const answer = await apiJson("/links", { headers: { Authorization: authorization } });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(apiError("unauthorized"));
    expect(answer.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
  });

  it("the token anywhere but the Authorization header is not accepted", async () => {
    const elsewhere: HeadersInit[] = [{ "X-Api-Token": API_TOKEN }, { Cookie: `api_token=${API_TOKEN}` }];
    for (const headers of elsewhere) {
      const answer = await apiJson("/links", { headers, token: null });
      expect(answer.status).toBe(401);
    }
    const inQuery = await apiJson(`/links?token=${API_TOKEN}&access_token=${API_TOKEN}`, { token: null });
    expect(inQuery.status).toBe(401);
  });

  it("a wrong token writes nothing", async () => {
    const identifier = uniqueIdentifier("unauth");
    const answer = await apiJson("/links", {
      method: "POST",
      json: { identifier },
      token: "not-the-token",
    });
    expect(answer.status).toBe(401);
    expect(await linkByIdentifier(identifier)).toBeNull();
  });

  it("the 401 never echoes the token that was sent or the one expected", async () => {
    const response = await api("/links", { token: "guess-123" });
    const text = await response.text();
    expect(text).not.toContain("guess-123");
    expect(text).not.toContain(API_TOKEN);
    expect(response.headers.get("WWW-Authenticate")).not.toContain(API_TOKEN);
  });
});

describe("the right token", () => {
  it.each([
    ["Bearer", `Bearer ${API_TOKEN}`],
    ["bearer (lowercase scheme)", `bearer ${API_TOKEN}`],
    ["BEARER (uppercase scheme)", `BEARER ${API_TOKEN}`],
  ])("%s is accepted", async (_, authorization) => {
    const answer = await apiJson("/links?limit=1", { headers: { Authorization: authorization } });
    expect(answer.status).toBe(200);
    expect(answer.body.links).toEqual(expect.any(Array));
    expect(answer.body).toHaveProperty("next_cursor");
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(answer.headers.get("WWW-Authenticate")).toBeNull();
  });
});

describe("API_TOKEN unset: fail closed", () => {
  it.each([
    ["empty", { API_TOKEN: "" }],
    ["absent", { API_TOKEN: undefined }],
  ])("%s: every route answers 503, with or without a token sent", async (_, bindings) => {
    const link = await createLink(uniqueIdentifier());
    for (const token of [API_TOKEN, null, ""]) {
      for (const [method, path, options] of everyRoute(link.identifier)) {
        const answer = await apiJson(path, { ...options, method, token, bindings });
        const where = `${method} ${path} with token ${JSON.stringify(token)}`;
        expect(answer.status, where).toBe(503);
        expect(answer.body, where).toEqual({
          error: {
            code: "api_disabled",
            message: expect.stringContaining("API_TOKEN"),
            request_id: expect.any(String),
          },
        });
        expect(answer.headers.get("Cache-Control"), where).toBe("no-store");
      }
    }
  });

  it("does nothing: no link created, changed or deleted, no hit reconciled, no referral confirmed", async () => {
    const bindings = { API_TOKEN: "" };
    const owner = uniqueUser("owner");
    const link = await createLink(uniqueIdentifier(), { userId: owner });
    const anonymousId = crypto.randomUUID();
    const anonymousHit = await seedHit(link.id, { anonymousId });
    const user = uniqueUser();
    const userHit = await seedHit(link.id, { anonymousId: crypto.randomUUID(), hitUserId: user });
    const newIdentifier = uniqueIdentifier("never");

    const attempts: [string, string, ApiOptions][] = [
      ["POST", "/links", { json: { identifier: newIdentifier, user_id: "mallory" } }],
      ["PATCH", `/links/${link.identifier}`, { json: { disabled: true, user_id: "mallory" } }],
      ["DELETE", `/links/${link.identifier}`, {}],
      ["POST", "/reconcile", { json: { user_id: "mallory", anonymous_id: anonymousId } }],
      ["POST", "/confirm", { json: { user_id: user } }],
      ["POST", "/confirm", { json: { user_id: user, event: "purchase" } }],
    ];
    for (const [method, path, options] of attempts) {
      const answer = await apiJson(path, { ...options, method, bindings });
      expect(answer.status, `${method} ${path}`).toBe(503);
    }

    expect(await linkByIdentifier(newIdentifier)).toBeNull();
    expect(await linkByIdentifier(link.identifier)).toMatchObject({
      id: link.id,
      userId: owner,
      disabled: false,
      updatedAt: link.updatedAt,
    });
    expect(await hitById(anonymousHit.id)).toMatchObject({
      hitUserId: null,
      updatedAt: anonymousHit.updatedAt,
    });
    expect(await hitById(userHit.id)).toMatchObject({ hitUserId: user, confirmedAt: null });
    expect(await referralsOf(user)).toEqual([]);

    // With the token configured again, the same data is there to work with.
    const confirm = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
    expect(confirm.status).toBe(201);
  });
});
