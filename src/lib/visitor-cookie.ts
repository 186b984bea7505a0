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

/** What a request's `COOKIE_NAME` cookies say about the visitor's anonymous id. */
export interface AnonymousCookie {
  /** The id, lower-cased, when the browser sent exactly one value and it is a UUID. */
  id: string | null;
  /**
   * The browser sent the cookie more than once with different values: one may have been tossed
   * from a sibling subdomain to take over this visitor's hits, so none of them is trusted.
   */
  conflict: boolean;
}

const NO_COOKIE: AnonymousCookie = { id: null, conflict: false };

/**
 * The anonymous id the browser already carries (docs/routing.md#the-visitor-cookie). Copies with
 * the same value (host-only and `Domain=`, say) are one id; copies that differ are a conflict.
 */
export function anonymousCookieOf(request: Request, config: Config): AnonymousCookie {
  const header = request.headers.get("Cookie");
  if (!header?.includes(config.cookieName)) return NO_COOKIE;
  let found: string | undefined;
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at === -1 || pair.slice(0, at).trim() !== config.cookieName) continue;
    const value = pair
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (found === undefined) found = value;
    else if (value !== found) return { id: null, conflict: true };
  }
  return found !== undefined && isUuid(found) ? { id: found.toLowerCase(), conflict: false } : NO_COOKIE;
}

/** The anonymous id of {@link anonymousCookieOf}, or null. */
export function anonymousIdOf(request: Request, config: Config): string | null {
  return anonymousCookieOf(request, config).id;
}

/**
 * Attributes shared by the cookies reflinks sets (docs/routing.md#cookies). A `__Secure-`/`__Host-` name is
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

/**
 * `Set-Cookie` value that (re)sets the anonymous visitor cookie for another `COOKIE_MAX_AGE`.
 * Every hit sets it, so hono's `generateCookie` (validation, attribute checks) runs once per
 * configuration and scheme: its output with an empty value is remembered and the id put in.
 */
export function anonymousCookie(anonymousId: string, config: Config, requestUrl: URL): string {
  const https = requestUrl.protocol === "https:";
  let templates = anonymousCookieTemplates.get(config);
  if (!templates) {
    templates = {};
    anonymousCookieTemplates.set(config, templates);
  }
  const key = https ? "https" : "http";
  let template = templates[key];
  if (template === undefined) {
    template = generateCookie(
      config.cookieName,
      "",
      cookieOptions(config.cookieName, config, requestUrl, config.cookieMaxAge),
    );
    templates[key] = template;
  }
  // `name=` then the attributes; the value is encoded as generateCookie encodes it.
  const at = template.indexOf("=") + 1;
  return `${template.slice(0, at)}${encodeURIComponent(anonymousId)}${template.slice(at)}`;
}

const anonymousCookieTemplates = new WeakMap<Config, { http?: string; https?: string }>();

/** `Set-Cookie` that removes the anonymous visitor cookie (after a reported login). */
export function clearAnonymousCookie(config: Config, requestUrl: URL): string {
  return generateCookie(config.cookieName, "", cookieOptions(config.cookieName, config, requestUrl, 0));
}

/**
 * `Set-Cookie` that removes a host-only copy of the anonymous cookie, for a site that sets it with
 * `COOKIE_DOMAIN`: a copy left from before (or tossed in) would conflict with it at every click.
 * Null without `COOKIE_DOMAIN`, where the only copy is the host-only one.
 */
export function clearHostOnlyAnonymousCookie(config: Config, requestUrl: URL): string | null {
  if (!config.cookieDomain) return null;
  return generateCookie(config.cookieName, "", {
    ...cookieOptions(config.cookieName, config, requestUrl, 0),
    domain: undefined,
  });
}
