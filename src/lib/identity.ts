/**
 * The signed identity cookie `reflinks_uid` (SPEC "Zero-code login reporting"): set when the origin
 * reports a login with the `Reflinks-User` header, so that later hits by this browser are
 * authenticated. HMAC-SHA256 by WebCrypto (hono's signed cookies), verified in constant time. The
 * value carries when it was issued, so a copied cookie stops working after `COOKIE_MAX_AGE` even
 * if a browser kept it longer; a cookie signed with a secret since rotated away is ignored.
 */
import { generateCookie, generateSignedCookie } from "hono/cookie";
import { parseSigned } from "hono/utils/cookie";
import type { Config } from "../config";
import { cookieOptions } from "./visitor-cookie";

export const IDENTITY_COOKIE = "reflinks_uid";

/** `Set-Cookie` for a browser that just logged in as `userId`; null without `SIGNING_SECRET`. */
export async function identityCookie(
  userId: string,
  config: Config,
  requestUrl: URL,
  now = Date.now(),
): Promise<string | null> {
  if (!config.signingSecret) return null;
  const issuedAt = Math.floor(now / 1000);
  return generateSignedCookie(
    IDENTITY_COOKIE,
    `${issuedAt}:${userId}`,
    config.signingSecret,
    cookieOptions(IDENTITY_COOKIE, config, requestUrl, config.cookieMaxAge),
  );
}

/** `Set-Cookie` that removes the identity cookie (a logout). */
export function clearIdentityCookie(config: Config, requestUrl: URL): string {
  return generateCookie(IDENTITY_COOKIE, "", cookieOptions(IDENTITY_COOKIE, config, requestUrl, 0));
}

/**
 * The user a request's identity cookie names, or null: no secret configured, no cookie, a bad or
 * foreign signature, a malformed value, or a cookie older than `COOKIE_MAX_AGE`.
 */
export async function verifiedUserId(
  request: Request,
  config: Config,
  now = Date.now(),
): Promise<string | null> {
  if (!config.signingSecret) return null;
  const header = request.headers.get("Cookie");
  if (!header?.includes(IDENTITY_COOKIE)) return null;
  const value = (await parseSigned(header, config.signingSecret, IDENTITY_COOKIE))[IDENTITY_COOKIE];
  if (typeof value !== "string") return null;
  const match = /^(\d{1,12}):(.+)$/s.exec(value);
  if (!match?.[1] || !match[2]) return null;
  const ageSeconds = Math.floor(now / 1000) - Number(match[1]);
  if (ageSeconds < -300 || ageSeconds > config.cookieMaxAge) return null;
  return match[2];
}
