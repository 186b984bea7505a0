/**
 * Helpers for the click-quality and privacy tests: an identity cookie for a user, the cookies a
 * response sets, and hits seeded at a chosen time.
 */
import { env } from "cloudflare:workers";
import { generateSignedCookie } from "hono/cookie";
import { insertHit } from "../../src/db/queries/hits";
import type { NewReferralHit } from "../../src/db/schema";

/** `reflinks_uid=…` naming `userId`, as the worker sets it after a recorded login. */
export async function identityCookieFor(userId: string): Promise<string> {
  const issuedAt = Math.floor(Date.now() / 1000);
  const cookie = await generateSignedCookie(
    "reflinks_uid",
    `r${issuedAt}:${userId}`,
    env.SIGNING_SECRET ?? "",
    {
      path: "/",
    },
  );
  return cookie.split(";")[0] ?? "";
}

/** The cookies a response sets, by name: the rest of each `Set-Cookie` after the value. */
export function setCookies(response: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const at = line.indexOf("=");
    cookies.set(line.slice(0, at), line.slice(at + 1));
  }
  return cookies;
}

/** The value a response sets for cookie `name`, or undefined. */
export function cookieValue(response: Response, name: string): string | undefined {
  return setCookies(response).get(name)?.split(";")[0];
}

/** Stores a hit as the worker would, at `createdAt`, with whatever fields the test gives. */
export async function seedHit(
  linkId: number,
  fields: Partial<NewReferralHit> & { createdAt: string },
  dedupeSeconds = 0,
): Promise<NewReferralHit> {
  const hit: NewReferralHit = {
    id: crypto.randomUUID(),
    linkId,
    anonymousId: null,
    authenticated: false,
    hitUserId: null,
    ip: "203.0.113.9",
    userAgent: "Mozilla/5.0 seeded",
    httpReferer: "https://news.example/",
    next: "/",
    country: "DE",
    confirmedAt: null,
    updatedAt: fields.createdAt,
    ...fields,
  };
  await insertHit(env.DB, hit, dedupeSeconds);
  return hit;
}
