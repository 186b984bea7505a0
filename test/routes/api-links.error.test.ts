/**
 * `/_reflinks/links` when the request cannot be done (docs/api.md): 409 for a taken identifier,
 * 404 for an unknown one, 422 for a cursor the list did not give out. Nothing is changed.
 */
import { describe, expect, it } from "vitest";
import { api, apiError, apiJson, linkByIdentifier, seedHit, uniqueUser } from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { uniqueIdentifier } from "../support/worker";

/** base64url of a JSON value, as a cursor would be written if a client forged one. */
function forgedCursor(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

describe("409: the identifier is taken", () => {
  it("answers 409 and leaves the existing link as it was", async () => {
    const owner = uniqueUser("first");
    const link = await createLink(uniqueIdentifier(), { userId: owner });
    const answer = await apiJson("/links", {
      method: "POST",
      json: { identifier: link.identifier, user_id: uniqueUser("second") },
    });
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual(apiError("conflict", new RegExp(link.identifier)));
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(await linkByIdentifier(link.identifier)).toMatchObject({
      id: link.id,
      userId: owner,
      updatedAt: link.updatedAt,
    });
  });

  it("a second create of the same identifier through the API is 409", async () => {
    const identifier = uniqueIdentifier();
    const first = await apiJson("/links", { method: "POST", json: { identifier } });
    expect(first.status).toBe(201);
    const second = await apiJson("/links", { method: "POST", json: { identifier } });
    expect(second.status).toBe(409);
    expect(second.body).toEqual(apiError("conflict"));
  });

  it("racing creates of one identifier: exactly one 201, the others 409", async () => {
    const identifier = uniqueIdentifier("race");
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        apiJson("/links", { method: "POST", json: { identifier, user_id: `racer-${i}` } }),
      ),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, ...Array(9).fill(409)]);
    const winner = answers.find((answer) => answer.status === 201);
    expect(await linkByIdentifier(identifier)).toMatchObject({ userId: winner?.body.user_id });
  });
});

describe("404: no such link", () => {
  it.each([
    ["GET", ""],
    ["PATCH", ""],
    ["DELETE", ""],
    ["GET", "/hits"],
  ])("%s /links/:unknown%s", async (method, suffix) => {
    const identifier = uniqueIdentifier("missing");
    const answer = await apiJson(`/links/${identifier}${suffix}`, {
      method,
      ...(method === "PATCH" ? { json: { disabled: true } } : {}),
    });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("not_found"));
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(await linkByIdentifier(identifier)).toBeNull();
  });

  it.each(["has%20space", "%27%20OR%20%271%27%3D%271", "a".repeat(51), "%00", "%E2%9C%93", "..%2F..%2Fetc"])(
    "a malformed identifier %s is 404, never a 500",
    async (identifier) => {
      for (const [method, suffix] of [
        ["GET", ""],
        ["PATCH", ""],
        ["DELETE", ""],
        ["GET", "/hits"],
      ] as const) {
        const answer = await apiJson(`/links/${identifier}${suffix}`, {
          method,
          ...(method === "PATCH" ? { json: { disabled: true } } : {}),
        });
        expect(answer.status, `${method} ${identifier}${suffix}`).toBe(404);
        expect(answer.body).toEqual(apiError("not_found"));
      }
    },
  );

  it("a deleted link is 404 for every later call, and a second DELETE too", async () => {
    const link = await createLink(uniqueIdentifier());
    await seedHit(link.id);
    expect((await apiJson(`/links/${link.identifier}`, { method: "DELETE" })).status).toBe(204);
    for (const [method, suffix] of [
      ["GET", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["GET", "/hits"],
    ] as const) {
      const answer = await apiJson(`/links/${link.identifier}${suffix}`, {
        method,
        ...(method === "PATCH" ? { json: { disabled: false } } : {}),
      });
      expect(answer.status, `${method} ${suffix}`).toBe(404);
      expect(answer.body).toEqual(apiError("not_found"));
    }
    expect(await linkByIdentifier(link.identifier)).toBeNull();
    expect(await hitsOf(link.id)).toHaveLength(0);
  });

  it("after a 404 PATCH, no link was made", async () => {
    const identifier = uniqueIdentifier("ghost");
    const answer = await apiJson(`/links/${identifier}`, { method: "PATCH", json: { user_id: "x" } });
    expect(answer.status).toBe(404);
    expect(await linkByIdentifier(identifier)).toBeNull();
  });
});

describe("422: a cursor the list did not give out", () => {
  it.each([
    ["garbage", "garbage"],
    ["not base64", "!!!!"],
    ["a string inside", forgedCursor("abc")],
    ["an object inside", forgedCursor({ id: 1 })],
    ["a hits cursor", forgedCursor(["2026-01-01T00:00:00.000Z", crypto.randomUUID()])],
    ["a fraction", forgedCursor(1.5)],
  ])("GET /links with %s", async (_, cursor) => {
    const answer = await apiJson(`/links?cursor=${encodeURIComponent(cursor)}`);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", /\bcursor\b/));
  });

  it.each([
    ["garbage", "garbage"],
    ["a links cursor", forgedCursor(12)],
    ["a tuple of numbers", forgedCursor([1, 2])],
    ["a one-element tuple", forgedCursor(["2026-01-01T00:00:00.000Z"])],
  ])("GET /links/:identifier/hits with %s", async (_, cursor) => {
    const link = await createLink(uniqueIdentifier());
    const answer = await apiJson(`/links/${link.identifier}/hits?cursor=${encodeURIComponent(cursor)}`);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", /\bcursor\b/));
  });
});

describe("unknown fields", () => {
  it("a misspelt field is refused by name, and creates nothing", async () => {
    const response = await api("/links", { method: "POST", json: { identifer: "typo-link" } });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual(apiError("validation_failed", "identifer is not a known field"));
    const list = await api("/links?limit=200");
    expect(JSON.stringify(await list.json())).not.toContain("typo-link");
  });
});
