/**
 * The dashboard's door and its walls: HTTP Basic with the API token as the password (any user
 * name), a 401 that makes a browser ask for it, fail closed without a token, and a page where no
 * stored string (owner, user agent, referer, next, country) can become markup or a link.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { FORM_TOKEN_MAX_AGE_SECONDS, formToken } from "../../src/routes/dashboard/form-token";
import { API_TOKEN, apiError, apiJson } from "../support/api";
import {
  basic,
  DASHBOARD,
  DASHBOARD_ORIGIN,
  DASHBOARD_URL,
  formFields,
  openDashboard,
  postForm,
  SAME_ORIGIN,
  select,
  texts,
} from "../support/dashboard";
import { createLink } from "../support/db";
import { DATASET_PERIOD, DATASET_SQL, HOSTILE } from "../support/report-dataset";
import { send, uniqueIdentifier } from "../support/worker";

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
    const under = await send(`${DASHBOARD_URL}/anything`);
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
    expect(csp).toContain("form-action 'self'");
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

describe("the actions: only the dashboard's own forms, from the dashboard's own origin", () => {
  const fresh = async () => {
    const link = await createLink(uniqueIdentifier("csrf"));
    const html = await (await openDashboard(`link=${link.identifier}`)).text();
    const action = `${DASHBOARD}/links/${link.identifier}/disabled`;
    const fields = await formFields(html, `form[action="${action}"]`);
    expect(fields.form_token).toMatch(/^\d+\.[\w-]+\.[\w-]+$/);
    return { link, action, fields, html };
  };
  const disabled = async (identifier: string) =>
    (
      await env.DB.prepare("SELECT disabled FROM referral_links WHERE identifier = ?")
        .bind(identifier)
        .first<{ disabled: number }>()
    )?.disabled;

  /** A refusal: 403, a page saying why, the security headers, and the link still enabled. */
  async function expectRefused(response: Response, identifier: string, why: RegExp) {
    expect(response.status).toBe(403);
    expect(response.headers.get("Location")).toBeNull();
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    expect(await texts(await response.text(), "[data-error]")).toEqual([expect.stringMatching(why)]);
    expect(await disabled(identifier)).toBe(0);
  }

  it("the same form from the dashboard's origin is done (the control for every refusal below)", async () => {
    const { link, action, fields } = await fresh();
    const response = await postForm(action, fields);
    expect(response.status).toBe(303);
    expect(await disabled(link.identifier)).toBe(1);
  });

  it.each([
    [
      "another site (Origin and Sec-Fetch-Site: cross-site)",
      { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
    ],
    [
      "another site, Origin only (an older browser)",
      { Origin: "https://evil.example", "Sec-Fetch-Site": "" },
    ],
    [
      "a sibling subdomain (same-site is not same-origin)",
      { Origin: "https://blog.shop.example", "Sec-Fetch-Site": "same-site" },
    ],
    [
      "a sandboxed frame or a privacy redirect (Origin: null)",
      { Origin: "null", "Sec-Fetch-Site": "cross-site" },
    ],
    ["a post that says nowhere where it comes from", { Origin: "", "Sec-Fetch-Site": "" }],
    [
      "the same host over http (another origin)",
      { Origin: "http://admin.shop.example", "Sec-Fetch-Site": "" },
    ],
    [
      "the site itself (same-site, another origin)",
      { Origin: "https://shop.example", "Sec-Fetch-Site": "same-site" },
    ],
  ])("from %s, even with a good token: refused", async (_, headers) => {
    const { link, action, fields } = await fresh();
    await expectRefused(
      await postForm(action, fields, headers),
      link.identifier,
      /not sent from a page of this dashboard/,
    );
  });

  it("without the form's token, or with a wrong one, or another form's: refused", async () => {
    const { link, action, fields, html } = await fresh();
    const { form_token: token = "", ...rest } = fields;
    const [issued, nonce, mac = ""] = token.split(".");
    const commissionToken =
      (await formFields(html, `form[action="${DASHBOARD}/links/${link.identifier}/commission"]`))
        .form_token ?? "";
    const other = await createLink(uniqueIdentifier("csrf-other"));
    const otherHtml = await (await openDashboard(`link=${other.identifier}`)).text();
    const otherToken =
      (await formFields(otherHtml, `form[action="${DASHBOARD}/links/${other.identifier}/disabled"]`))
        .form_token ?? "";
    for (const [label, sent] of [
      ["no token", rest],
      ["an empty token", { ...rest, form_token: "" }],
      [
        "a token with its MAC changed",
        { ...rest, form_token: `${issued}.${nonce}.${mac.slice(0, -2)}${mac.endsWith("AA") ? "BB" : "AA"}` },
      ],
      ["a token with its time changed", { ...rest, form_token: `${Number(issued) + 1}.${nonce}.${mac}` }],
      ["junk", { ...rest, form_token: "<script>" }],
      ["the token of this link's commission form", { ...rest, form_token: commissionToken }],
      ["the token of another link's same form", { ...rest, form_token: otherToken }],
    ] as const) {
      const response = await postForm(action, sent as Record<string, string>);
      expect(response.status, label).toBe(403);
      await expectRefused(response, link.identifier, /does not carry this dashboard.{1,5}s token/);
    }
  });

  it("a token made with another API token, or more than 12 hours ago: refused", async () => {
    const { link, action, fields } = await fresh();
    const foreign = await formToken("another-api-token", action);
    await expectRefused(
      await postForm(action, { ...fields, form_token: foreign }),
      link.identifier,
      /does not carry this dashboard.{1,5}s token/,
    );
    const stale = await formToken(API_TOKEN, action, Date.now() - (FORM_TOKEN_MAX_AGE_SECONDS + 60) * 1000);
    await expectRefused(
      await postForm(action, { ...fields, form_token: stale }),
      link.identifier,
      /more than 12 hours old/,
    );
  });

  it("a GET of an action is not a page (405, Allow: POST); a body that is not a form: 415; no credentials: 401", async () => {
    const { link, action, fields } = await fresh();
    const get = await openDashboard("", { headers: {} }).then(() =>
      send(new URL(action, DASHBOARD_ORIGIN).href, { headers: { Authorization: basic("me", API_TOKEN) } }),
    );
    expect(get.status).toBe(405);
    expect(get.headers.get("Allow")).toBe("POST");
    await get.body?.cancel();
    const json = await send(new URL(action, DASHBOARD_ORIGIN).href, {
      method: "POST",
      headers: { Authorization: basic("me", API_TOKEN), "Content-Type": "application/json", ...SAME_ORIGIN },
      body: JSON.stringify(fields),
    });
    expect(json.status).toBe(415);
    await json.body?.cancel();
    const anonymous = await postForm(action, fields, { ...SAME_ORIGIN, Authorization: "" });
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    expect(await disabled(link.identifier)).toBe(0);
  });

  it("every answer of an action forbids framing, as the page does", async () => {
    const { action, fields } = await fresh();
    const done = await postForm(action, fields);
    expect(done.status).toBe(303);
    expect(done.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(done.headers.get("X-Frame-Options")).toBe("DENY");
  });
});

describe("the page's one stylesheet", () => {
  it("is allowed by its hash, and nothing else is: no unsafe-inline, no style attribute", async () => {
    const response = await openDashboard(PERIOD);
    const html = await response.text();
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).not.toContain("unsafe-inline");
    const [style] = await select(html, "style");
    expect(await select(html, "style")).toHaveLength(1);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(style?.text ?? ""));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    expect(csp).toContain(`style-src 'sha256-${hash}';`);
    expect(await select(html, "[style]")).toEqual([]);
  });
});

describe("the operator's door: the dashboard only on DASHBOARD_HOST", () => {
  const signedIn = { Authorization: basic("me", API_TOKEN) };

  it.each([
    ["the site's host", "https://shop.example/_reflinks/dashboard"],
    ["the site's host, under the dashboard", "https://shop.example/_reflinks/dashboard/links"],
    ["a sibling of the dashboard's host", "https://blog.shop.example/_reflinks/dashboard"],
    ["localhost, while DASHBOARD_HOST names another host", "http://localhost:8787/_reflinks/dashboard"],
  ])(
    "on %s: 404 naming DASHBOARD_HOST, even with good credentials, before asking for any",
    async (_, url) => {
      for (const init of [
        { headers: signedIn },
        { method: "POST", headers: { ...signedIn, ...SAME_ORIGIN } },
        {},
      ]) {
        const response = await send(url, init);
        expect(response.status).toBe(404);
        expect(response.headers.get("WWW-Authenticate")).toBeNull();
        expect(response.headers.get("Cache-Control")).toBe("no-store");
        const text = await response.text();
        expect(text).toContain("DASHBOARD_HOST");
        expect(text).not.toContain("admin.shop.example");
      }
    },
  );

  it("on its own host: the dashboard, in any case of the host name", async () => {
    const response = await send("https://ADMIN.Shop.Example/_reflinks/dashboard", { headers: signedIn });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("on its own host, nothing of the site: pages, referral links and ?ref= are 404; the API answers", async () => {
    const link = await createLink(uniqueIdentifier("door"));
    for (const path of [
      "/",
      "/pricing",
      `/ref/${link.identifier}`,
      `/pricing?ref=${link.identifier}`,
      "/_reflinksx",
    ]) {
      const response = await send(`${DASHBOARD_ORIGIN}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("Set-Cookie"), path).toBeNull();
      expect(await response.text()).toContain("serves only the reflinks dashboard and API");
    }
    const hits = await env.DB.prepare("SELECT COUNT(*) AS n FROM referral_hits WHERE link_id = ?")
      .bind(link.id)
      .first<{ n: number }>();
    expect(hits?.n).toBe(0);
    const api = await send(`${DASHBOARD_ORIGIN}/_reflinks/links/${link.identifier}`, {
      headers: { Authorization: `Bearer ${API_TOKEN}` },
    });
    expect(api.status).toBe(200);
    await api.body?.cancel();
  });

  it("a port in DASHBOARD_HOST must match; without one, any port does", async () => {
    const withPort = { DASHBOARD_HOST: "admin.shop.example:8443" };
    const on = await send("https://admin.shop.example:8443/_reflinks/dashboard", {
      headers: signedIn,
      bindings: withPort,
    });
    expect(on.status).toBe(200);
    await on.body?.cancel();
    const off = await send(DASHBOARD_URL, { headers: signedIn, bindings: withPort });
    expect(off.status).toBe(404);
    await off.body?.cancel();
    const anyPort = await send("https://admin.shop.example:8443/_reflinks/dashboard", { headers: signedIn });
    expect(anyPort.status).toBe(200);
    await anyPort.body?.cancel();
  });

  it("unset: only on the host name localhost (any port), which serves the site as well", async () => {
    const unset = { DASHBOARD_HOST: "" };
    for (const url of ["http://localhost:8787/_reflinks/dashboard", "http://LOCALHOST/_reflinks/dashboard"]) {
      const response = await send(url, { headers: signedIn, bindings: unset });
      expect(response.status, url).toBe(200);
      await response.body?.cancel();
    }
    for (const url of [
      "http://127.0.0.1:8787/_reflinks/dashboard",
      "https://shop.example/_reflinks/dashboard",
      "https://localhost.shop.example/_reflinks/dashboard",
    ]) {
      const response = await send(url, { headers: signedIn, bindings: unset });
      expect(response.status, url).toBe(404);
      await response.body?.cancel();
    }
    const site = await send("http://localhost:8787/pricing", { bindings: unset });
    expect(site.status).toBe(200);
    await site.body?.cancel();
  });

  it("a DASHBOARD_HOST that is not a host: the API says which setting, the site stays up", async () => {
    const bad = { DASHBOARD_HOST: "https://admin.shop.example/" };
    const api = await send("/_reflinks/health", { bindings: bad });
    expect(api.status).toBe(500);
    expect(await api.text()).toContain("DASHBOARD_HOST");
    const page = await send("/pricing", { bindings: bad });
    expect(page.status).toBe(200);
    await page.body?.cancel();
  });
});

describe("the flash reads only what the URL may name", () => {
  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])(
    "?field=%s (an object's own machinery, not a field): the generic sentence, no code",
    async (field) => {
      const html = await (await openDashboard(`failed=invalid&field=${field}`)).text();
      const [flash] = await select(html, "[data-flash]");
      expect(flash?.text.trim()).toBe("Nothing changed: a field of the form is invalid.");
      expect(html).not.toContain("native code");
    },
  );
});
