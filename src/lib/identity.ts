/**
 * The signed identity cookie `reflinks_uid` (docs/routing.md#the-identity-cookie): set when the
 * origin reports a login, so that later hits by this browser are authenticated. HMAC-SHA256 by
 * WebCrypto (hono's signed cookies), verified in constant time. The value carries when it was
 * issued, so a copied cookie stops working after `COOKIE_MAX_AGE` even if a browser kept it
 * longer; a cookie signed with a key since rotated away is ignored.
 *
 * The key is `SIGNING_SECRET`, or else one derived from `API_TOKEN` (HKDF-SHA256, info
 * "reflinks identity cookie"), so that a site with only the one secret still tells its signed-in
 * users' clicks apart: without it, an existing customer's click would look like a new visitor's.
 */
import { generateCookie, generateSignedCookie } from "hono/cookie";
import { parseSigned } from "hono/utils/cookie";
import type { Config } from "../config";
import { derivedBits } from "./keys";
import { cookieOptions } from "./visitor-cookie";

export const IDENTITY_COOKIE = "reflinks_uid";

/**
 * Marks cookies issued by a worker that records each login in `reflinks_users`. Cookies issued
 * before that (plain `issued:user`) still authenticate hits, but a login report for their user is
 * recorded once more, so that every signed-in user gets their `first_seen_at`.
 */
const RECORDED = "r";

const HKDF_INFO = "reflinks identity cookie";

/** The identity cookie's key, or null when neither `SIGNING_SECRET` nor `API_TOKEN` is set. */
export function identityKey(config: Config): Promise<string | ArrayBuffer> | null {
  if (config.signingSecret) return Promise.resolve(config.signingSecret);
  const token = config.apiToken;
  if (!token) return null;
  // Derived once per isolate and token (./keys.ts).
  return derivedBits(token, HKDF_INFO);
}

/**
 * `Set-Cookie` for a browser that just logged in as `userId`; null when there is no key.
 * `recorded: false` when the login could not be written yet: the next report records it again.
 */
export async function identityCookie(
  userId: string,
  config: Config,
  requestUrl: URL,
  { recorded = true, now = Date.now() }: { recorded?: boolean; now?: number } = {},
): Promise<string | null> {
  const key = identityKey(config);
  if (!key) return null;
  const issuedAt = Math.floor(now / 1000);
  return generateSignedCookie(
    IDENTITY_COOKIE,
    `${recorded ? RECORDED : ""}${issuedAt}:${userId}`,
    await key,
    cookieOptions(IDENTITY_COOKIE, config, requestUrl, config.cookieMaxAge),
  );
}

/** `Set-Cookie` that removes the identity cookie (a logout). */
export function clearIdentityCookie(config: Config, requestUrl: URL): string {
  return generateCookie(IDENTITY_COOKIE, "", cookieOptions(IDENTITY_COOKIE, config, requestUrl, 0));
}

/** Who a request's identity cookie names, and whether the login behind it was recorded. */
export interface Identity {
  userId: string;
  recorded: boolean;
}

/**
 * The identity a request's cookie carries, or null: no key, no cookie, a bad or foreign
 * signature, a malformed value, or a cookie older than `COOKIE_MAX_AGE`.
 */
export async function verifiedIdentity(
  request: Request,
  config: Config,
  now = Date.now(),
): Promise<Identity | null> {
  const header = request.headers.get("Cookie");
  // Checked before the key: a page view without the cookie must not pay for anything else.
  if (!header?.includes(IDENTITY_COOKIE)) return null;
  const key = identityKey(config);
  if (!key) return null;
  const value = (await parseSigned(header, await key, IDENTITY_COOKIE))[IDENTITY_COOKIE];
  if (typeof value !== "string") return null;
  const match = /^(r?)(\d{1,12}):(.+)$/s.exec(value);
  if (!match?.[2] || !match[3]) return null;
  const ageSeconds = Math.floor(now / 1000) - Number(match[2]);
  if (ageSeconds < -300 || ageSeconds > config.cookieMaxAge) return null;
  return { userId: match[3], recorded: match[1] === RECORDED };
}

/** The user a request's identity cookie names, or null (see {@link verifiedIdentity}). */
export async function verifiedUserId(
  request: Request,
  config: Config,
  now = Date.now(),
): Promise<string | null> {
  return (await verifiedIdentity(request, config, now))?.userId ?? null;
}
