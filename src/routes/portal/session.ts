/**
 * The referrer's page's own session (docs/referrer-page.md#sign-in-links): for an origin that
 * reports logins by API calls, so that its browsers carry no identity cookie, a one-use sign-in
 * link opens a session for the page only: the cookie's `Path` is `PORTAL_PATH`, so no other page
 * of the site, referral links included, ever receives it, and it lasts an hour. Its value is
 * signed like the identity cookie's, with a key of its own (HKDF-SHA256 from the same secret,
 * info "reflinks portal session"), so that neither cookie's value can stand for the other.
 */

import { generateCookie, generateSignedCookie } from "hono/cookie";
import { parseSigned } from "hono/utils/cookie";
import type { Config } from "../../config";
import { toBase64url } from "../../lib/base64";
import { derivedBits } from "../../lib/keys";

export const SESSION_COOKIE = "reflinks_portal";
export const SESSION_SECONDS = 60 * 60;

const HKDF_INFO = "reflinks portal session";

/** The secret the page's keys come from: `SIGNING_SECRET`, else `API_TOKEN`; null with neither. */
export function portalSecret(config: Config): string | null {
  return config.signingSecret ?? config.apiToken;
}

function sessionKey(config: Config): Promise<ArrayBuffer> | null {
  const secret = portalSecret(config);
  if (secret === null) return null;
  // Derived once per isolate and secret (src/lib/keys.ts).
  return derivedBits(secret, HKDF_INFO);
}

function options(config: Config, requestUrl: URL, maxAge: number) {
  return {
    path: config.portalPath ?? "/",
    httpOnly: true,
    sameSite: "Lax" as const,
    secure: requestUrl.protocol === "https:",
    maxAge,
  };
}

/** `Set-Cookie` opening a session for `userId`, made at `now`; null without a secret. */
export async function sessionCookie(
  userId: string,
  config: Config,
  requestUrl: URL,
  now: number,
): Promise<string | null> {
  const key = sessionKey(config);
  if (!key) return null;
  const issued = Math.floor(now / 1000);
  return generateSignedCookie(
    SESSION_COOKIE,
    `${issued}:${userId}`,
    await key,
    options(config, requestUrl, SESSION_SECONDS),
  );
}

/** `Set-Cookie` ending the session. */
export function clearSessionCookie(config: Config, requestUrl: URL): string {
  return generateCookie(SESSION_COOKIE, "", options(config, requestUrl, 0));
}

/**
 * The user a request's session cookie names, or null: none, a bad signature, a malformed value, or
 * older than an hour (the browser's `Max-Age` is not trusted to end it).
 */
export async function sessionUser(request: Request, config: Config, now: number): Promise<string | null> {
  const header = request.headers.get("Cookie");
  if (!header?.includes(SESSION_COOKIE)) return null;
  const key = sessionKey(config);
  if (!key) return null;
  const value = (await parseSigned(header, await key, SESSION_COOKIE))[SESSION_COOKIE];
  if (typeof value !== "string") return null;
  const match = /^(\d{1,12}):(.+)$/s.exec(value);
  if (!match?.[1] || !match[2]) return null;
  const age = Math.floor(now / 1000) - Number(match[1]);
  if (age < -300 || age >= SESSION_SECONDS) return null;
  return match[2];
}

/** A new sign-in token (32 random bytes, base64url) and the SHA-256 that is stored of it. */
export async function newSignInToken(): Promise<{ token: string; hash: string }> {
  const token = toBase64url(crypto.getRandomValues(new Uint8Array(32)));
  return { token, hash: await tokenHash(token) };
}

/** The stored form of a sign-in token: hex SHA-256. */
export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The sign-in link's path, under the page. */
export const SIGN_IN_SEGMENT = "/sign-in";
