/**
 * The dashboard's door and its walls: HTTP Basic with the API token as the password (any user
 * name), a 401 that makes a browser ask for it, fail closed without a token, and a page where no
 * stored string (owner, user agent, referer, next, country) can become markup or a link.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, apiError, apiJson } from "../support/api";
import { basic, openDashboard, select } from "../support/dashboard";
import { DATASET_PERIOD, DATASET_SQL, HOSTILE } from "../support/report-dataset";

beforeAll(async () => {
  await env.DB.batch(DATASET_SQL.map((statement) => env.DB.prepare(statement)));
});

const PERIOD = new URLSearchParams(DATASET_PERIOD).toString();

async function status(authorization: string | null): Promise<Response> {
  const headers = new Headers();
  if (authorization !== null) headers.set("Authorization", authorization);
  else headers.set("Authorization", ""); // openDashboard signs in unless told otherwise
  return openDashboard("", { headers });
}

describe("signing in", () => {
  it.each([
    ["any user name", basic("me", API_TOKEN)],
    ["an empty user name", basic("", API_TOKEN)],
    ["a lowercase scheme", basic("me", API_TOKEN).replace("Basic", "basic")],
    ["the bearer token, as scripts send it", `Bearer ${API_TOKEN}`],
  ])("%s: 200", async (_, authorization) => {
    const response = await status(authorization);
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("a token with colons in it: only the first colon ends the user name (RFC 7617)", async () => {
    const token = "tok:en:with:colons-0123456789";
    const signIn = (authorization: string) =>
      openDashboard("", { headers: { Authorization: authorization }, bindings: { API_TOKEN: token } });
    // Split at the last colon instead, the password would be "colons-0123456789": a 401.
    const accepted = await signIn(basic("ops", token));
    expect(accepted.status).toBe(200);
    await accepted.body?.cancel();
    expect((await signIn(basic("ops", "colons-0123456789"))).status).toBe(401);
  });

  it.each([
    ["no credentials", null],
    ["an empty header", ""],
    ["a wrong password", basic("me", "not-the-token")],
    ["the token as the user name", basic(API_TOKEN, "")],
    ["the token with something after it", basic("me", `${API_TOKEN}x`)],
    ["credentials without a colon", `Basic ${btoa(API_TOKEN)}`],
    ["credentials that are not base64", "Basic !!!not-base64!!!"],
    ["the token in clear after Basic", `Basic ${API_TOKEN}`],
    ["a wrong bearer token", "Bearer nope"],
  ])("%s: 401 asking for Basic credentials", async (_, authorization) => {
    const response = await status(authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe('Basic realm="reflinks"');
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const text = await response.text();
    expect(text).not.toContain(API_TOKEN);
    expect(JSON.parse(text)).toEqual(apiError("unauthorized"));
  });

  it("the API itself still takes the bearer token only, and asks for it", async () => {
    const answer = await apiJson("/reports/links", {
      token: null,
      headers: { Authorization: basic("me", API_TOKEN) },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
  });

  it("paths under the dashboard are behind the same door", async () => {
    const response = await openDashboard("", { headers: { Authorization: "" } });
    await response.body?.cancel();
    const { send } = await import("../support/worker");
    const under = await send("/_reflinks/dashboard/anything");
    expect(under.status).toBe(401);
    expect(under.headers.get("WWW-Authenticate")).toBe('Basic realm="reflinks"');
    await under.body?.cancel();
  });

  it("without API_TOKEN configured: 503, nothing shown (fail closed)", async () => {
    const response = await openDashboard("", { bindings: { API_TOKEN: "" } });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual(apiError("api_disabled"));
  });
});

describe("the page", () => {
  it("forbids scripts, framing and outside loads, and sends no referer", async () => {
    const response = await openDashboard(PERIOD);
    await response.body?.cancel();
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("script-src");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("shows every hostile stored string as text, escaped, never as markup", async () => {
    const html = await (await openDashboard(PERIOD)).text();
    for (const raw of Object.values(HOSTILE)) expect(html).not.toContain(raw);
    const elements = await select(html, "*");
    const tags = new Set(elements.map((element) => element.tagName));
    expect(tags.has("svg") && tags.has("table")).toBe(true); // the page's own markup is all there
    for (const tag of ["script", "img", "iframe", "object", "embed", "b", "base"]) {
      expect(tags.has(tag), tag).toBe(false);
    }
    const handlers = elements
      .flatMap((element) => Object.keys(element.attributes))
      .filter((name) => /^on/i.test(name));
    expect(handlers).toEqual([]);
    expect(html).toContain("&lt;script&gt;alert(&quot;owner&quot;)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(&quot;ua&quot;)&gt;");
    expect(html).toContain("&quot;&gt;&lt;b&gt;XX");
    // A referrer id, in the earnings table (shown whatever the period).
    expect(html).toContain("zed&lt;b onmouseover=alert(&quot;referrer&quot;)&gt;");
  });

  it("never turns a stored value into a link: every href is a query of this page", async () => {
    const html = await (await openDashboard(PERIOD)).text();
    // The one <link> is the empty icon (no request for /favicon.ico to the origin).
    const links = await select(html, "link");
    expect(links.map((link) => link.attributes)).toEqual([{ rel: "icon", href: "data:," }]);
    const hrefs = (await select(html, "a[href]")).map((element) => element.attributes.href ?? "");
    expect(await select(html, "[href]")).toHaveLength(hrefs.length + 1);
    expect(hrefs.length).toBeGreaterThan(0);
    // A query of this page, or one of its own sections.
    for (const href of hrefs) expect(href, href).toMatch(/^\?[A-Za-z0-9=&;._%-]*$|^#[a-z]+-heading$/);
    expect(html).not.toMatch(/(href|src|action)="\s*javascript:/i);
    expect(await select(html, "script, iframe, object, embed, img")).toEqual([]);
  });

  it("a hostile link filter or period is refused, not reflected", async () => {
    for (const search of [
      "link=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "from=%3Cscript%3E",
      "to=2025-06-01%22%3E%3Cb%3E",
      "hits=%3Cscript%3E",
    ]) {
      const response = await openDashboard(search);
      const html = await response.text();
      expect(response.status, search).toBe(422);
      expect(html).not.toMatch(/<script|<b>/i);
    }
  });
});
