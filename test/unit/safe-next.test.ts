import { describe, expect, it } from "vitest";
import { queryWithout } from "../../src/lib/query";
import { appendQuery, safeNext } from "../../src/lib/safe-next";
import {
  ALLOWED_HOST,
  EVIL_HOSTS,
  OPEN_REDIRECT_PAYLOADS,
  SITE_HOST,
} from "../support/open-redirect-payloads";

const SITE = `https://${SITE_HOST}`;
const REQUEST_URL = new URL(`${SITE}/ref/abc`);
const NONE: ReadonlySet<string> = new Set();
const ALLOWED: ReadonlySet<string> = new Set([ALLOWED_HOST]);

/**
 * Why `result` (a `safeNext` answer) could send a browser off the allowed hosts, or null when it
 * cannot. A browser resolves a `Location` with the same WHATWG parser as `new URL`.
 */
function escapes(result: string | null, hosts: readonly string[]): string | null {
  if (result === null) return null;
  if (/[\p{Cc}\s\\]/u.test(result)) return `contains a control character, whitespace or backslash`;
  if (result.startsWith("/")) {
    if (result.startsWith("//")) return `is protocol-relative`;
    const resolved = new URL(result, `${SITE}/`);
    return resolved.host === SITE_HOST ? null : `resolves to host ${resolved.host}`;
  }
  let url: URL;
  try {
    url = new URL(result);
  } catch {
    return "is neither a path nor an absolute URL";
  }
  if (url.protocol !== "https:") return `has scheme ${url.protocol}`;
  if (url.username || url.password) return "has credentials";
  if (!hosts.includes(url.host)) return `names host ${url.host}`;
  return null;
}

describe("safeNext: accepted forms", () => {
  it.each([
    ["/", "/"],
    ["/pricing", "/pricing"],
    ["/pricing?plan=pro", "/pricing?plan=pro"],
    ["/docs#install", "/docs#install"],
    ["/p?a=1&b=2#top", "/p?a=1&b=2#top"],
    ["/search?q=a+b%20c", "/search?q=a+b%20c"],
    ["/a/b/../c/./d", "/a/c/d"],
    ["/café", "/caf%C3%A9"],
    ["/😀?e=😀#😀", "/%F0%9F%98%80?e=%F0%9F%98%80#%F0%9F%98%80"],
    ["/über/straße", "/%C3%BCber/stra%C3%9Fe"],
    ["/a%2Fb", "/a%2Fb"],
    ["/%2F%2Fevil.com", "/%2F%2Fevil.com"],
    ["/%5Cevil.com", "/%5Cevil.com"],
    ["/http://evil.com", "/http://evil.com"],
    ["/a:b", "/a:b"],
    ["/?next=//evil.com", "/?next=//evil.com"],
    ["/#//evil.com", "/#//evil.com"],
  ])("%j → %j", (next, expected) => {
    expect(safeNext(next, REQUEST_URL, NONE)).toBe(expected);
  });

  it.each([
    ["https://shop.example", "https://shop.example/"],
    ["https://shop.example/cart", "https://shop.example/cart"],
    ["https://shop.example/cart?x=1#y", "https://shop.example/cart?x=1#y"],
    ["HTTPS://SHOP.EXAMPLE/Cart", "https://shop.example/Cart"],
    ["https://shop.example:443/cart", "https://shop.example/cart"],
    ["https://shop.example/café", "https://shop.example/caf%C3%A9"],
    ["https://shop.example/..//evil.com", "https://shop.example//evil.com"],
  ])("absolute https on the request's host: %j → %j", (next, expected) => {
    expect(safeNext(next, REQUEST_URL, NONE)).toBe(expected);
  });

  it("absolute https on an allowed host, only when allowed", () => {
    expect(safeNext("https://app.example/start?x=1", REQUEST_URL, ALLOWED)).toBe(
      "https://app.example/start?x=1",
    );
    expect(safeNext("https://APP.example/start", REQUEST_URL, ALLOWED)).toBe("https://app.example/start");
    expect(safeNext("https://app.example/start", REQUEST_URL, NONE)).toBeNull();
    expect(safeNext("https://www.app.example/", REQUEST_URL, ALLOWED)).toBeNull();
    expect(safeNext("https://app.example:8443/", REQUEST_URL, ALLOWED)).toBeNull();
  });

  it("judges the host against the request's own host, not a fixed one", () => {
    const other = new URL("https://www.example.org/ref/abc");
    expect(safeNext("https://www.example.org/x", other, NONE)).toBe("https://www.example.org/x");
    expect(safeNext("https://shop.example/x", other, NONE)).toBeNull();
  });
});

describe("safeNext: rejected forms", () => {
  it.each([
    ["missing", null],
    ["undefined", undefined],
    ["empty", ""],
    ["a bare word", "pricing"],
    ["a relative path without slash", "pricing/pro"],
    ["a dot path", "./pricing"],
    ["protocol-relative", "//evil.com"],
    ["slash backslash", "/\\evil.com"],
    ["backslash anywhere", "/a\\b"],
    ["a tab", "/a\tb"],
    ["a newline", "/a\nb"],
    ["a carriage return", "/a\rb"],
    ["a NUL", "/a\0b"],
    ["a space", "/a b"],
    ["a no-break space", "/a\u00a0b"],
    ["a zero-width space", "/a\u200bb"],
    ["a right-to-left override", "/a\u202eb"],
    ["a line separator", "/a\u2028b"],
    ["http on the own host", "http://shop.example/x"],
    ["another host", "https://evil.com/"],
    ["credentials", "https://user:pass@shop.example/"],
    ["a user name", "https://user@shop.example/"],
    ["another port", "https://shop.example:8443/"],
    ["a sub-domain of the host", "https://www.shop.example/"],
    ["the host as a prefix", "https://shop.example.evil.com/"],
    ["javascript", "javascript:alert(1)"],
    ["data", "data:text/html,<script>alert(1)</script>"],
    ["ftp on the own host", "ftp://shop.example/"],
    ["https without slashes", "https:shop.example/x"],
    ["a trailing-dot host", "https://shop.example./x"],
  ])("%s", (_, next) => {
    expect(safeNext(next, REQUEST_URL, ALLOWED)).toBeNull();
  });
});

describe("safeNext: the open-redirect corpus", () => {
  it("is large and has no duplicates", () => {
    expect(OPEN_REDIRECT_PAYLOADS.length).toBeGreaterThanOrEqual(80);
    expect(new Set(OPEN_REDIRECT_PAYLOADS).size).toBe(OPEN_REDIRECT_PAYLOADS.length);
    expect(EVIL_HOSTS).not.toContain(SITE_HOST);
  });

  // Regression: "/..//evil.com", "/%2e%2e//evil.com" and friends once came back as "//evil.com",
  // because the URL parser removes dot segments and leaves a path that starts with "//".
  it.each(OPEN_REDIRECT_PAYLOADS.map((payload) => [payload]))("%j never leaves the site", (payload) => {
    const result = safeNext(payload, REQUEST_URL, NONE);
    expect(
      escapes(result, [SITE_HOST]),
      `safeNext(${JSON.stringify(payload)}) = ${JSON.stringify(result)}`,
    ).toBeNull();
  });

  it.each(OPEN_REDIRECT_PAYLOADS.map((payload) => [payload]))(
    "%j never leaves the site or the allowed host",
    (payload) => {
      const result = safeNext(payload, REQUEST_URL, ALLOWED);
      expect(
        escapes(result, [SITE_HOST, ALLOWED_HOST]),
        `safeNext(${JSON.stringify(payload)}) = ${JSON.stringify(result)}`,
      ).toBeNull();
    },
  );

  it("stays on the site when the carried query is appended, whatever the query says", () => {
    for (const payload of OPEN_REDIRECT_PAYLOADS) {
      const result = safeNext(payload, REQUEST_URL, NONE);
      if (result === null || escapes(result, [SITE_HOST]) !== null) continue;
      const withQuery = appendQuery(result, `u=${encodeURIComponent(payload)}&v=//evil.com`);
      expect(new URL(withQuery, `${SITE}/`).host, withQuery).toBe(SITE_HOST);
    }
  });

  it("rejects the plain attacks outright instead of rewriting them", () => {
    for (const payload of [
      "//evil.com",
      "/\\evil.com",
      "\\/\\/evil.com",
      "https:evil.com",
      "https://shop.example@evil.com",
      "https://shop.example.evil.com",
      "javascript:alert(1)",
      "http://shop.example",
      "/\t/evil.com",
      "〱evil.com",
      "／／evil.com",
      "///evil.com",
    ]) {
      expect(safeNext(payload, REQUEST_URL, ALLOWED), payload).toBeNull();
    }
  });
});

describe("appendQuery", () => {
  it.each([
    ["/p", "", "/p"],
    ["/p", "a=1", "/p?a=1"],
    ["/p?x=1", "a=1", "/p?x=1&a=1"],
    ["/p?", "a=1", "/p?a=1"],
    ["/p?x=1&", "a=1", "/p?x=1&a=1"],
    ["/p#top", "a=1", "/p?a=1#top"],
    ["/p?x=1#top", "a=1&b=2", "/p?x=1&a=1&b=2#top"],
    ["/p#frag?not=query", "a=1", "/p?a=1#frag?not=query"],
    ["/p?x#h&y", "a", "/p?x&a#h&y"],
    ["https://shop.example/p", "a=1", "https://shop.example/p?a=1"],
    ["https://shop.example/p?x=1#h", "a=1", "https://shop.example/p?x=1&a=1#h"],
  ])("(%j, %j) → %j", (target, query, expected) => {
    expect(appendQuery(target, query)).toBe(expected);
  });

  it("never changes the host of a path or an absolute URL", () => {
    for (const target of ["/", "/p", "/p?x#y", "https://shop.example/", "https://shop.example/p#h"]) {
      for (const query of [
        "a=//evil.com",
        "@evil.com",
        "#//evil.com",
        "a=https://evil.com",
        "%2F%2Fevil.com",
      ]) {
        expect(new URL(appendQuery(target, query), `${SITE}/`).host, `${target} + ${query}`).toBe(SITE_HOST);
      }
    }
  });
});

describe("queryWithout", () => {
  it.each([
    ["", ["ref"], ""],
    ["?", ["ref"], ""],
    ["?ref=abc", ["ref"], ""],
    ["?ref=", ["ref"], ""],
    ["?ref", ["ref"], ""],
    ["?a=1&ref=x&b=2&ref=y", ["ref"], "a=1&b=2"],
    ["a=1&ref=x", ["ref"], "a=1"],
    ["?r%65f=x&a=1", ["ref"], "a=1"],
    ["?%72%65%66=x&a=1", ["ref"], "a=1"],
    ["?reference=1&ref=2&xref=3", ["ref"], "reference=1&xref=3"],
    ["?REF=1&ref=2", ["ref"], "REF=1"],
    ["?a=%20b&&c&", ["ref"], "a=%20b&c"],
    ["?%zz=1&ref=2", ["ref"], "%zz=1"],
    ["?%=1&ref=2&%E0%A4%A=3", ["ref"], "%=1&%E0%A4%A=3"],
    ["?a=1=2&ref=x=y", ["ref"], "a=1=2"],
    ["?a+b=1&ref=2", ["a b"], "ref=2"],
    ["?next=/x&ref=a&utm_source=tw", ["next", "ref"], "utm_source=tw"],
    ["?u=%2F%2Fevil.com&ref=a", ["ref"], "u=%2F%2Fevil.com"],
  ] as const)("(%j, %j) → %j", (search, names, expected) => {
    expect(queryWithout(search, names)).toBe(expected);
  });

  it("removes exactly the parameters URLSearchParams would read under that name", () => {
    const queries = [
      "?ref=a&ref=b&r%65f=c&x=1",
      "?x=%zz&ref=1&%zz=ref",
      "?ref%00=1&ref=2",
      "?a=ref%3D1&ref=2",
      ...OPEN_REDIRECT_PAYLOADS.map((payload) => `?ref=a&next=${encodeURIComponent(payload)}&r%65f=b`),
      ...OPEN_REDIRECT_PAYLOADS.map((payload) => new URL(`${SITE}/?ref=a&p=${payload}`).search),
    ];
    for (const search of queries) {
      const kept = new URLSearchParams(queryWithout(search, ["ref"]));
      expect(kept.has("ref"), search).toBe(false);
      const others = [...new URLSearchParams(search)].filter(([name]) => name !== "ref");
      expect([...kept], search).toEqual(others);
    }
  });
});
