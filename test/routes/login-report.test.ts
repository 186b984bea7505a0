import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createLink, hitsOf } from "../support/db";
import { flakyDatabase } from "../support/faults";
import { send, uniqueIdentifier } from "../support/worker";

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
    expect(later.headers.getSetCookie()).toEqual([]);
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
      expect(login.headers.get("Cache-Control")).toBe("no-store");
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

  it("sets no identity cookie without SIGNING_SECRET, but still reconciles", async () => {
    const link = await createLink(uniqueIdentifier());
    const anonymous = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    const login = await send("/login-as?user=unsigned-user", {
      headers: { Cookie: anonymous },
      bindings: { SIGNING_SECRET: "" },
    });
    expect(setCookies(login).has("reflinks_uid")).toBe(false);
    expect((await hitsOf(link.id))[0]?.hitUserId).toBe("unsigned-user");
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
      bindings: { DB: flakyDatabase(env.DB, 1, { only: /^update/i }).db },
    });
    expect(login.status).toBe(303);
    expect(setCookies(login).has("reflinks_uid")).toBe(true);
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)).event)).toContain(
      "login_reconcile_failed",
    );
    warn.mockRestore();
    expect((await hitsOf(link.id))[0]?.hitUserId).toBe("retried-user");
  });
});
