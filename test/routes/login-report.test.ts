import { env } from "cloudflare:workers";
import { generateSignedCookie } from "hono/cookie";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLink, hitsOf } from "../support/db";
import { flakyDatabase } from "../support/faults";
import { send, uniqueIdentifier } from "../support/worker";

afterEach(() => vi.restoreAllMocks());

function setCookies(response: Response): Map<string, string> {
  return new Map(
    response.headers.getSetCookie().map((cookie) => {
      const [name = "", ...rest] = cookie.split("=");
      return [name, rest.join("=")];
    }),
  );
}

function cookiePair(response: Response, name: string): string {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!cookie) throw new Error(`no ${name} cookie`);
  return cookie.split(";")[0] ?? "";
}

describe("the Reflinks-User response header (zero-code login reporting)", () => {
  it("reconciles the browser's hits, clears the anonymous cookie, sets the identity cookie, and is stripped", async () => {
    const first = await createLink(uniqueIdentifier());
    const second = await createLink(uniqueIdentifier());
    const visit = await send(`/ref/${first.identifier}`);
    const anonymous = cookiePair(visit, "reflinks_rk");
    await send(`/?ref=${second.identifier}`, { headers: { Cookie: anonymous } });
    const userId = `user-${crypto.randomUUID()}`;

    const login = await send(`/login-as?user=${userId}`, {
      headers: { Cookie: `${anonymous}; session=old` },
    });

    expect(login.status).toBe(303);
    expect(login.headers.get("Location")).toBe("/account");
    expect(login.headers.has("Reflinks-User")).toBe(false);
    expect(login.headers.get("Cache-Control")).toBe("no-store");
    const cookies = setCookies(login);
    expect(cookies.get("session")).toBe("new; Path=/; HttpOnly");
    expect(cookies.get("flash")).toBe("welcome; Path=/");
    expect(cookies.get("reflinks_rk")).toMatch(/^; Max-Age=0; Path=\//);
    expect(cookies.get("reflinks_uid")).toMatch(
      /; Max-Age=31536000; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );

    for (const link of [first, second]) {
      const [hit] = await hitsOf(link.id);
      expect(hit).toMatchObject({ hitUserId: userId, authenticated: false });
    }

    // Later visits by this browser are authenticated, and get no anonymous cookie.
    const third = await createLink(uniqueIdentifier());
    const later = await send(`/ref/${third.identifier}`, {
      headers: { Cookie: cookiePair(login, "reflinks_uid") },
    });
    expect(later.status).toBe(302);
    // Only the referral context's cookie (docs/referred-visitor.md), set with every recorded hit.
    expect(later.headers.getSetCookie().map((c) => c.split("=")[0])).toEqual(["reflinks_ref"]);
    const [hit] = await hitsOf(third.id);
    expect(hit).toMatchObject({ authenticated: true, hitUserId: userId, anonymousId: null });
  });

  it("is ignored, and still stripped, on an answer a cache replayed: no identity, no reconcile", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const link = await createLink(uniqueIdentifier());
    const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    for (const cache of ["HIT", "stale"]) {
      const login = await send(`/login-as?user=victim&cache=${cache}`, { headers: { Cookie: anonymous } });
      expect(login.status).toBe(303);
      expect(login.headers.has("Reflinks-User")).toBe(false);
      expect(login.headers.has("Reflinks-User-Signature")).toBe(false);
      expect([...setCookies(login).keys()]).toEqual(["session", "flash"]);
    }
    expect((await hitsOf(link.id))[0]).toMatchObject({ hitUserId: null });
    expect(warn.mock.calls.flat().join("\n")).toMatch(/login_report_ignored.*served from a cache/);
    warn.mockRestore();
  });

  it("leaves hits that already have a user alone", async () => {
    const link = await createLink(uniqueIdentifier());
    const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    await send("/login-as?user=first-user", { headers: { Cookie: anonymous } });
    await send("/login-as?user=second-user", { headers: { Cookie: anonymous } });
    const [hit] = await hitsOf(link.id);
    expect(hit?.hitUserId).toBe("first-user");
  });

  it("an empty value (a logout) clears the identity cookie", async () => {
    const response = await send("/login-as?user=");
    expect(response.headers.has("Reflinks-User")).toBe(false);
    expect(setCookies(response).get("reflinks_uid")).toMatch(/^; Max-Age=0; Path=\//);
  });

  it("without SIGNING_SECRET, signs the identity cookie with a key derived from API_TOKEN", async () => {
    const link = await createLink(uniqueIdentifier());
    const noSecret = { SIGNING_SECRET: "" };
    const anonymous = cookiePair(
      await send(`/ref/${link.identifier}`, { bindings: noSecret }),
      "reflinks_rk",
    );
    const login = await send("/login-as?user=derived-key-user", {
      headers: { Cookie: anonymous },
      bindings: noSecret,
    });
    expect((await hitsOf(link.id))[0]?.hitUserId).toBe("derived-key-user");
    const identity = cookiePair(login, "reflinks_uid");

    // The cookie works without SIGNING_SECRET, and only with the token it was derived from.
    const second = await createLink(uniqueIdentifier());
    await send(`/ref/${second.identifier}`, { headers: { Cookie: identity }, bindings: noSecret });
    expect((await hitsOf(second.id))[0]).toMatchObject({
      authenticated: true,
      hitUserId: "derived-key-user",
    });
    const third = await createLink(uniqueIdentifier());
    await send(`/ref/${third.identifier}`, {
      headers: { Cookie: identity },
      bindings: { SIGNING_SECRET: "", API_TOKEN: "another-token-entirely" },
    });
    expect((await hitsOf(third.id))[0]).toMatchObject({ authenticated: false, hitUserId: null });
  });

  it("ignores a forged identity cookie: the hit stays anonymous", async () => {
    const link = await createLink(uniqueIdentifier());
    const response = await send(`/ref/${link.identifier}`, {
      headers: { Cookie: "reflinks_uid=1700000000%3Amallory.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D" },
    });
    expect(setCookies(response).has("reflinks_rk")).toBe(true);
    const [hit] = await hitsOf(link.id);
    expect(hit).toMatchObject({ authenticated: false, hitUserId: null });
    expect(env.SIGNING_SECRET).toBeTruthy();
  });
});

describe("when D1 fails during a reported login", () => {
  it("the login answer goes out, the failure is logged, and the hits are reconciled by the retry", async () => {
    const link = await createLink(uniqueIdentifier());
    const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const login = await send("/login-as?user=retried-user", {
      headers: { Cookie: anonymous },
      bindings: { DB: flakyDatabase(env.DB, 1).db },
    });
    expect(login.status).toBe(303);
    expect(setCookies(login).has("reflinks_uid")).toBe(true);
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)).event)).toContain("login_record_failed");
    warn.mockRestore();
    expect((await hitsOf(link.id))[0]?.hitUserId).toBe("retried-user");
    // Not written when the answer left: the browser keeps its anonymous id, and its identity
    // cookie is not marked recorded, so the next report of this user records it again.
    expect(setCookies(login).has("reflinks_rk")).toBe(false);
    expect(setCookies(login).get("reflinks_uid")).toMatch(/^\d+%3Aretried-user\./);
    const next = await send("/login-as?user=retried-user", {
      headers: { Cookie: `${anonymous}; ${cookiePair(login, "reflinks_uid")}` },
    });
    expect(setCookies(next).get("reflinks_rk")).toMatch(/^; Max-Age=0/);
    expect(setCookies(next).get("reflinks_uid")).toMatch(/^r\d+%3Aretried-user\./);
  });
});

describe("only a signed header counts", () => {
  const ignoredReasons = (warn: { mock: { calls: unknown[][] } }) =>
    warn.mock.calls
      .map(([line]) => JSON.parse(String(line)))
      .filter((entry) => entry.event === "login_report_ignored")
      .map((entry) => entry.reason);

  for (const [name, query, reason] of [
    ["without a signature", "sign=none", "no Reflinks-User-Signature"],
    ["with a forged signature", "sign=bad", "bad signature"],
  ] as const) {
    it(`${name}: removed, logged, and nobody is signed in`, async () => {
      const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
      const link = await createLink(uniqueIdentifier());
      const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
      const login = await send(`/login-as?user=frank&${query}`, { headers: { Cookie: anonymous } });
      expect(login.status).toBe(303);
      expect(login.headers.has("Reflinks-User")).toBe(false);
      expect(login.headers.has("Reflinks-User-Signature")).toBe(false);
      expect([...setCookies(login).keys()]).toEqual(["session", "flash"]);
      expect((await hitsOf(link.id))[0]?.hitUserId).toBeNull();
      expect(ignoredReasons(warn)).toEqual([reason]);
    });
  }

  it("without API_TOKEN no header is trusted, however it is signed", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const login = await send("/login-as?user=frank", { bindings: { API_TOKEN: "" } });
    expect(login.headers.has("Reflinks-User")).toBe(false);
    expect(setCookies(login).has("reflinks_uid")).toBe(false);
    expect(ignoredReasons(warn)).toEqual(["no API_TOKEN to check its signature with"]);
  });

  it("a header the origin can be made to reflect signs nobody in, and credits nobody", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const frank = `frank-${crypto.randomUUID()}`;
    const link = await createLink(uniqueIdentifier(), { userId: "mallory" });
    // The attacker clicks their own link, then makes the origin reflect "Reflinks-User: frank".
    const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    const page = await send(`/hdr?name=Reflinks-User&value=${frank}`, { headers: { Cookie: anonymous } });
    expect(page.status).toBe(200);
    expect(page.headers.has("Reflinks-User")).toBe(false);
    expect(setCookies(page).size).toBe(0);
    expect((await hitsOf(link.id))[0]?.hitUserId).toBeNull();
    const confirm = await send("/_reflinks/confirm", {
      method: "POST",
      headers: { Authorization: `Bearer ${env.API_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: frank }),
    });
    expect(confirm.status).toBe(404);
    expect(ignoredReasons(warn)).toEqual(["no Reflinks-User-Signature"]);
  });

  it("a signature alone (its empty Reflinks-User dropped on the way) never reaches the browser", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const page = await send("/hdr?name=Reflinks-User-Signature&value=0123abcd");
    expect(page.status).toBe(200);
    expect(page.headers.has("Reflinks-User-Signature")).toBe(false);
  });

  it("a signed empty value logs out; an unsigned one does not", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const unsigned = await send("/login-as?user=&sign=none");
    expect(setCookies(unsigned).has("reflinks_uid")).toBe(false);
    const signed = await send("/login-as?user=");
    expect(setCookies(signed).get("reflinks_uid")).toMatch(/^; Max-Age=0; Path=\//);
  });
});

describe("user ids outside ASCII", () => {
  it("arrive percent-encoded and stay distinct: böb and bäb are two users", async () => {
    for (const user of ["böb", "bäb", "用户-7"]) {
      const link = await createLink(uniqueIdentifier());
      const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
      const login = await send(`/login-as?user=${encodeURIComponent(user)}`, {
        headers: { Cookie: anonymous },
      });
      expect((await hitsOf(link.id))[0]?.hitUserId).toBe(user);
      // The identity cookie names the same user.
      const later = await createLink(uniqueIdentifier());
      await send(`/ref/${later.identifier}`, { headers: { Cookie: cookiePair(login, "reflinks_uid") } });
      expect((await hitsOf(later.id))[0]).toMatchObject({ authenticated: true, hitUserId: user });
    }
  });

  it("a value that is not percent-encoded UTF-8 is ignored and logged, never merged into another user", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const link = await createLink(uniqueIdentifier());
    const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    // "%FF" is signed correctly but is no UTF-8; a raw "böb" does not survive the header.
    for (const query of ["raw=1&user=%25FF", `raw=1&user=${encodeURIComponent("böb")}`]) {
      const login = await send(`/login-as?${query}`, { headers: { Cookie: anonymous } });
      expect(login.headers.has("Reflinks-User")).toBe(false);
      expect(setCookies(login).has("reflinks_uid")).toBe(false);
    }
    expect((await hitsOf(link.id))[0]?.hitUserId).toBeNull();
    const reasons = warn.mock.calls.map(([line]) => JSON.parse(String(line))).map((entry) => entry.reason);
    expect(reasons[0]).toBe("not a percent-encoded UTF-8 user id");
    expect(reasons).toHaveLength(2);
  });

  it("a user id with a control or bidirectional control character is ignored and logged, as the API refuses it", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const link = await createLink(uniqueIdentifier());
    const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    for (const user of ["\u202Eevil", "a\u2066b", "bob\u0000", "bob\u007F"]) {
      const login = await send(`/login-as?user=${encodeURIComponent(user)}`, {
        headers: { Cookie: anonymous },
      });
      expect(login.headers.has("Reflinks-User")).toBe(false);
      expect(setCookies(login).has("reflinks_uid")).toBe(false);
    }
    expect((await hitsOf(link.id))[0]?.hitUserId).toBeNull();
    const reasons = warn.mock.calls.map(([line]) => JSON.parse(String(line))).map((entry) => entry.reason);
    expect(reasons).toEqual(Array(4).fill("not a percent-encoded UTF-8 user id"));
  });
});

describe("the header on every page of a signed-in user", () => {
  it("costs no query when the identity cookie already names that user, and leaves the page as it was", async () => {
    const login = await send("/login-as?user=regular");
    const identity = cookiePair(login, "reflinks_uid");
    const noDatabase = new Proxy({} as D1Database, {
      get() {
        throw new Error("a page view of a signed-in user must not touch D1");
      },
    });
    const page = await send("/login-as?user=regular", {
      headers: { Cookie: identity },
      bindings: { DB: noDatabase },
    });
    expect(page.status).toBe(303);
    expect(page.headers.has("Reflinks-User")).toBe(false);
    expect([...setCookies(page).keys()]).toEqual(["session", "flash"]);
    // Nothing of ours was added, so the origin's caching stays the origin's.
    expect(page.headers.get("Cache-Control")).toBe("public, max-age=600");
  });

  it("records the login once for an identity cookie issued before logins were recorded", async () => {
    const user = `old-cookie-${crypto.randomUUID()}`;
    const issuedAt = Math.floor(Date.now() / 1000) - 86_400;
    const oldCookie = (
      await generateSignedCookie("reflinks_uid", `${issuedAt}:${user}`, env.SIGNING_SECRET ?? "", {
        path: "/",
      })
    ).split(";")[0];
    const seen = () =>
      env.DB.prepare("SELECT user_id FROM reflinks_users WHERE user_id = ?").bind(user).first();
    expect(await seen()).toBeNull();
    const page = await send(`/login-as?user=${user}`, { headers: { Cookie: oldCookie ?? "" } });
    expect(await seen()).toEqual({ user_id: user });
    // The cookie it gets back is a recorded one: the next page costs no query.
    const noDatabase = new Proxy({} as D1Database, {
      get() {
        throw new Error("must not touch D1");
      },
    });
    const next = await send(`/login-as?user=${user}`, {
      headers: { Cookie: cookiePair(page, "reflinks_uid") },
      bindings: { DB: noDatabase },
    });
    expect(next.status).toBe(303);
  });

  it("records the login when the cookie names somebody else", async () => {
    const first = cookiePair(await send("/login-as?user=first-account"), "reflinks_uid");
    const switched = await send("/login-as?user=second-account", { headers: { Cookie: first } });
    expect(setCookies(switched).get("reflinks_uid")).toMatch(/^r\d+%3Asecond-account\./);
    const row = await env.DB.prepare("SELECT user_id FROM reflinks_users WHERE user_id = ?")
      .bind("second-account")
      .first();
    expect(row).toEqual({ user_id: "second-account" });
  });
});

describe("two differing anonymous cookies (one tossed from a sibling subdomain)", () => {
  it("a login on such a request reconciles nothing", async () => {
    const link = await createLink(uniqueIdentifier());
    const victim = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    const tossed = `reflinks_rk=${crypto.randomUUID()}`;
    await send(`/login-as?user=dup-${crypto.randomUUID()}`, { headers: { Cookie: `${tossed}; ${victim}` } });
    expect((await hitsOf(link.id))[0]?.hitUserId).toBeNull();
  });
});
