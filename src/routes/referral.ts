/**
 * Referral links (`{REF_PATH}:identifier`, docs/routing.md#referral-links) and parameters
 * (`?{REF_PARAM}=` on any GET, docs/routing.md#referral-parameters): the redirects that
 * record referral hits.
 */
import type { AppBindings } from "../bindings";
import type { Config } from "../config";
import { IDENTIFIER, isLinkLive, type LinkTarget } from "../db/queries/links";
import { cachedLinkTarget, rememberedLinkTarget } from "../hits/link-cache";
import { type HitDraft, saveHit } from "../hits/save-hit";
import { hasConsented } from "../lib/consent";
import { verifiedUserId } from "../lib/identity";
import { storableIp } from "../lib/ip";
import { ipSignal } from "../lib/ip-hash";
import { errorMessage, log } from "../lib/log";
import { paidClickOf } from "../lib/paid-click";
import { firstQueryParam, queryWithout } from "../lib/query";
import { referralCookie } from "../lib/referral-context";
import { requestIdOf } from "../lib/request-id";
import { appendQuery, isPlainPath, safeNext } from "../lib/safe-next";
import { clip, clipHeader } from "../lib/text";
import { isTrackableVisit } from "../lib/trackable";
import { anonymousCookie, anonymousCookieOf, clearHostOnlyAnonymousCookie } from "../lib/visitor-cookie";

interface RouteContext {
  request: Request;
  url: URL;
  bindings: AppBindings;
  ctx: ExecutionContext;
  config: Config;
}

/** Route 2: `GET|HEAD {REF_PATH}:identifier[/]`, always a redirect (405 for other methods). */
export async function handleReferralLink({ request, url, bindings, ctx, config }: RouteContext) {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method Not Allowed", {
      status: 405,
      headers: { Allow: "GET, HEAD", "Cache-Control": "no-store" },
    });
  }

  const nextParam = url.searchParams.get("next");
  // A carried ref parameter would make the destination record a second hit.
  const carried = queryWithout(url.search, ["next", ...config.refParams]);
  const target = safeNext(nextParam, url, config.allowedRedirectHosts) ?? config.successUrl;
  const location = appendQuery(target, carried);

  const identifier = identifierFromPath(url.pathname, config.refPath);
  if (identifier === null || !isTrackableVisit(request)) return redirect(location);

  const lookup = await lookUpLink(request, bindings, config, identifier, { trustCachedMiss: false });
  if (lookup !== "unavailable" && (!lookup || !isLinkLive(lookup, Date.now()))) return redirect(location);

  return recordAndRedirect(
    { request, url, bindings, ctx, config },
    identifier,
    lookup === "unavailable" ? null : lookup,
    nextParam ?? "",
    location,
  );
}

/**
 * Route 3: a GET carrying `?{REF_PARAM}=X` for an enabled link X. Returns null when the request is
 * not a referral after all (unknown, malformed or disabled X), for the caller to proxy unchanged:
 * at once, without a promise, when that is known without D1 (a malformed X, or a miss or disabled
 * link the isolate remembers), since a `?ref=garbage` on every page must cost the page view little.
 */
export function handleReferralParam(route: RouteContext): Promise<Response | null> | null {
  const { url, bindings, config } = route;
  const identifier = firstQueryParam(url.search, config.refParams);
  if (identifier === null || !IDENTIFIER.test(identifier)) return null;
  const remembered = rememberedLinkTarget(bindings.DB, identifier, {
    ttlMs: config.linkCacheMs,
    trustCachedMiss: true,
  });
  if (remembered === undefined) return lookUpThenRedirect(route, identifier);
  return remembered === null || !isLinkLive(remembered, Date.now())
    ? null
    : paramRedirect(route, identifier, remembered);
}

async function lookUpThenRedirect(route: RouteContext, identifier: string): Promise<Response | null> {
  const lookup = await lookUpLink(route.request, route.bindings, route.config, identifier, {
    trustCachedMiss: true,
  });
  // Unavailable: we cannot tell a referral from the origin's own parameter, so the page wins.
  if (lookup === "unavailable" || !lookup || !isLinkLive(lookup, Date.now())) return null;
  return paramRedirect(route, identifier, lookup);
}

/** The redirect (and hit) for `?{REF_PARAM}=X`, X an enabled link. */
function paramRedirect(route: RouteContext, identifier: string, link: LinkTarget): Promise<Response> {
  const { url, config } = route;
  const query = queryWithout(url.search, config.refParams);
  // A path like "//evil.com?ref=X" would be a protocol-relative Location: keep one leading slash.
  const path = isPlainPath(url.pathname) ? url.pathname : `/${url.pathname.replace(/^[/\\]+/, "")}`;
  const location = `${path}${query ? `?${query}` : ""}`;
  if (!isTrackableVisit(route.request)) return Promise.resolve(redirect(location));
  return recordAndRedirect(route, identifier, link, location, location);
}

async function recordAndRedirect(
  { request, url, bindings, ctx, config }: RouteContext,
  identifier: string,
  link: LinkTarget | null,
  next: string,
  location: string,
): Promise<Response> {
  // A signed-in browser's hit names its user; anyone else's is tied to the anonymous cookie.
  const userId = await verifiedUserId(request, config);
  // A visitor who has not consented (CONSENT) is counted, never identified: no anonymous id, no
  // cookie, none of the request's personal fields (docs/privacy.md#consent).
  const consented = hasConsented(request, config.consent);
  const visitor = userId === null && consented ? anonymousCookieOf(request, config) : null;
  const anonymousId = visitor ? (visitor.id ?? crypto.randomUUID()) : null;
  const now = new Date().toISOString();
  const clientIp = request.headers.get("CF-Connecting-IP");
  // One HMAC per hit (the key is derived once per isolate); none for a visitor who has not consented.
  const signal = consented ? await ipSignal(clientIp, config.apiToken) : null;
  const draft: HitDraft = {
    id: crypto.randomUUID(),
    anonymousId,
    authenticated: userId !== null,
    hitUserId: userId,
    ip: consented ? storableIp(clientIp, config.storeIp) : null,
    userAgent: consented ? clipHeader(request.headers.get("User-Agent")) : null,
    httpReferer: consented ? clipHeader(request.headers.get("Referer")) : null,
    next: clip(next),
    country: countryOf(request),
    asn: asnOf(request),
    paidClick: paidClickOf(url.search, next),
    ipHash: signal?.ipHash ?? null,
    ipPrivate: signal?.ipPrivate ?? false,
    confirmedAt: null,
    duplicate: false,
    consented,
    createdAt: now,
    updatedAt: now,
  };
  await saveHit(bindings, ctx, identifier, link?.id ?? null, draft, {
    requestId: () => requestIdOf(request),
    dedupeSeconds: config.dedupeSeconds,
  });
  const response = redirect(location);
  if (anonymousId) response.headers.append("Set-Cookie", anonymousCookie(anonymousId, config, url));
  // Two differing copies: the host-only one (left over, or tossed in) must go, or it conflicts again.
  const hostOnly = visitor?.conflict ? clearHostOnlyAnonymousCookie(config, url) : null;
  if (hostOnly) response.headers.append("Set-Cookie", hostOnly);
  // The referral context for the origin (docs/referred-visitor.md), only with consent; not when
  // the link lookup failed, since then the hit's link, owner and reward are not known here.
  if (consented && link) {
    const facts = { link: identifier, referrer: link.userId, reward: link.refereeReward, at: now };
    const cookie = await referralCookie(facts, config, url);
    if (cookie) response.headers.append("Set-Cookie", cookie);
  }
  return response;
}

/** The identifier in `{REF_PATH}identifier[/]`, or null when the rest of the path is not one. */
export function identifierFromPath(pathname: string, refPath: string): string | null {
  let rest = pathname.slice(refPath.length);
  if (rest.endsWith("/")) rest = rest.slice(0, -1);
  if (rest.includes("%")) {
    try {
      rest = decodeURIComponent(rest);
    } catch {
      return null;
    }
  }
  return IDENTIFIER.test(rest) ? rest : null;
}

/**
 * The link, through the isolate's cache. `trustCachedMiss`: whether a remembered "no such link"
 * may answer (`?ref=`: yes; `/ref/`: no, a click is never lost to a miss cached before the link
 * was created; see link-cache.ts).
 */
async function lookUpLink(
  request: Request,
  bindings: AppBindings,
  config: Config,
  identifier: string,
  { trustCachedMiss }: { trustCachedMiss: boolean },
): Promise<LinkTarget | null | "unavailable"> {
  try {
    return await cachedLinkTarget(bindings.DB, identifier, { ttlMs: config.linkCacheMs, trustCachedMiss });
  } catch (error) {
    log("error", "link_lookup_failed", {
      link: identifier,
      request_id: requestIdOf(request),
      error: errorMessage(error),
    });
    return "unavailable";
  }
}

function countryOf(request: Request): string | null {
  const country = (request as { cf?: { country?: unknown } }).cf?.country;
  return typeof country === "string" ? clip(country, 8) : null;
}

function asnOf(request: Request): number | null {
  const asn = (request as { cf?: { asn?: unknown } }).cf?.asn;
  return typeof asn === "number" && Number.isSafeInteger(asn) && asn >= 0 ? asn : null;
}

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { Location: location, "Cache-Control": "no-store" } });
}
