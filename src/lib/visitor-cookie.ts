import { generateCookie } from "hono/cookie";
import { parse } from "hono/utils/cookie";
import type { Config } from "../config";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID (any version), the only thing an anonymous id may be. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** One cookie's value from a request, or undefined. Malformed cookie headers yield undefined. */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("Cookie");
  if (!header) return undefined;
  return parse(header, name)[name];
}

/**
 * The anonymous id the browser already carries, lower-cased, when its cookie holds a UUID. A
 * browser may send the cookie twice (host-only and `Domain=` copies): the first UUID wins, so a
 * stray junk copy does not cost the visitor their id.
 */
export function anonymousIdOf(request: Request, config: Config): string | null {
  const header = request.headers.get("Cookie");
  if (!header?.includes(config.cookieName)) return null;
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at === -1 || pair.slice(0, at).trim() !== config.cookieName) continue;
    const value = pair
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (isUuid(value)) return value.toLowerCase();
  }
  return null;
}

/**
 * Attributes shared by the cookies reflinks sets (SPEC route 2). A `__Secure-`/`__Host-` name is
 * always Secure: the prefix promises it, and a browser drops such a cookie without it.
 */
export function cookieOptions(name: string, config: Config, requestUrl: URL, maxAge: number) {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "Lax" as const,
    secure: requestUrl.protocol === "https:" || /^__(secure|host)-/i.test(name),
    maxAge,
    ...(config.cookieDomain ? { domain: config.cookieDomain } : {}),
  };
}

/** `Set-Cookie` value that (re)sets the anonymous visitor cookie for another `COOKIE_MAX_AGE`. */
export function anonymousCookie(anonymousId: string, config: Config, requestUrl: URL): string {
  return generateCookie(
    config.cookieName,
    anonymousId,
    cookieOptions(config.cookieName, config, requestUrl, config.cookieMaxAge),
  );
}

/** `Set-Cookie` that removes the anonymous visitor cookie (after a reported login). */
export function clearAnonymousCookie(config: Config, requestUrl: URL): string {
  return generateCookie(config.cookieName, "", cookieOptions(config.cookieName, config, requestUrl, 0));
}
