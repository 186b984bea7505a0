/**
 * DEDUPE_SECONDS, CONSENT and RETENTION_DAYS as configuration (docs/configuration.md#settings):
 * parsed by the worker's own rules, and a bad value handled as every bad value is.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { createLink, hitsOf } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

afterEach(() => vi.restoreAllMocks());

describe("parsing", () => {
  it("defaults: dedupe one hour, everyone consents, hits kept", () => {
    expect(parseConfig({})).toMatchObject({
      dedupeSeconds: 3600,
      consent: { kind: "none" },
      retentionDays: 0,
    });
  });

  it.each([
    ["none", { kind: "none" }],
    ["gpc", { kind: "gpc" }],
    ["cookie:cookie_consent", { kind: "cookie", name: "cookie_consent", value: null }],
    ["cookie:cmp=accepted", { kind: "cookie", name: "cmp", value: "accepted" }],
    [
      "cookie:OptanonConsent=isGpcEnabled=0&groups=C0004:1",
      {
        kind: "cookie",
        name: "OptanonConsent",
        value: "isGpcEnabled=0&groups=C0004:1",
      },
    ],
  ])("CONSENT=%s", (value, consent) => {
    expect(parseConfig({ CONSENT: value }).consent).toEqual(consent);
  });

  it.each([
    ["CONSENT", "all", "must be none, gpc, cookie:NAME or cookie:NAME=VALUE"],
    ["CONSENT", "cookie:a b", "must be none, gpc, cookie:NAME or cookie:NAME=VALUE"],
    ["CONSENT", "cookie:consent=a;b", "must be none, gpc, cookie:NAME or cookie:NAME=VALUE"],
    [
      "CONSENT",
      "cookie:reflinks_uid",
      "must name the site's consent cookie, not reflinks_uid (set by reflinks)",
    ],
    ["DEDUPE_SECONDS", "-1", "must be a whole number"],
    ["DEDUPE_SECONDS", "31536001", "must be at most 31536000"],
    ["RETENTION_DAYS", "30d", "must be a whole number"],
    ["RETENTION_DAYS", "36501", "must be at most 36500"],
  ])("%s=%s is refused, naming it", (variable, value, detail) => {
    expect(() => parseConfig({ [variable]: value })).toThrow(
      `reflinks is misconfigured: ${variable} ${detail}`,
    );
  });

  it("refuses the visitor cookie itself as the consent cookie, whatever COOKIE_NAME is", () => {
    expect(() => parseConfig({ COOKIE_NAME: "rk", CONSENT: "cookie:rk=1" })).toThrow(/CONSENT must name/);
  });
});

describe("a bad CONSENT in the worker", () => {
  const bindings = { CONSENT: "ask" };

  it("the API answers 500 misconfigured naming CONSENT", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await send("/_reflinks/health", { bindings });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      error: { code: "misconfigured", message: expect.stringContaining("CONSENT must be none, gpc") },
    });
  });

  it("a referral URL goes to the origin unchanged: no hit, no redirect, no cookie", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}`, { bindings });
    expect(response.status).not.toBe(302);
    await response.arrayBuffer();
    expect(response.headers.getSetCookie().filter((cookie) => cookie.startsWith("reflinks_"))).toEqual([]);
    expect(await hitsOf(link.id)).toEqual([]);
  });
});
