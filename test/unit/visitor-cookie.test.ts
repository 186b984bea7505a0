import { generateCookie } from "hono/cookie";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { anonymousCookie, cookieOptions } from "../../src/lib/visitor-cookie";

describe("anonymousCookie", () => {
  const id = "0b9d6f4e-6c1a-4f1e-9d0a-3b2c1d4e5f60";
  it.each([
    [{}, "https://shop.example/p"],
    [{}, "http://shop.example/p"],
    [{ COOKIE_DOMAIN: "shop.example", COOKIE_MAX_AGE: "3600" }, "https://www.shop.example/"],
    [{ COOKIE_NAME: "__Secure-rk" }, "http://shop.example/"],
  ])("is what generateCookie makes, for every call (%j, %s)", (vars, raw) => {
    const config = parseConfig(vars);
    const url = new URL(raw);
    const expected = generateCookie(
      config.cookieName,
      id,
      cookieOptions(config.cookieName, config, url, config.cookieMaxAge),
    );
    // Twice: the first call makes the remembered template, the second uses it.
    expect(anonymousCookie(id, config, url)).toBe(expected);
    expect(anonymousCookie(id, config, url)).toBe(expected);
    const other = "ffffffff-6c1a-4f1e-9d0a-3b2c1d4e5f60";
    expect(anonymousCookie(other, config, url)).toBe(expected.replace(id, other));
  });
});
