/**
 * Zero-code login reporting (docs/routing.md#reporting-logins-with-a-response-header): the origin
 * says who is signed in with a signed `Reflinks-User` response header instead of calling the API.
 * Neither header ever reaches the browser.
 */

import type { AppBindings } from "../bindings";
import type { Config } from "../config";
import { database } from "../db/client";
import { recordLogin } from "../db/queries/users";
import { hasConsented } from "../lib/consent";
import { clearIdentityCookie, IDENTITY_COOKIE, identityCookie, verifiedIdentity } from "../lib/identity";
import { ipSignal } from "../lib/ip-hash";
import { errorMessage, log } from "../lib/log";
import { requestIdOf } from "../lib/request-id";
import { withRetries } from "../lib/retry";
import { isSignedWithToken } from "../lib/token-signature";
import { userIdFromHeader } from "../lib/user-id";
import {
  anonymousCookieOf,
  clearAnonymousCookie,
  clearHostOnlyAnonymousCookie,
  readCookie,
} from "../lib/visitor-cookie";

export const USER_HEADER = "Reflinks-User";
export const SIGNATURE_HEADER = "Reflinks-User-Signature";

/**
 * Acts on an origin response that carries `Reflinks-User`. Only a header signed with the API token
 * counts: a header that an attacker gets the origin to reflect (an injection bug, a pass-through
 * proxy) must not sign anyone in. A user id the identity cookie already names costs nothing more
 * (the origin may send the header on every page of a signed-in user). Another user id: the login
 * is recorded, the browser's anonymous hits get that user, the anonymous cookie is cleared and the
 * signed identity cookie set, unless the request has not consented (`CONSENT`). An empty value
 * (a logout): the identity cookie is cleared.
 */
export async function applyLoginReport(
  response: Response,
  request: Request,
  url: URL,
  config: Config,
  bindings: AppBindings,
  ctx: ExecutionContext,
): Promise<Response> {
  const reported = response.headers.get(USER_HEADER) ?? "";
  const signature = response.headers.get(SIGNATURE_HEADER);
  const answer = withoutLoginHeaders(response);
  const ignore = (reason: string) => {
    log("warn", "login_report_ignored", { reason, request_id: requestIdOf(request) });
    return answer;
  };

  if (servedFromCache(response)) {
    // A replayed login is somebody else's: acting on it would sign this browser in as them.
    return ignore("served from a cache");
  }
  if (!config.apiToken) return ignore("no API_TOKEN to check its signature with");
  if (signature === null) return ignore(`no ${SIGNATURE_HEADER}`);
  if (!(await isSignedWithToken(reported, signature.trim(), config.apiToken))) return ignore("bad signature");

  if (reported === "") {
    noStore(answer).headers.append("Set-Cookie", clearIdentityCookie(config, url));
    return answer;
  }
  const userId = decodedUserId(reported);
  if (userId === null) return ignore("not a percent-encoded UTF-8 user id");

  // The browser already carries this user's identity, from a recorded login: no query.
  const identity = await verifiedIdentity(request, config);
  if (identity?.userId === userId && identity.recorded) return answer;

  if (!hasConsented(request, config.consent)) {
    // Not consented (CONSENT): the login is not recorded, no hit is reconciled and no cookie set
    // (docs/privacy.md#consent). An identity cookie naming someone else would credit this
    // visitor's clicks to that user, so it is expired; expiring leaves nothing behind.
    if (identity?.userId !== userId && readCookie(request, IDENTITY_COOKIE) !== undefined) {
      noStore(answer).headers.append("Set-Cookie", clearIdentityCookie(config, url));
    }
    return answer;
  }

  const visitor = anonymousCookieOf(request, config);
  const recorded = await recordLoginSoon(bindings, ctx, request, userId, visitor.id, config.apiToken);
  noStore(answer);
  // Not recorded yet (D1 failing): the browser keeps its anonymous id, and its identity cookie is
  // not marked recorded, so the next report of this user tries again, whatever the retries manage.
  if (recorded && readCookie(request, config.cookieName) !== undefined) {
    answer.headers.append("Set-Cookie", clearAnonymousCookie(config, url));
    const hostOnly = visitor.conflict ? clearHostOnlyAnonymousCookie(config, url) : null;
    if (hostOnly) answer.headers.append("Set-Cookie", hostOnly);
  }
  const cookie = await identityCookie(userId, config, url, { recorded });
  if (cookie) answer.headers.append("Set-Cookie", cookie);
  return answer;
}

/** The origin's response without the login headers: never the browser's, whatever happens next. */
export function withoutLoginHeaders(response: Response): Response {
  const answer = new Response(response.body, response);
  answer.headers.delete(USER_HEADER);
  answer.headers.delete(SIGNATURE_HEADER);
  return answer;
}

/** This answer is about to carry one browser's identity: no shared cache may keep it. */
function noStore(answer: Response): Response {
  answer.headers.set("Cache-Control", "no-store");
  return answer;
}

/**
 * The user id in a header value: percent-encoded UTF-8 (`b%C3%B6b`), so that ids outside ASCII
 * survive HTTP headers intact instead of arriving as replacement characters. Null when the value
 * does not decode, or decodes to something that is not a user id.
 */
function decodedUserId(value: string): string | null {
  try {
    return userIdFromHeader(decodeURIComponent(value));
  } catch {
    return null;
  }
}

/**
 * Whether a cache (Cloudflare's, in route mode, or one in front of the origin) replayed this
 * response rather than the origin answering this request.
 */
function servedFromCache(response: Response): boolean {
  const status = response.headers.get("CF-Cache-Status");
  if (status !== null && CACHE_REPLAYS.has(status.toUpperCase())) return true;
  const age = Number(response.headers.get("Age") ?? "0");
  return age > 0;
}

const CACHE_REPLAYS = new Set(["HIT", "STALE", "UPDATING", "REVALIDATED"]);

/**
 * The first attempt is awaited, so the browser's next request (a purchase that confirms, say)
 * already finds its login recorded and its hits reconciled; if D1 fails, the retries go on after
 * the response. Whether the first attempt wrote it.
 */
async function recordLoginSoon(
  bindings: AppBindings,
  ctx: ExecutionContext,
  request: Request,
  userId: string,
  anonymousId: string | null,
  token: string | null,
): Promise<boolean> {
  const db = database(bindings.DB);
  const now = new Date().toISOString();
  // The login's network, for the self_ip fraud rule (docs/fraud.md): one HMAC, on a login only.
  const signal = await ipSignal(request.headers.get("CF-Connecting-IP"), token);
  const record = () => recordLogin(db, userId, anonymousId, now, signal?.ipHash ?? null);
  const fields = { anonymous_id: anonymousId, request_id: requestIdOf(request) };
  try {
    await record();
    return true;
  } catch (error) {
    log("warn", "login_record_failed", { ...fields, attempt: 0, error: errorMessage(error) });
    ctx.waitUntil(withRetries(record, { event: "login_record_failed", fields }));
    return false;
  }
}
