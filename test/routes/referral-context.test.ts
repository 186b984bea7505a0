/**
 * The referred visitor's side (docs/referred-visitor.md): a recorded hit sets `reflinks_ref`, and
 * every request proxied for a browser carrying a valid one tells the origin `Reflinks-Referral`
 * and its signature; a client's own such headers never reach the origin; a tampered cookie is
 * ignored and logged once; no consent, no cookie and no header.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { forgetTamperedLog } from "../../src/lib/referral-context";
import { API_TOKEN, apiJson } from "../support/api";
import { createLink } from "../support/db";
import type { EchoedRequest } from "../support/echo";
import { send, uniqueIdentifier } from "../support/worker";

afterEach(() => {
  vi.restoreAllMocks();
  forgetTamperedLog();
});

async function hmacHex(value: string, key = API_TOKEN): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(value)));
  return [...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The `reflinks_ref` Set-Cookie of a response, or undefined. */
function referralSetCookie(response: Response): string | undefined {
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith("reflinks_ref="));
}

/** `name=value` of a Set-Cookie, as the browser sends it back. */
const sentBack = (setCookie: string) => setCookie.split(";")[0] as string;

async function originSaw(path: string, headers: Record<string, string>, bindings = {}) {
  const response = await send(path, { headers, bindings });
  expect(response.status).toBe(200);
  return (await response.json<EchoedRequest>()).headers;
}

async function linkWithReward(owner: string, reward: string | null) {
  const link = await createLink(uniqueIdentifier("friend"), { userId: owner });
  if (reward !== null) {
    const patched = await apiJson(`/links/${link.identifier}`, {
      method: "PATCH",
      json: { referee_reward: reward },
    });
    expect(patched.status).toBe(200);
  }
  return link;
}

describe("the reflinks_ref cookie", () => {
  it("a recorded hit sets it with the visitor cookie's attributes and ATTRIBUTION_WINDOW_DAYS as Max-Age", async () => {
    const link = await linkWithReward("alice", "20% off");
    const click = await send(`/ref/${link.identifier}`, { bindings: { ATTRIBUTION_WINDOW_DAYS: "30" } });
    const cookie = referralSetCookie(click);
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Max-Age=2592000(;|$)/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Secure/);
    const withDomain = await send(`/ref/${link.identifier}`, {
      bindings: { COOKIE_DOMAIN: ".shop.example" },
    });
    expect(referralSetCookie(withDomain)).toMatch(/; Domain=\.shop\.example/);
  });

  it("a ?ref= hit sets it too; a HEAD, a bot or an unknown link does not", async () => {
    const link = await linkWithReward("alice", null);
    expect(referralSetCookie(await send(`/page?ref=${link.identifier}`))).toBeDefined();
    expect(referralSetCookie(await send(`/ref/${link.identifier}`, { method: "HEAD" }))).toBeUndefined();
    expect(
      referralSetCookie(
        await send(`/ref/${link.identifier}`, { headers: { "User-Agent": "Googlebot/2.1" } }),
      ),
    ).toBeUndefined();
    expect(referralSetCookie(await send(`/ref/no-such-${crypto.randomUUID()}`))).toBeUndefined();
  });

  it("the origin gets Reflinks-Referral naming link, referrer, reward and click time, signed with API_TOKEN", async () => {
    const link = await linkWithReward("ålice; x", "20% off; free shipping");
    const before = Date.now();
    const cookie = referralSetCookie(await send(`/ref/${link.identifier}`)) as string;
    const headers = await originSaw("/landing", { Cookie: `other=1; ${sentBack(cookie)}` });
    const value = headers["reflinks-referral"] as string;
    expect(value).toMatch(
      new RegExp(
        `^link=${link.identifier}; referrer=%C3%A5lice%3B%20x; reward=20%25%20off%3B%20free%20shipping; at=[^;]+$`,
      ),
    );
    const at = Date.parse(decodeURIComponent(value.split("at=")[1] as string));
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(headers["reflinks-referral-signature"]).toBe(await hmacHex(value));
  });

  it("referrer and reward are left out when the link has none; the reward is the one at the time of the click", async () => {
    // Through the API: the test helper gives every link an owner.
    const made = await apiJson("/links", {
      method: "POST",
      json: { identifier: uniqueIdentifier("nobody") },
    });
    const link = { identifier: made.body.identifier as string };
    expect(made.body.user_id).toBeNull();
    const cookie = referralSetCookie(await send(`/ref/${link.identifier}`)) as string;
    await apiJson(`/links/${link.identifier}`, { method: "PATCH", json: { referee_reward: "later" } });
    const headers = await originSaw("/", { Cookie: sentBack(cookie) });
    expect(headers["reflinks-referral"]).toMatch(new RegExp(`^link=${link.identifier}; at=[^;]+$`));
  });

  it("a client's own Reflinks-Referral headers never reach the origin, with or without a cookie", async () => {
    const forged = {
      "Reflinks-Referral": "link=evil; reward=100%25",
      "Reflinks-Referral-Signature": "0".repeat(64),
    };
    const headers = await originSaw("/", forged);
    expect(headers["reflinks-referral"]).toBeUndefined();
    expect(headers["reflinks-referral-signature"]).toBeUndefined();

    const link = await linkWithReward("alice", "5 EUR");
    const cookie = referralSetCookie(await send(`/ref/${link.identifier}`)) as string;
    const withCookie = await originSaw("/", { ...forged, Cookie: sentBack(cookie) });
    expect(withCookie["reflinks-referral"]).toMatch(/^link=/);
    expect(withCookie["reflinks-referral"]).not.toContain("evil");
  });

  it("a tampered cookie is ignored and logged once per isolate, not per request", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const link = await linkWithReward("alice", "5 EUR");
    const cookie = sentBack(referralSetCookie(await send(`/ref/${link.identifier}`)) as string);
    const tampered = [
      cookie.replace("5%2520EUR", "500%2520EUR"),
      cookie.replace(/.$/, (last) => (last === "0" ? "1" : "0")),
      "reflinks_ref=link%3Devil.nothex",
      "reflinks_ref=%E0%A4%A.0",
    ];
    for (const bad of tampered) {
      const headers = await originSaw("/", { Cookie: bad });
      expect(headers["reflinks-referral"], bad).toBeUndefined();
    }
    const logged = warn.mock.calls.filter((call) => String(call[0]).includes("referral_cookie_ignored"));
    expect(logged).toHaveLength(1);
  });

  it("a cookie signed with another token, or older than the attribution window, is ignored", async () => {
    const link = await linkWithReward("alice", null);
    const cookie = sentBack(referralSetCookie(await send(`/ref/${link.identifier}`)) as string);
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const other = await originSaw("/", { Cookie: cookie }, { API_TOKEN: "another-token" });
    expect(other["reflinks-referral"]).toBeUndefined();

    const old = `link=${link.identifier}; at=${encodeURIComponent(new Date(Date.now() - 91 * 86_400_000).toISOString())}`;
    const stale = `reflinks_ref=${encodeURIComponent(`${old}.${await hmacHex(old)}`)}`;
    expect((await originSaw("/", { Cookie: stale }))["reflinks-referral"]).toBeUndefined();
    const recent = old.replace(
      /at=.*/,
      `at=${encodeURIComponent(new Date(Date.now() - 89 * 86_400_000).toISOString())}`,
    );
    const fresh = `reflinks_ref=${encodeURIComponent(`${recent}.${await hmacHex(recent)}`)}`;
    expect((await originSaw("/", { Cookie: fresh }))["reflinks-referral"]).toBe(recent);
  });

  it("without consent: no cookie at the click, and no header for a request carrying one", async () => {
    const link = await linkWithReward("alice", "5 EUR");
    const gpc = { CONSENT: "gpc" };
    const refused = await send(`/ref/${link.identifier}`, { headers: { "Sec-GPC": "1" }, bindings: gpc });
    expect(refused.status).toBe(302);
    expect(referralSetCookie(refused)).toBeUndefined();

    const cookie = sentBack(
      referralSetCookie(await send(`/ref/${link.identifier}`, { bindings: gpc })) as string,
    );
    const withdrawn = await originSaw("/", { Cookie: cookie, "Sec-GPC": "1" }, gpc);
    expect(withdrawn["reflinks-referral"]).toBeUndefined();
    const consenting = await originSaw("/", { Cookie: cookie }, gpc);
    expect(consenting["reflinks-referral"]).toMatch(/^link=/);
  });

  it("without API_TOKEN nothing is signed: no cookie is set", async () => {
    const link = await linkWithReward("alice", null);
    const click = await send(`/ref/${link.identifier}`, { bindings: { API_TOKEN: "" } });
    expect(click.status).toBe(302);
    expect(referralSetCookie(click)).toBeUndefined();
    expect(env.API_TOKEN).toBeTruthy();
  });
});
