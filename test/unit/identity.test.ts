import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { IDENTITY_COOKIE, identityCookie, verifiedUserId } from "../../src/lib/identity";

const SECRET = "unit-test-signing-secret-0123456789";
const config = parseConfig({ SIGNING_SECRET: SECRET });
const site = new URL("https://shop.example/login");

async function cookieFor(userId: string, options: { secret?: string; now?: number } = {}) {
  const signer = options.secret ? parseConfig({ SIGNING_SECRET: options.secret }) : config;
  const setCookie = await identityCookie(userId, signer, site, { now: options.now });
  if (!setCookie) throw new Error("no cookie");
  return setCookie.split(";")[0] ?? "";
}

function requestWith(cookie: string): Request {
  return new Request(site, { headers: { Cookie: cookie } });
}

describe("the signed identity cookie", () => {
  it("is HttpOnly, SameSite=Lax, Secure on https, for COOKIE_MAX_AGE", async () => {
    const setCookie = await identityCookie("u-1", config, site);
    expect(setCookie).toMatch(/^reflinks_uid=/);
    expect(setCookie).toMatch(/; Max-Age=31536000/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    const plain = await identityCookie("u-1", config, new URL("http://localhost/"));
    expect(plain).not.toMatch(/Secure/);
  });

  it("names its user when valid, whatever characters the id has", async () => {
    for (const userId of ["42", "alice@example.com", "ünïcødé id; with=signs.and.dots"]) {
      expect(await verifiedUserId(requestWith(await cookieFor(userId)), config)).toBe(userId);
    }
  });

  it("is ignored when tampered with", async () => {
    const cookie = await cookieFor("alice");
    const value = decodeURIComponent(cookie.slice(IDENTITY_COOKIE.length + 1));
    const forged = value.replace("alice", "mallory");
    expect(
      await verifiedUserId(requestWith(`${IDENTITY_COOKIE}=${encodeURIComponent(forged)}`), config),
    ).toBeNull();
    const flipped = `${cookie.slice(0, -4)}AAA${cookie.slice(-1)}`;
    expect(await verifiedUserId(requestWith(flipped), config)).toBeNull();
    expect(await verifiedUserId(requestWith(`${IDENTITY_COOKIE}=alice`), config)).toBeNull();
  });

  it("is ignored when signed with another key, or with a secret since rotated away", async () => {
    const old = await cookieFor("alice", { secret: "the-previous-secret-before-rotation-0" });
    expect(await verifiedUserId(requestWith(old), config)).toBeNull();
  });

  it("is ignored once older than COOKIE_MAX_AGE, even if the browser still sends it", async () => {
    const now = Date.now();
    const shortLived = parseConfig({ SIGNING_SECRET: SECRET, COOKIE_MAX_AGE: "3600" });
    const cookie = await cookieFor("alice", { now: now - 3_601_000 });
    expect(await verifiedUserId(requestWith(cookie), shortLived, now)).toBeNull();
    expect(await verifiedUserId(requestWith(cookie), shortLived, now - 2_000)).toBe("alice");
  });

  it("is not issued nor read without SIGNING_SECRET", async () => {
    const unsigned = parseConfig({});
    expect(await identityCookie("alice", unsigned, site)).toBeNull();
    expect(await verifiedUserId(requestWith(await cookieFor("alice")), unsigned)).toBeNull();
  });
});
