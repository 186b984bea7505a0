/** PORTAL_PATH, PORTAL_LOGIN_URL and PORTAL_LINKS (docs/configuration.md), and the page's session's age. */
import { describe, expect, it } from "vitest";
import { API_SEGMENTS, ConfigError, parseConfig } from "../../src/config";
import { API_ROUTES } from "../../src/routes/api/contract";
import { sessionCookie, sessionUser } from "../../src/routes/portal/session";

const refusal = (source: Record<string, string>) => {
  try {
    parseConfig(source);
  } catch (error) {
    return error instanceof ConfigError ? error.message : String(error);
  }
  return null;
};

describe("portal settings", () => {
  it("default to /_reflinks/me, /login and 1; off turns the page off", () => {
    expect(parseConfig({})).toMatchObject({
      portalPath: "/_reflinks/me",
      portalLoginUrl: "/login",
      portalLinks: 1,
    });
    expect(parseConfig({ PORTAL_PATH: "off" }).portalPath).toBeNull();
    expect(parseConfig({ PORTAL_PATH: "/account/referrals/" }).portalPath).toBe("/account/referrals");
  });

  it("refuse a bad value with a ConfigError naming it", () => {
    expect(refusal({ PORTAL_PATH: "me" })).toMatch(/PORTAL_PATH must be "off" or a path/);
    expect(refusal({ PORTAL_PATH: "/" })).toMatch(/PORTAL_PATH/);
    expect(refusal({ PORTAL_PATH: "/a/../b" })).toMatch(/PORTAL_PATH must not contain/);
    expect(refusal({ PORTAL_PATH: "/ref/me" })).toMatch(/PORTAL_PATH must not be under REF_PATH/);
    expect(refusal({ PORTAL_PATH: "/_reflinks/links" })).toMatch(
      /PORTAL_PATH must not be on a route of the API/,
    );
    expect(refusal({ PORTAL_PATH: "/_reflinks/dashboard/me" })).toMatch(/PORTAL_PATH/);
    expect(refusal({ PORTAL_PATH: "/_reflinks" })).toMatch(/PORTAL_PATH/);
    expect(refusal({ PORTAL_LOGIN_URL: "//evil.example/login" })).toMatch(/PORTAL_LOGIN_URL/);
    expect(refusal({ PORTAL_LINKS: "-1" })).toMatch(/PORTAL_LINKS must be a whole number/);
    expect(refusal({ PORTAL_LINKS: "1001" })).toMatch(/PORTAL_LINKS must be at most 1000/);
  });

  it("know every first segment of the API's routes", () => {
    const segments = new Set(Object.values(API_ROUTES).map((route) => route.path.split("/")[1]));
    expect([...segments].sort()).toEqual([...API_SEGMENTS].sort());
  });
});

describe("the page's session", () => {
  const config = parseConfig({ SIGNING_SECRET: "s".repeat(32) });
  const url = new URL("https://shop.example/_reflinks/me");
  const start = Date.parse("2030-01-01T00:00:00Z");

  async function requestWith(now: number) {
    const cookie = (await sessionCookie("ann", config, url, now)) ?? "";
    return new Request(url, { headers: { Cookie: cookie.split(";")[0] ?? "" } });
  }

  it("names its user for an hour, then no longer", async () => {
    const request = await requestWith(start);
    expect(await sessionUser(request, config, start + 59 * 60_000)).toBe("ann");
    expect(await sessionUser(request, config, start + 60 * 60_000)).toBeNull();
  });

  it("is not an identity cookie's value, nor signed with another secret", async () => {
    const request = await requestWith(start);
    const other = parseConfig({ SIGNING_SECRET: "t".repeat(32) });
    expect(await sessionUser(request, other, start)).toBeNull();
  });
});
