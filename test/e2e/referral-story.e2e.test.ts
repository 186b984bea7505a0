/**
 * The whole referral story over real HTTP, as a newcomer walks it in the demo: a visitor arrives
 * through alice's link, signs up (the origin reports the login with `Reflinks-User`), buys (the
 * origin's Stripe handler records a conversion, which confirms the referral), is refunded, and
 * alice sees what she earned.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_UA, type Stack, sqlString, startStack } from "./harness.ts";
import { navigate } from "./navigate.ts";

const LINK = "story-link";
/** A link the operator disables and enables again through the API. */
const TOGGLED = "story-toggle";
const REFERRER = "alice";
const NEWCOMER = `bob-${Date.now()}`;

let stack: Stack;
const jar = new Map<string, string>();

beforeAll(async () => {
  stack = await startStack({
    links: [
      { identifier: LINK, userId: REFERRER },
      { identifier: TOGGLED, userId: REFERRER },
    ],
    vars: { COMMISSION: "percent:20" },
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** The purchase button: 303 to the receipt (Post/Redirect/Get), and the receipt's page. */
async function purchase(cookies: Map<string, string> = jar): Promise<string> {
  const response = await browse("/purchase", { method: "POST", form: { coupon: "" } }, cookies);
  expect(response.status).toBe(303);
  const receipt = await browse(response.headers.get("Location") ?? "", {}, cookies);
  expect(receipt.status).toBe(200);
  return receipt.text();
}

/** A browser: keeps cookies across requests, never follows redirects. */
async function browse(
  path: string,
  init: { method?: string; form?: Record<string, string> } = {},
  cookies: Map<string, string> = jar,
) {
  const headers: Record<string, string> = { "User-Agent": BROWSER_UA };
  if (cookies.size > 0) headers.Cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  let body: string | undefined;
  if (init.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form).toString();
  }
  const response = await navigate(`${stack.workerUrl}${path}`, {
    method: init.method ?? "GET",
    headers,
    body,
  });
  for (const line of response.headers.getSetCookie()) {
    const [pair = ""] = line.split(";");
    const at = pair.indexOf("=");
    const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
    if (/Max-Age=0/i.test(line) || value === "") cookies.delete(name);
    else cookies.set(name, value);
  }
  return response;
}

describe("the referral story in the demo", () => {
  it("1. the visitor arrives through the referrer's ?ref= link and gets an anonymous id", async () => {
    const response = await browse(`/pricing?ref=${LINK}`);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/pricing");
    expect(jar.get("reflinks_rk")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("2. signs up: the worker gives the hit to the new user and remembers the browser", async () => {
    const response = await browse("/signup", { method: "POST", form: { username: NEWCOMER } });
    expect(response.status).toBe(303);
    expect(response.headers.has("Reflinks-User")).toBe(false);
    expect(jar.has("reflinks_rk")).toBe(false);
    expect(jar.has("reflinks_uid")).toBe(true);
    expect(jar.has("demo_session")).toBe(true);
  });

  it("3. completes a purchase: the origin records a conversion, and the receipt names the referrer's commission", async () => {
    const page = await purchase();
    expect(page).toContain(`This purchase earned <b>${REFERRER}</b>\na commission of 1.60 USD, pending`);
  });

  it("4. a refund takes the commission back; a second purchase earns it again", async () => {
    const account = await (await browse("/account")).text();
    const order = /name="order" value="(order_[0-9a-f-]+)"/.exec(account)?.[1];
    expect(order).toBeDefined();
    const refunded = await (await browse("/refund", { method: "POST", form: { order: order ?? "" } })).text();
    expect(refunded).toContain("The referrer's commission on this order is now 0.00 USD (reversed).");
    expect(refunded).toContain("(refunded)");
    const again = await purchase();
    expect(again).toContain("a commission of 1.60 USD, pending");
  });

  it("4b. the referrer's account page shows what they earned, from GET /_reflinks/users/:id", async () => {
    const alice = new Map<string, string>();
    await browse("/signup", { method: "POST", form: { username: REFERRER } }, alice);
    const page = await (await browse("/account", {}, alice)).text();
    // One purchase refunded, one pending: 1.60 USD pending, nothing approved or paid yet.
    expect(page).toContain("<tr><td>USD</td><td>1.60 USD</td><td>0.00 USD</td><td>0.00 USD</td></tr>");
    expect(page).toMatch(/\/ref\/story-link<\/code>: \d+ visits?, 1 referral</);
    const rows = await stack.query(
      "SELECT c.status, c.amount, c.reversed_amount, c.commission FROM conversions c JOIN referral_links l ON l.id = c.link_id " +
        `WHERE l.identifier = ${sqlString(LINK)} ORDER BY c.id`,
    );
    expect(rows).toEqual([
      { status: "reversed", amount: 800, reversed_amount: 800, commission: 0 },
      { status: "pending", amount: 800, reversed_amount: 0, commission: 160 },
    ]);
  });

  it("4c. her referral page shows the friend's sign-up and purchase, and nothing that is the friend's", async () => {
    const alice = new Map<string, string>();
    const login = await browse("/login", { method: "POST", form: { username: REFERRER } }, alice);
    expect(login.status).toBe(303);
    // The worker signed her browser in (reflinks_uid), from the login the origin reported.
    const response = await browse("/_reflinks/me", {}, alice);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const page = await response.text();
    expect(page).toMatch(new RegExp(`data-link="${LINK}"`));
    expect(page).toMatch(/data-stat="sign-ups">1</);
    expect(page).toMatch(/data-stat="conversions">2</);
    expect(page).toMatch(/data-earning="pending">1\.60 USD/);
    expect(page).not.toContain(NEWCOMER);
  });

  it("5. D1 holds one confirmed referral for the referrer, and the credited hit is marked", async () => {
    const rows = await stack.query(
      "SELECT c.user_id, c.event, c.referrer_user_id, h.confirmed_at IS NOT NULL AS marked, h.hit_user_id " +
        "FROM confirmed_referrals c JOIN referral_hits h ON h.id = c.hit_id " +
        `WHERE c.user_id = ${sqlString(NEWCOMER)}`,
    );
    expect(rows).toEqual([
      // The first conversion confirmed the referral for its event, signup (the default).
      { user_id: NEWCOMER, event: "signup", referrer_user_id: REFERRER, marked: 1, hit_user_id: NEWCOMER },
    ]);
  });

  it("6. the API answers a repeated confirm with the same referral, and 50 racing confirms credit once", async () => {
    const confirm = (event: string) =>
      fetch(`${stack.workerUrl}/_reflinks/confirm`, {
        method: "POST",
        headers: { Authorization: `Bearer ${stack.apiToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ user_id: NEWCOMER, event }),
        signal: AbortSignal.timeout(30_000),
      });
    const again = await confirm("signup");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ created: false, referral: { referrer_user_id: REFERRER } });

    const answers = await Promise.all(Array.from({ length: 50 }, () => confirm("newsletter")));
    const bodies = await Promise.all(
      answers.map((answer) => answer.json() as Promise<{ referral: { id: number } }>),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(49);
    expect(new Set(bodies.map((body) => body.referral.id)).size).toBe(1);
    const rows = await stack.query(
      `SELECT COUNT(*) AS n FROM confirmed_referrals WHERE user_id = ${sqlString(NEWCOMER)}`,
    );
    expect(rows).toEqual([{ n: 2 }]);
  });
});

describe("an existing customer of the demo is never credited as referred", () => {
  const customer = `carol-${Date.now()}`;
  const carol = new Map<string, string>();

  it("signs up without a link; every page she sees carries no Reflinks-User header", async () => {
    await browse("/signup", { method: "POST", form: { username: customer } }, carol);
    const account = await browse("/account", {}, carol);
    expect(account.status).toBe(200);
    expect(account.headers.has("Reflinks-User")).toBe(false);
    expect(account.headers.has("Reflinks-User-Signature")).toBe(false);
  });

  it("clicks alice's link while signed in, then after logging out and in again: no credit", async () => {
    expect((await browse(`/pricing?ref=${LINK}`, {}, carol)).status).toBe(302);
    await browse("/logout", { method: "POST" }, carol);
    expect((await browse(`/ref/${LINK}`, {}, carol)).status).toBe(302);
    expect(carol.has("reflinks_rk")).toBe(true);
    await browse("/login", { method: "POST", form: { username: customer } }, carol);
    const page = await purchase(carol);
    expect(page).toContain("No referral to credit");
    const rows = await stack.query(
      `SELECT authenticated, hit_user_id FROM referral_hits WHERE hit_user_id = ${sqlString(customer)} ORDER BY created_at`,
    );
    // Both clicks are hers in the report; neither qualifies.
    expect(rows).toEqual([
      { authenticated: 1, hit_user_id: customer },
      { authenticated: 0, hit_user_id: customer },
    ]);
  });
});

describe("a link disabled through the API records no hit from the next click on", () => {
  // The API is a module of its own (src/lazy/api.js), loaded beside the main module that serves
  // clicks and remembers links (src/hits/link-cache.ts): its change must reach the main module's
  // cache, or the click after it would still count, for LINK_CACHE_SECONDS, in this isolate.
  const hits = async () =>
    (
      await stack.query<{ n: number }>(
        "SELECT COUNT(*) AS n FROM referral_hits h JOIN referral_links l ON l.id = h.link_id " +
          `WHERE l.identifier = ${sqlString(TOGGLED)}`,
      )
    )[0]?.n;
  // A new visitor each time: no duplicate, no remembered cookie.
  const click = async () => (await browse(`/ref/${TOGGLED}`, {}, new Map())).status;
  const patch = async (disabled: boolean) => {
    const response = await fetch(`${stack.workerUrl}/_reflinks/links/${TOGGLED}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${stack.apiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ disabled }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(response.status).toBe(200);
  };

  it("clicked (remembered by the front), disabled, clicked: no hit; enabled, clicked: a hit", async () => {
    expect(await click()).toBe(302);
    expect(await hits()).toBe(1);
    await patch(true);
    expect(await click()).toBe(302);
    expect(await hits()).toBe(1);
    await patch(false);
    expect(await click()).toBe(302);
    expect(await hits()).toBe(2);
  });
});
