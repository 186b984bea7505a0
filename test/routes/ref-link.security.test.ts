/**
 * Bad and hostile input on the referral routes (docs/routing.md, docs/data.md): open
 * redirects, malformed identifiers, junk cookies, huge and broken text. Whatever comes in, the
 * worker never answers 500 and never sends a visitor to another host.
 */
import { describe, expect, it } from "vitest";
import { errorMessage } from "../../src/lib/log";
import { createLink, hitCount, hitsOf } from "../support/db";
import type { EchoedRequest } from "../support/echo";
import {
  ALLOWED_HOST,
  EVIL_HOSTS,
  OPEN_REDIRECT_PAYLOADS,
  SITE_HOST,
} from "../support/open-redirect-payloads";
import { BROWSER_UA, SITE, send, uniqueIdentifier } from "../support/worker";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ALLOWING = { ALLOWED_REDIRECT_HOSTS: ALLOWED_HOST };

/**
 * Checks what every response of these routes must satisfy: never a 500, and a `Location` (when
 * there is one) that a browser resolves to https on one of `hosts`, never another host. Returns
 * the resolved Location.
 */
function expectNoEscape(response: Response, hosts: readonly string[] = [SITE_HOST]): URL | null {
  expect(response.status).not.toBe(500);
  const location = response.headers.get("Location");
  if (location === null) return null;
  let resolved: URL;
  try {
    resolved = new URL(location, `${SITE}/`);
  } catch {
    expect.fail(`Location ${JSON.stringify(location)} is not a valid URL`);
  }
  const where = `Location ${JSON.stringify(location)} resolves to ${resolved.href}`;
  expect(resolved.protocol, where).toBe("https:");
  expect(hosts, where).toContain(resolved.host);
  expect(EVIL_HOSTS, where).not.toContain(resolved.host);
  return resolved;
}

/** Like {@link expectNoEscape}, for a Location that must be a path on the site (route 3). */
function expectSameHostPath(response: Response): void {
  expectNoEscape(response);
  const location = response.headers.get("Location") ?? "";
  expect(location, `Location ${JSON.stringify(location)}`).toMatch(/^\/(?![/\\])/);
}

/** The payload as a browser would send it unencoded after `prefix`, or null if it cannot be. */
function rawUrl(prefix: string, payload: string): string | null {
  try {
    const url = new URL(`${SITE}${prefix}${payload}`);
    return url.host === SITE_HOST ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * The payload as the path of a `?ref=` URL on the site, as a browser would request it (the
 * fragment is never sent), or null when the payload cannot be a path on this host.
 */
function refParamUrl(payload: string, identifier: string): string | null {
  const path = payload.startsWith("/") || payload.startsWith("\\") ? payload : `/${payload}`;
  const [beforeHash = ""] = path.split("#", 1);
  const url = rawUrl(`${beforeHash}${beforeHash.includes("?") ? "&" : "?"}ref=`, identifier);
  return url && new URL(url).searchParams.get("ref") === identifier ? url : null;
}

function cookieValue(response: Response, name: string): string | undefined {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair = ""] = cookie.split(";");
    const at = pair.indexOf("=");
    if (pair.slice(0, at) === name) return pair.slice(at + 1);
  }
  return undefined;
}

const cases = OPEN_REDIRECT_PAYLOADS.map((payload) => [payload]);

// Regression: dot segments ("/..//evil.com", "/%2e%2e//evil.com", raw "/..%2f/evil.com") once
// resolved to a protocol-relative `Location: //evil.com`.
describe("every open-redirect payload as ?next= of /ref/<enabled link>", () => {
  it.each(cases)("%j", async (payload) => {
    const link = await createLink(uniqueIdentifier("next"));
    const urls = [
      `/ref/${link.identifier}?next=${encodeURIComponent(payload)}`,
      rawUrl(`/ref/${link.identifier}?next=`, payload),
      rawUrl(`/ref/${link.identifier}/?utm_source=x&next=`, payload),
    ].filter((url): url is string => url !== null);

    for (const url of urls) {
      const plain = await send(url);
      expect(plain.status, url).toBe(302);
      expectNoEscape(plain);

      const allowing = await send(url, { bindings: ALLOWING });
      expect(allowing.status, url).toBe(302);
      expectNoEscape(allowing, [SITE_HOST, ALLOWED_HOST]);
    }

    const hits = await hitsOf(link.id);
    expect(hits).toHaveLength(urls.length * 2);
    // `next` is stored as given (NUL dropped), whether or not it was followed.
    expect(hits.map((hit) => hit.next)).toContain(payload.replaceAll("\0", ""));
  });
});

// Regression: a request path that the URL parser normalises to start with "//" ("//evil.com",
// "/\\evil.com", "/\t/evil.com", "/..//evil.com", ...) was once sent back as the Location as is.
describe("every open-redirect payload in a ?ref=<enabled link> URL", () => {
  it.each(cases)("%j", async (payload) => {
    const link = await createLink(uniqueIdentifier("param"));
    const urls = [
      `/landing?ref=${link.identifier}&next=${encodeURIComponent(payload)}`,
      rawUrl(`/landing?ref=${link.identifier}&next=`, payload),
      refParamUrl(payload, link.identifier),
    ].filter((url): url is string => url !== null);

    for (const url of urls) {
      const response = await send(url, { bindings: ALLOWING });
      expect(response.status, url).toBe(302);
      expectSameHostPath(response);
    }
    expect(await hitsOf(link.id)).toHaveLength(urls.length);
  });
});

describe("the plain attacks, spelled out", () => {
  it.each([
    ["//evil.com", "/"],
    ["/\\evil.com", "/"],
    ["\\/\\/evil.com", "/"],
    ["https:evil.com", "/"],
    ["https://shop.example@evil.com", "/"],
    ["https://shop.example.evil.com", "/"],
    ["https://evil.com%2F@shop.example", "/"],
    ["javascript:alert(1)", "/"],
    ["http://shop.example/x", "/"],
    ["〱evil.com", "/"],
    ["/%2F%2Fevil.com", "/%2F%2Fevil.com"],
    ["https://app.example/x", "https://app.example/x"],
    ["https://app.example@evil.com/", "/"],
  ])("next=%j → %j", async (next, expected) => {
    const link = await createLink(uniqueIdentifier("plain"));
    const response = await send(`/ref/${link.identifier}?next=${encodeURIComponent(next)}`, {
      bindings: ALLOWING,
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(expected);
    expectNoEscape(response, [SITE_HOST, ALLOWED_HOST]);
  });

  it("next=/..//evil.com (dot segments hiding a protocol-relative URL) stays on the site", async () => {
    const link = await createLink(uniqueIdentifier("plain"));
    const response = await send(`/ref/${link.identifier}?next=${encodeURIComponent("/..//evil.com")}`);
    expect(response.status).toBe(302);
    expectNoEscape(response);
  });

  it("falls back to SUCCESS_URL, not to the payload, and keeps the carried parameters harmless", async () => {
    const link = await createLink(uniqueIdentifier("plain"));
    const response = await send(
      `/ref/${link.identifier}?next=%2F%2Fevil.com&u=%2F%2Fevil.com&next=/ok&ref=other`,
      { bindings: { SUCCESS_URL: "/welcome" } },
    );
    expect(response.headers.get("Location")).toBe("/welcome?u=%2F%2Fevil.com");
    expectNoEscape(response);
  });
});

// Regression: these once answered `302 Location: //evil.com` (the request's path as is).
describe("?ref= URLs whose path a browser would read as another host", () => {
  it.each([
    ["a double slash", "//evil.com"],
    ["a backslash, which the URL parser turns into a slash", "/\\evil.com"],
    ["encoded slashes (stays a path)", "/%2F%2Fevil.com"],
    ["a dot segment before a double slash", "/.//evil.com"],
  ])("%s: %s", async (_, path) => {
    const link = await createLink(uniqueIdentifier("path"));
    const url = `${SITE}${path}?ref=${link.identifier}`;
    expect(new URL(url).host).toBe(SITE_HOST);
    const response = await send(url);
    expect(response.status).toBe(302);
    expectSameHostPath(response);
  });
});

const NO_HIT_COOKIE = { Cookie: "reflinks_rk=6f1c1f7e-8a57-4b8e-9a38-3f1c2b9d0e11" };

describe("malformed identifiers on /ref/", () => {
  /**
   * [label, path (relative to /ref/), the identifier as it would read decoded]. The database's
   * check constraint refuses such a link row, so no malformed identifier can ever name a link.
   */
  const malformed: [string, string, string | null][] = [
    ["51 characters", "a".repeat(51), "a".repeat(51)],
    ["300 characters", "b".repeat(300), "b".repeat(300)],
    ["8 KB", "c".repeat(8192), null],
    ["unicode é", "caf%C3%A9", "café"],
    ["an emoji", "%F0%9F%98%80", "😀"],
    ["a single quote", "a'b", "a'b"],
    ["a double quote", "a%22b", 'a"b'],
    ["SQL", "1%27%20OR%201%3D1--", "1' OR 1=1--"],
    ["SQL, raw", "1' OR '1'='1", "1' OR '1'='1"],
    ["encoded traversal", "..%2F..%2Fetc", "../../etc"],
    ["a slash inside", "x/y", "x/y"],
    ["empty", "", null],
    ["only a slash", "/", null],
    ["a lone percent", "%", "%"],
    ["percent garbage", "%zz", "%zz"],
    ["an encoded NUL", "%00", "\0"],
    ["a dot", ".", null],
    ["semicolon", "a;b", "a;b"],
    ["HTML", "%3Cscript%3E", "<script>"],
  ];

  it.each(malformed)("%s: 302 to / or the safe next, no hit, no cookie", async (_, rest, planted) => {
    if (planted !== null) {
      const refused = await createLink(planted).then(() => "stored", errorMessage);
      expect(refused).toMatch(/CHECK constraint failed/);
    }
    const before = await hitCount();
    for (const [query, expected] of [
      ["", "/"],
      ["?next=/after", "/after"],
      ["?next=//evil.com", "/"],
    ] as const) {
      const response = await send(`/ref/${rest}${query}`, { headers: NO_HIT_COOKIE });
      expect(response.status).toBe(302);
      expect(response.headers.get("Location")).toBe(expected);
      expect(response.headers.getSetCookie()).toEqual([]);
      expectNoEscape(response);
    }
    expect(await hitCount()).toBe(before);
  });

  it.each([
    ["an encoded NUL", "%00"],
    ["a trailing space", "%20"],
    ["a trailing newline", "%0A"],
    ["a trailing tab", "%09"],
    ["a trailing dot", "."],
    ["a second segment", "/extra"],
    ["two trailing slashes", "//"],
    ["a semicolon", ";x"],
    ["an encoded slash", "%2F"],
    ["a plus", "+"],
  ])("an enabled link's identifier with %s: no hit on that link", async (_, suffix) => {
    const link = await createLink(uniqueIdentifier("near"));
    const before = await hitCount();
    const response = await send(`/ref/${link.identifier}${suffix}?next=/after`, { headers: NO_HIT_COOKIE });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/after");
    expect(response.headers.getSetCookie()).toEqual([]);
    expectNoEscape(response);
    expect(await hitCount()).toBe(before);
  });

  it.each([["/ref/../_reflinks/health"], ["/ref/%2e%2e/_reflinks/health"], ["/ref/./../_reflinks/health"]])(
    "%s is normalised by the URL parser before the worker sees it: no referral, no hit",
    async (path) => {
      // Browsers and Cloudflare resolve dot segments before the request reaches the worker, so this
      // is a request for /_reflinks/health, not for a referral link.
      expect(new URL(path, SITE).pathname).toBe("/_reflinks/health");
      const before = await hitCount();
      const response = await send(path, { headers: NO_HIT_COOKIE });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await hitCount()).toBe(before);
    },
  );
});

describe("malformed identifiers in ?ref=: the request goes to the origin unchanged", () => {
  it.each([
    ["51 characters", "a".repeat(51)],
    ["unicode é", "caf%C3%A9"],
    ["an emoji", "%F0%9F%98%80"],
    ["a single quote", "a'b"],
    ["a double quote", "a%22b"],
    ["SQL", "1%27%20OR%201%3D1--"],
    ["encoded traversal", "..%2F..%2Fetc"],
    ["traversal", "../x"],
    ["a slash", "a/b"],
    ["empty", ""],
    ["a lone percent", "%"],
    ["percent garbage", "%zz"],
    ["an encoded NUL", "%00"],
    ["a plus", "a+b"],
    ["HTML", "%3Cscript%3E"],
  ])("%s", async (_, value) => {
    const before = await hitCount();
    const path = `/page?x=1&ref=${value}&y=%2F%2Fevil.com`;
    const response = await send(path, { headers: NO_HIT_COOKIE });
    expect(response.status).toBe(200);
    expect(response.headers.get("Location")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    const echo = await response.json<EchoedRequest>();
    const sent = new URL(path, SITE);
    expect(echo.method).toBe("GET");
    expect(echo.url).toBe(`${sent.pathname}${sent.search}`);
    expect(echo.url).toContain(`ref=`);
    expect(await hitCount()).toBe(before);
  });

  it.each([
    ["an encoded NUL", "%00"],
    ["a trailing space", "%20"],
    ["a trailing plus", "+"],
    ["a trailing newline", "%0A"],
    ["a trailing quote", "'"],
  ])("an enabled link's identifier with %s", async (_, suffix) => {
    const link = await createLink(uniqueIdentifier("near"));
    const path = `/page?ref=${link.identifier}${suffix}`;
    const response = await send(path);
    expect(response.status).toBe(200);
    const echo = await response.json<EchoedRequest>();
    const sent = new URL(path, SITE);
    expect(echo.url).toBe(`${sent.pathname}${sent.search}`);
    expect(await hitsOf(link.id)).toHaveLength(0);
  });
});

describe("anonymous cookies that are not UUIDs", () => {
  const uuid = "0b6f2c5e-3d0a-4c1b-9e8f-7a6b5c4d3e2f";
  const junk5k = "!#$%&'()*+-./:<=>?@[]^_`{|}~0123456789abcdefXYZ".repeat(110).slice(0, 5120);

  it.each([
    ["empty", "reflinks_rk="],
    ["quoted junk", 'reflinks_rk="quoted"'],
    ["5 KB of junk", `reflinks_rk=${junk5k}`],
    ["an encoded NUL", "reflinks_rk=%00"],
    ["a UUID and an encoded NUL", `reflinks_rk=${uuid}%00`],
    ["a UUID with a trailing character", `reflinks_rk=${uuid}x`],
    ["a UUID with a leading character", `reflinks_rk=x${uuid}`],
    ["a UUID in braces", `reflinks_rk={${uuid}}`],
    ["a UUID without hyphens", `reflinks_rk=${uuid.replaceAll("-", "")}`],
    ["two UUIDs", `reflinks_rk=${uuid}${uuid}`],
    ["a UUID with an encoded space", `reflinks_rk=${uuid}%20x`],
    ["two junk reflinks_rk cookies", "reflinks_rk=junk; reflinks_rk=more-junk"],
    ["SQL", "reflinks_rk=' OR 1=1--"],
    ["percent garbage", "reflinks_rk=%zz%"],
    ["no value at all", "reflinks_rk"],
    ["a broken header", ";;=;reflinks_rk;==; reflinks_rk =="],
    ["a non-ASCII value", "reflinks_rk=caf\u00e9"],
  ])("%s: a fresh UUID is issued and stored", async (_, cookie) => {
    const link = await createLink(uniqueIdentifier("cookie"));
    const response = await send(`/ref/${link.identifier}`, { headers: { Cookie: cookie } });
    expect(response.status).toBe(302);
    expectNoEscape(response);
    const issued = cookieValue(response, "reflinks_rk");
    expect(issued).toMatch(UUID_V4);
    expect(issued).not.toBe(uuid);
    const [hit, ...others] = await hitsOf(link.id);
    expect(others).toHaveLength(0);
    expect(hit?.anonymousId).toBe(issued);
  });

  it("two reflinks_rk cookies, junk and a UUID: a UUID is issued and stored", async () => {
    const link = await createLink(uniqueIdentifier("cookie"));
    const response = await send(`/ref/${link.identifier}`, {
      headers: { Cookie: `reflinks_rk=junk; reflinks_rk=${uuid}` },
    });
    expect(response.status).toBe(302);
    const issued = cookieValue(response, "reflinks_rk");
    expect(issued).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [hit] = await hitsOf(link.id);
    expect(hit?.anonymousId).toBe(issued);
  });

  it("junk cookies on ?ref= URLs too", async () => {
    const link = await createLink(uniqueIdentifier("cookie"));
    const response = await send(`/p?ref=${link.identifier}`, {
      headers: { Cookie: `reflinks_rk=${junk5k}` },
    });
    expect(response.status).toBe(302);
    expectSameHostPath(response);
    const issued = cookieValue(response, "reflinks_rk");
    expect(issued).toMatch(UUID_V4);
    const [hit] = await hitsOf(link.id);
    expect(hit?.anonymousId).toBe(issued);
  });
});

describe("a reflinks_rk cookie tossed in from a sibling subdomain", () => {
  const victim = "0b6f2c5e-3d0a-4c1b-9e8f-7a6b5c4d3e2f";
  const tossed = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

  it("two differing UUIDs: neither is trusted, the hit gets a fresh id, which is set", async () => {
    const link = await createLink(uniqueIdentifier("tossed"));
    for (const cookie of [
      `reflinks_rk=${tossed}; reflinks_rk=${victim}`,
      `reflinks_rk=${victim}; reflinks_rk=${tossed}`,
    ]) {
      const response = await send(`/ref/${link.identifier}`, { headers: { Cookie: cookie } });
      const issued = cookieValue(response, "reflinks_rk");
      expect(issued).toMatch(UUID_V4);
      expect([victim, tossed]).not.toContain(issued);
      // Without COOKIE_DOMAIN the only copy we set is the host-only one: nothing else to expire.
      const visitorCookies = response.headers.getSetCookie().filter((c) => c.startsWith("reflinks_rk="));
      expect(visitorCookies).toHaveLength(1);
    }
    const hits = await hitsOf(link.id);
    expect(hits.map((hit) => hit.anonymousId)).not.toContain(tossed);
    expect(hits.map((hit) => hit.anonymousId)).not.toContain(victim);
  });

  it("the same value twice (host-only and Domain copies) is one id, kept", async () => {
    const link = await createLink(uniqueIdentifier("twice"));
    const response = await send(`/ref/${link.identifier}`, {
      headers: { Cookie: `reflinks_rk=${victim}; reflinks_rk=${victim}` },
    });
    expect(cookieValue(response, "reflinks_rk")).toBe(victim);
    expect((await hitsOf(link.id))[0]?.anonymousId).toBe(victim);
  });

  it("with COOKIE_DOMAIN, the response also expires the host-only copy, so one click heals it", async () => {
    const link = await createLink(uniqueIdentifier("heal"));
    const response = await send(`/?ref=${link.identifier}`, {
      headers: { Cookie: `reflinks_rk=${tossed}; reflinks_rk=${victim}` },
      bindings: { COOKIE_DOMAIN: ".shop.example" },
    });
    // The visitor cookie's copies (the hit's reflinks_ref is docs/referred-visitor.md's).
    const cookies = response.headers.getSetCookie().filter((c) => c.startsWith("reflinks_rk="));
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(
      /^reflinks_rk=[0-9a-f-]{36}; Max-Age=31536000; Domain=\.shop\.example; Path=\//,
    );
    expect(cookies[1]).toMatch(/^reflinks_rk=; Max-Age=0; Path=\//);
    expect(cookies[1]).not.toMatch(/Domain/);
  });
});

describe("requests that are not a top-level navigation (Sec-Fetch-*)", () => {
  for (const [what, headers] of [
    [
      "an <img> on another site",
      { "Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "cross-site" },
    ],
    [
      "an <iframe> on another site",
      { "Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "cross-site" },
    ],
    [
      "a script's fetch()",
      { "Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "cross-site" },
    ],
    ["a no-cors fetch without a destination", { "Sec-Fetch-Mode": "no-cors" }],
  ] as const) {
    it(`${what}: redirected, no hit, no cookie, on /ref/ and ?ref=`, async () => {
      const link = await createLink(uniqueIdentifier("embed"));
      const byLink = await send(`/ref/${link.identifier}?next=/pricing`, { headers });
      expect(byLink.status).toBe(302);
      expect(byLink.headers.get("Location")).toBe("/pricing");
      expect(byLink.headers.getSetCookie()).toEqual([]);
      const byParam = await send(`/pricing?ref=${link.identifier}`, { headers });
      expect(byParam.status).toBe(302);
      expect(byParam.headers.getSetCookie()).toEqual([]);
      expect(await hitsOf(link.id)).toEqual([]);
    });
  }

  it("a top-level navigation from another site counts, and so does a browser that sends no Sec-Fetch-*", async () => {
    const link = await createLink(uniqueIdentifier("navigate"));
    const navigation = {
      "Sec-Fetch-Dest": "document",
      "Sec-Fetch-Mode": "navigate",
      "Sec-Fetch-Site": "cross-site",
    };
    expect(
      cookieValue(await send(`/ref/${link.identifier}`, { headers: navigation }), "reflinks_rk"),
    ).toMatch(UUID_V4);
    await send(`/ref/${link.identifier}`);
    expect(await hitsOf(link.id)).toHaveLength(2);
  });
});

describe("huge and broken text", () => {
  const userAgent = `${BROWSER_UA} ${"u".repeat(8192 - BROWSER_UA.length - 1)}`;
  const referer = `https://news.example/${"r".repeat(8192 - 21)}`;
  const longNext = `/${"n".repeat(4095)}`;

  it("an 8 KB User-Agent and Referer and a 4 KB next: one hit, each cut to exactly 1024", async () => {
    expect([userAgent.length, referer.length, longNext.length]).toEqual([8192, 8192, 4096]);
    const link = await createLink(uniqueIdentifier("huge"));
    const response = await send(`/ref/${link.identifier}?next=${encodeURIComponent(longNext)}`, {
      headers: { "User-Agent": userAgent, Referer: referer },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(longNext);
    expectNoEscape(response);
    const [hit, ...others] = await hitsOf(link.id);
    expect(others).toHaveLength(0);
    expect(hit?.userAgent).toHaveLength(1024);
    expect(hit?.httpReferer).toHaveLength(1024);
    expect(hit?.next).toHaveLength(1024);
    expect(hit?.userAgent).toBe(userAgent.slice(0, 1024));
    expect(hit?.httpReferer).toBe(referer.slice(0, 1024));
    expect(hit?.next).toBe(longNext.slice(0, 1024));
  });

  it("the same on a ?ref= URL with a 4 KB path and query", async () => {
    const link = await createLink(uniqueIdentifier("huge"));
    const path = `${longNext}?q=${"q".repeat(2048)}&ref=${link.identifier}`;
    const response = await send(path, { headers: { "User-Agent": userAgent, Referer: referer } });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(`${longNext}?q=${"q".repeat(2048)}`);
    expectSameHostPath(response);
    const [hit] = await hitsOf(link.id);
    expect(hit?.userAgent).toHaveLength(1024);
    expect(hit?.httpReferer).toHaveLength(1024);
    expect(hit?.next).toBe(longNext.slice(0, 1024));
  });

  it.each([
    ["a NUL alone", "%00", "/", ""],
    ["a NUL inside a path", "/a%00b", "/", "/ab"],
    ["an encoded lone surrogate", "%ED%A0%80", "/", "\ufffd\ufffd\ufffd"],
    ["a path with a lone surrogate", "/x%ED%A0%80", "/x%EF%BF%BD%EF%BF%BD%EF%BF%BD", "/x\ufffd\ufffd\ufffd"],
    ["a truncated UTF-8 sequence", "/x%F0%9F", "/x%EF%BF%BD", "/x\ufffd"],
    ["an emoji", "/%F0%9F%98%80", "/%F0%9F%98%80", "/😀"],
    ["a raw emoji", "/😀", "/%F0%9F%98%80", "/😀"],
    ["percent garbage", "/%zz%", "/%zz%", "/%zz%"],
    ["a Latin-1 encoded byte", "/caf%E9", "/caf%EF%BF%BD", "/caf\ufffd"],
  ])("next with %s: no 500, hit stored", async (_, next, location, stored) => {
    const link = await createLink(uniqueIdentifier("text"));
    const response = await send(`/ref/${link.identifier}?next=${next}`);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(location);
    expectNoEscape(response);
    const [hit] = await hitsOf(link.id);
    expect(hit?.next).toBe(stored);
  });

  it("a next cut in the middle of an emoji keeps no half of it", async () => {
    const link = await createLink(uniqueIdentifier("text"));
    const next = `/${"a".repeat(1022)}😀tail`;
    const response = await send(`/ref/${link.identifier}?next=${encodeURIComponent(next)}`);
    expect(response.status).toBe(302);
    const [hit] = await hitsOf(link.id);
    expect(hit?.next.length).toBeLessThanOrEqual(1024);
    expect(hit?.next.isWellFormed()).toBe(true);
    expect(hit?.next).toBe(next.slice(0, 1023));
  });

  it("Latin-1 bytes and odd characters in User-Agent and Referer are stored", async () => {
    const link = await createLink(uniqueIdentifier("text"));
    const response = await send(`/ref/${link.identifier}`, {
      headers: {
        "User-Agent": `${BROWSER_UA} caf\u00e9 \u00ff"'<>\\`,
        Referer: "https://news.example/caf\u00e9?q='%00\"",
      },
    });
    expect(response.status).toBe(302);
    const [hit] = await hitsOf(link.id);
    expect(hit?.userAgent).toBe(`${BROWSER_UA} caf\u00e9 \u00ff"'<>\\`);
    expect(hit?.httpReferer).toBe("https://news.example/caf\u00e9?q='%00\"");
  });
});
