/**
 * The referred visitor's side (docs/referred-visitor.md): a click that records a hit sets the
 * `reflinks_ref` cookie, naming the link, its owner, the link's `referee_reward` at the time of
 * the click and the click's time; every request proxied for a browser carrying a valid one tells
 * the origin with the request headers `Reflinks-Referral` and `Reflinks-Referral-Signature`.
 *
 * The cookie carries the header's value itself and its signature, the hex HMAC-SHA256 of the value
 * keyed with `API_TOKEN`, which is the header's signature too: a page view verifies one HMAC with a
 * key imported once per isolate, and asks D1 nothing. Without `API_TOKEN` there is nothing to
 * sign with: no cookie is set and no header sent.
 */

import { generateCookie } from "hono/cookie";
import type { Config } from "../config";
import { DAY_MS } from "./days";
import { log } from "./log";
import { isSignedWithToken, signWithToken } from "./token-signature";
import { cookieOptions } from "./visitor-cookie";

export const REFERRAL_COOKIE = "reflinks_ref";
export const REFERRAL_HEADER = "Reflinks-Referral";
export const REFERRAL_SIGNATURE_HEADER = "Reflinks-Referral-Signature";

/** What the cookie's name looks like in a `Cookie` header: the page view's one substring check. */
const COOKIE_MARKER = `${REFERRAL_COOKIE}=`;

/** What a click on a link tells the origin for the rest of the attribution window. */
export interface ReferralFacts {
  link: string;
  referrer: string | null;
  reward: string | null;
  /** The click's time, ISO-8601 UTC. */
  at: string;
}

/** The header's value: `link=…; referrer=…; reward=…; at=…`, each value percent-encoded. */
export function referralHeaderValue(facts: ReferralFacts): string {
  let value = `link=${encodeURIComponent(facts.link)}`;
  if (facts.referrer !== null) value += `; referrer=${encodeURIComponent(facts.referrer)}`;
  if (facts.reward !== null) value += `; reward=${encodeURIComponent(facts.reward)}`;
  return `${value}; at=${encodeURIComponent(facts.at)}`;
}

/**
 * `Set-Cookie` for a recorded hit: `Max-Age` of `ATTRIBUTION_WINDOW_DAYS`, the visitor cookie's
 * attributes. Null without `API_TOKEN`.
 */
export async function referralCookie(
  facts: ReferralFacts,
  config: Config,
  requestUrl: URL,
): Promise<string | null> {
  if (!config.apiToken) return null;
  const value = referralHeaderValue(facts);
  const signature = await signWithToken(value, config.apiToken);
  const maxAge = config.attributionWindowDays * 86_400;
  // generateCookie percent-encodes the whole: the value's encoding, a dot, the hex signature.
  return generateCookie(
    REFERRAL_COOKIE,
    `${value}.${signature}`,
    cookieOptions(REFERRAL_COOKIE, config, requestUrl, maxAge),
  );
}

/** The two request headers for the origin. */
export interface ReferralHeaders {
  value: string;
  signature: string;
}

/** Whether a `Cookie` header may hold `reflinks_ref`: the only work a page view without it does. */
export function mayCarryReferralCookie(cookieHeader: string | null): cookieHeader is string {
  return cookieHeader?.includes(COOKIE_MARKER) === true;
}

/**
 * The headers a request's `reflinks_ref` cookie stands for, or null: no `API_TOKEN`, no cookie, a
 * signature that does not verify, or a click older than `ATTRIBUTION_WINDOW_DAYS` (a kept cookie
 * is not a referral forever). A bad signature is logged once per isolate: a browser keeps sending
 * its tampered cookie with every request, and the log must not grow with the site's traffic.
 */
export async function verifiedReferral(
  cookieHeader: string,
  config: Config,
  now = Date.now(),
): Promise<ReferralHeaders | null> {
  const token = config.apiToken;
  if (!token) return null;
  let at = cookieHeader.indexOf(COOKIE_MARKER);
  while (at !== -1) {
    // Only a whole cookie name: the start of the header, or after "; ".
    if (at === 0 || cookieHeader[at - 1] === " " || cookieHeader[at - 1] === ";") {
      const start = at + COOKIE_MARKER.length;
      const end = cookieHeader.indexOf(";", start);
      const found = await verifiedValue(
        cookieHeader.slice(start, end === -1 ? undefined : end).trim(),
        token,
      );
      if (found && isFresh(found.value, config, now)) return found;
    }
    at = cookieHeader.indexOf(COOKIE_MARKER, at + 1);
  }
  return null;
}

async function verifiedValue(raw: string, token: string): Promise<ReferralHeaders | null> {
  const dot = raw.lastIndexOf(".");
  const signature = raw.slice(dot + 1);
  let value: string;
  try {
    value = decodeURIComponent(raw.slice(0, dot));
  } catch {
    tampered("not percent-encoded");
    return null;
  }
  if (
    dot === -1 ||
    !/^[0-9a-f]{64}$/.test(signature) ||
    !(await isSignedWithToken(value, signature, token))
  ) {
    tampered("bad signature");
    return null;
  }
  return { value, signature };
}

let tamperedLogged = false;

function tampered(reason: string): void {
  if (tamperedLogged) return;
  tamperedLogged = true;
  log("warn", "referral_cookie_ignored", { reason, note: "logged once per isolate" });
}

/** For tests: the next tampered cookie is logged again. */
export function forgetTamperedLog(): void {
  tamperedLogged = false;
}

function isFresh(value: string, config: Config, now: number): boolean {
  const match = /(?:^|; )at=([^;]*)/.exec(value);
  const clickedAt = match?.[1] ? Date.parse(decodeURIComponent(match[1])) : Number.NaN;
  if (Number.isNaN(clickedAt)) return false;
  const age = now - clickedAt;
  return age >= -300_000 && age <= config.attributionWindowDays * DAY_MS;
}
