/**
 * One visitor, end to end over real HTTP: `wrangler dev` (local D1) in front of the demo origin.
 * Referral link, proxied pages, a `?ref=` URL, a bot, unknown links, the hits in D1, and a signup
 * form POSTed through the proxy, which the origin reports to the worker (`Reflinks-User`). The steps
 * share one browser (its cookie) and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_UA, type Stack, sqlString, startStack } from "./harness.ts";
import { navigate } from "./navigate.ts";

const LINK = "e2e-link";
const COOKIE = "reflinks_rk";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BOT_UA = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

let stack: Stack;
/** The browser's anonymous id, from step 1 on. */
let visitorId = "";

beforeAll(async () => {
  stack = await startStack({ links: [{ identifier: LINK, userId: "alice" }] });
});

afterAll(async () => {
  await stack?.stop();
});

function get(path: string, init: { cookie?: string; userAgent?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { "User-Agent": init.userAgent ?? BROWSER_UA };
  if (init.cookie) headers.Cookie = init.cookie;
  return navigate(`${stack.workerUrl}${path}`, { headers });
}

interface SetCookie {
  name: string;
  value: string;
  attributes: string[];
}

function setCookies(response: Response): SetCookie[] {
  return response.headers.getSetCookie().map((line) => {
    const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
    const eq = pair.indexOf("=");
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
  });
}

function visitorCookie(response: Response): SetCookie | undefined {
  return setCookies(response).find((cookie) => cookie.name === COOKIE);
}

const visitorCookieHeader = () => `${COOKIE}=${visitorId}`;

interface HitRow {
  anonymous_id: string | null;
  authenticated: number;
  hit_user_id: string | null;
  next: string;
  user_agent: string;
  /** Hits of every link, counted in the same query (each query is a wrangler run: seconds). */
  all_hits: number;
}

/**
 * The link's hits, oldest first. Hits are written in `waitUntil`, after the redirect: the query is
 * repeated (bounded; each run of wrangler takes seconds) until `ready` accepts the rows.
 */
async function hitsOfLink(ready: (rows: HitRow[]) => boolean, timeoutMs = 20_000): Promise<HitRow[]> {
  const sql =
    "SELECT anonymous_id, authenticated, hit_user_id, next, user_agent, " +
    "(SELECT COUNT(*) FROM referral_hits) AS all_hits FROM referral_hits " +
    `WHERE link_id = (SELECT id FROM referral_links WHERE identifier = ${sqlString(LINK)}) ` +
    "ORDER BY created_at, rowid";
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await stack.query<HitRow & Record<string, unknown>>(sql);
    if (ready(rows) || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.sequential("a visitor through the worker, end to end", () => {
  it("1. a referral link redirects to next, with the query carried over, and sets the visitor cookie", async () => {
    const response = await get(`/ref/${LINK}?next=/pricing&utm_source=e2e`);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/pricing?utm_source=e2e");
    expect(response.headers.get("Cache-Control")).toBe("no-store");

    const cookie = visitorCookie(response);
    expect(cookie, `Set-Cookie: ${response.headers.getSetCookie().join(" | ")}`).toBeDefined();
    expect(cookie?.value).toMatch(UUID);
    const attributes = cookie?.attributes.map((a) => a.toLowerCase()) ?? [];
    expect(attributes).toContain("httponly");
    expect(attributes).toContain("samesite=lax");
    expect(attributes).toContain("max-age=31536000");
    expect(attributes).toContain("path=/");
    expect(attributes).not.toContain("secure"); // plain http
    visitorId = cookie?.value ?? "";
  });

  it("2. the destination page comes from the origin through the proxy", async () => {
    const response = await get("/pricing?utm_source=e2e", { cookie: visitorCookieHeader() });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain("<title>Pricing · Acme Notes</title>");
    expect(html).toContain("$8 / month");
  });

  it("3. ?ref= on any page redirects in one hop without the parameter and keeps the visitor's id", async () => {
    const response = await get(`/?ref=${LINK}&x=1`, { cookie: visitorCookieHeader() });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/?x=1");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const cookie = visitorCookie(response);
    expect(cookie?.value).toBe(visitorId);
    expect(cookie?.attributes.map((a) => a.toLowerCase())).toContain("max-age=31536000");
  });

  it("4. the origin receives the visitor cookie and the forwarding headers", async () => {
    const response = await get("/cookies", { cookie: `${visitorCookieHeader()}; theme=dark` });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<td>${COOKIE}</td><td>${visitorId}</td>`);
    expect(html).toContain("<td>theme</td><td>dark</td>");
    const workerHost = new URL(stack.workerUrl).host;
    expect(html).toContain(`<td>x-forwarded-host</td><td>${workerHost}</td>`);
    expect(html).toContain("<td>x-forwarded-proto</td><td>http</td>");
  });

  it("5. a link unfurler follows the same redirect but gets no cookie", async () => {
    const response = await get(`/ref/${LINK}?next=/pricing`, { userAgent: BOT_UA });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/pricing");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("6. unknown links redirect without a cookie, and an unknown ?ref= page is the origin's", async () => {
    const link = await get("/ref/nope", { cookie: visitorCookieHeader() });
    expect(link.status).toBe(302);
    expect(link.headers.get("Location")).toBe("/");
    expect(link.headers.get("Cache-Control")).toBe("no-store");
    expect(link.headers.getSetCookie()).toEqual([]);

    const page = await get("/pricing?ref=nope", { cookie: visitorCookieHeader() });
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie()).toEqual([]);
    expect(await page.text()).toContain("<title>Pricing · Acme Notes</title>");
  });

  it("7. D1 holds exactly the two hits of the browser's visits, under one anonymous id", async () => {
    const hits = await hitsOfLink((rows) => rows.length >= 2);
    const visit = { anonymous_id: visitorId, authenticated: 0, hit_user_id: null, user_agent: BROWSER_UA };
    expect(hits.map(({ all_hits, ...hit }) => hit)).toEqual([
      { ...visit, next: "/pricing" },
      { ...visit, next: "/?x=1" },
    ]);
    // The bot and the unknown links left nothing anywhere.
    expect(hits[0]?.all_hits).toBe(2);
  });

  let signup: Response | undefined;

  it("8. a form POST reaches the origin, whose redirect comes back unfollowed", async () => {
    signup = await fetch(`${stack.workerUrl}/signup`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "User-Agent": BROWSER_UA,
        "Content-Type": "application/x-www-form-urlencoded",
        Cookie: visitorCookieHeader(),
      },
      body: "username=e2e-user",
      signal: AbortSignal.timeout(15_000),
    });
    expect(signup.status).toBe(303);
    expect(signup.headers.get("Location")).toBe("/account");
    // The origin's session cookie passes through the proxy.
    expect(setCookies(signup).map((cookie) => cookie.name)).toContain("demo_session");
  });

  it("9. the origin's login report stays with the worker, which gives the visitor's hits to the user", async () => {
    expect(signup, "step 8 did not run").toBeDefined();
    const response = signup as Response;
    expect(response.headers.get("Reflinks-User")).toBeNull();
    const cookies = setCookies(response);
    expect(cookies.find((cookie) => cookie.name === "reflinks_uid")?.value).toBeTruthy();
    // The anonymous cookie is cleared: its hits now belong to the user.
    expect(cookies.find((cookie) => cookie.name === COOKIE)?.value).toBe("");

    const hits = await hitsOfLink((rows) => rows.every((hit) => hit.hit_user_id !== null));
    expect(hits.map((hit) => [hit.anonymous_id, hit.hit_user_id, hit.authenticated])).toEqual([
      [visitorId, "e2e-user", 0],
      [visitorId, "e2e-user", 0],
    ]);
  });
});
