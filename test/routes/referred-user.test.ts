/**
 * A referred user is a new user (docs/routing.md#confirmation): an existing customer who clicks a
 * referral link is never credited to the link's owner, in any way the origin reports logins.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiJson, uniqueUser } from "../support/api";
import { createLink, hitsOf } from "../support/db";
import { send, uniqueIdentifier } from "../support/worker";

afterEach(() => vi.restoreAllMocks());

function cookiePair(response: Response, name: string): string {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!cookie) throw new Error(`no ${name} cookie`);
  return cookie.split(";")[0] ?? "";
}

function confirm(json: Record<string, unknown>, bindings?: Record<string, string>) {
  return apiJson("/confirm", { method: "POST", json, ...(bindings ? { bindings } : {}) });
}

function reconcile(userId: string, anonymousId: string | null) {
  return apiJson("/reconcile", { method: "POST", json: { user_id: userId, anonymous_id: anonymousId } });
}

const anonymousIdIn = (cookie: string) => cookie.slice("reflinks_rk=".length);

/** A header login through the stub origin, as a login page that reports itself would do. */
function headerLogin(userId: string, cookie: string | null, bindings?: Record<string, string>) {
  return send(`/login-as?user=${encodeURIComponent(userId)}`, {
    ...(cookie ? { headers: { Cookie: cookie } } : {}),
    ...(bindings ? { bindings } : {}),
  });
}

describe("header mode", () => {
  for (const [mode, bindings] of [
    ["with SIGNING_SECRET", {}],
    ["without SIGNING_SECRET (the key derived from API_TOKEN)", { SIGNING_SECRET: "" }],
  ] as const) {
    describe(mode, () => {
      it("a new user's clicks before signing up are credited", async () => {
        const user = uniqueUser("newcomer");
        const link = await createLink(uniqueIdentifier(), { userId: "alice" });
        const visitor = cookiePair(await send(`/ref/${link.identifier}`, { bindings }), "reflinks_rk");
        await headerLogin(user, visitor, bindings);
        const answer = await confirm({ user_id: user }, bindings);
        expect(answer.status).toBe(201);
        expect(answer.body.referral).toMatchObject({ user_id: user, referrer_user_id: "alice" });
      });

      it("a signed-in customer who clicks a link is never credited to its owner", async () => {
        const customer = uniqueUser("customer");
        const link = await createLink(uniqueIdentifier(), { userId: "alice" });
        const identity = cookiePair(await headerLogin(customer, null, bindings), "reflinks_uid");
        await send(`/ref/${link.identifier}`, { headers: { Cookie: identity }, bindings });
        expect((await hitsOf(link.id))[0]).toMatchObject({ authenticated: true, hitUserId: customer });
        expect((await confirm({ user_id: customer }, bindings)).status).toBe(404);
      });

      it("a customer who logged out, clicked, and logged in again is not credited either", async () => {
        const customer = uniqueUser("returning");
        await headerLogin(customer, null, bindings);
        const link = await createLink(uniqueIdentifier(), { userId: "alice" });
        const visitor = cookiePair(await send(`/ref/${link.identifier}`, { bindings }), "reflinks_rk");
        await headerLogin(customer, visitor, bindings);
        // The click is reconciled to the customer (the report counts it), but it qualifies for nothing.
        expect((await hitsOf(link.id))[0]).toMatchObject({ authenticated: false, hitUserId: customer });
        const answer = await confirm({ user_id: customer }, bindings);
        expect(answer.status).toBe(404);
        expect(answer.body.error.code).toBe("no_referral");
      });
    });
  }
});

describe("API mode (POST /reconcile)", () => {
  it("a new user's clicks before signing up are credited", async () => {
    const user = uniqueUser("api-newcomer");
    const link = await createLink(uniqueIdentifier(), { userId: "alice" });
    const visitor = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    expect((await reconcile(user, anonymousIdIn(visitor))).body).toEqual({ updated: 1 });
    expect((await confirm({ user_id: user })).status).toBe(201);
  });

  it("a customer whose login was reconciled before never qualifies with a later click", async () => {
    const customer = uniqueUser("api-customer");
    // An earlier login, with no cookie to reconcile: still recorded.
    expect((await reconcile(customer, null)).body).toEqual({ updated: 0 });
    const link = await createLink(uniqueIdentifier(), { userId: "alice" });
    const visitor = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    expect((await reconcile(customer, anonymousIdIn(visitor))).body).toEqual({ updated: 1 });
    expect((await confirm({ user_id: customer })).status).toBe(404);
  });

  it("records first_seen_at once and moves last_seen_at at every login", async () => {
    const user = uniqueUser("seen");
    await reconcile(user, "not-a-uuid");
    const first = await env.DB.prepare("SELECT * FROM reflinks_users WHERE user_id = ?").bind(user).first();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await reconcile(user, null);
    const second = await env.DB.prepare("SELECT * FROM reflinks_users WHERE user_id = ?").bind(user).first();
    expect(second?.first_seen_at).toBe(first?.first_seen_at);
    expect(String(second?.last_seen_at) > String(first?.last_seen_at)).toBe(true);
  });
});

describe("a session that began before the worker was deployed", () => {
  // The customer is signed in at the origin, but the worker has never seen them: no identity
  // cookie, no reflinks_users row. Their click looks like a new visitor's.
  async function customerClicksThenPageViewReportsThem() {
    const customer = uniqueUser("old-session");
    const link = await createLink(uniqueIdentifier(), { userId: "alice" });
    const visitor = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    // The next page of the site sends Reflinks-User, as the origin does on every signed-in page.
    await headerLogin(customer, visitor);
    expect((await hitsOf(link.id))[0]?.hitUserId).toBe(customer);
    return customer;
  }

  it("is not credited when the origin passes signed_up_at (the account is older than the click)", async () => {
    const customer = await customerClicksThenPageViewReportsThem();
    const answer = await confirm({ user_id: customer, signed_up_at: "2024-03-01T10:00:00+01:00" });
    expect(answer.status).toBe(404);
  });

  it("is not credited when any earlier page view already reported them", async () => {
    const customer = uniqueUser("browsed-first");
    await headerLogin(customer, null);
    const link = await createLink(uniqueIdentifier(), { userId: "alice" });
    // The identity cookie was lost (another device, cleared cookies): the click is anonymous.
    const visitor = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    await headerLogin(customer, visitor);
    expect((await confirm({ user_id: customer })).status).toBe(404);
  });

  it("without signed_up_at nor an earlier report, the worker cannot tell: pass signed_up_at", async () => {
    // The documented limit: this is why every integration example passes signed_up_at.
    const customer = await customerClicksThenPageViewReportsThem();
    expect((await confirm({ user_id: customer })).status).toBe(201);
  });
});

describe("signed_up_at", () => {
  it("a sign-up after the click qualifies; Python's isoformat() with microseconds is accepted", async () => {
    const user = uniqueUser("fresh");
    const link = await createLink(uniqueIdentifier(), { userId: "alice" });
    const visitor = cookiePair(await send(`/ref/${link.identifier}`), "reflinks_rk");
    await reconcile(user, anonymousIdIn(visitor));
    const later = new Date(Date.now() + 60_000).toISOString().replace(/\.(\d{3})Z$/, ".$1123+00:00");
    expect((await confirm({ user_id: user, signed_up_at: later })).status).toBe(201);
  });

  for (const value of [
    "yesterday",
    "2026-11-24",
    "2026-11-24T09:00:00",
    1764000000,
    "2026-13-40T09:00:00Z",
  ]) {
    it(`${JSON.stringify(value)} is refused with 422 naming signed_up_at`, async () => {
      const answer = await confirm({ user_id: uniqueUser(), signed_up_at: value });
      expect(answer.status).toBe(422);
      expect(answer.body.error.message).toMatch(/^signed_up_at /);
    });
  }
});
