/**
 * Zero-code login reporting (SPEC route 4): the origin says who logged in with a `Reflinks-User`
 * response header instead of calling the API. The header never reaches the browser.
 */

import type { AppBindings } from "../bindings";
import type { Config } from "../config";
import { database } from "../db/client";
import { reconcileHits } from "../db/queries/hits";
import { clearIdentityCookie, identityCookie } from "../lib/identity";
import { errorMessage, log } from "../lib/log";
import { withRetries } from "../lib/retry";
import { userIdFromHeader } from "../lib/user-id";
import { anonymousIdOf, clearAnonymousCookie, readCookie } from "../lib/visitor-cookie";

export const USER_HEADER = "Reflinks-User";

/**
 * Acts on an origin response that carries `Reflinks-User`. A user id: the browser's anonymous hits
 * get that user, the anonymous cookie is cleared and (with `SIGNING_SECRET`) the signed identity
 * cookie set. An empty value (a logout): the identity cookie is cleared.
 */
export async function applyLoginReport(
  response: Response,
  request: Request,
  url: URL,
  config: Config,
  bindings: AppBindings,
  ctx: ExecutionContext,
): Promise<Response> {
  const reported = (response.headers.get(USER_HEADER) ?? "").trim();
  const answer = new Response(response.body, response);
  answer.headers.delete(USER_HEADER);
  // This answer is about to carry one browser's identity: no shared cache may keep it, whatever
  // the origin said.
  answer.headers.set("Cache-Control", "no-store");

  if (servedFromCache(response)) {
    // A replayed login is somebody else's: acting on it would sign this browser in as them.
    log("warn", "login_report_ignored", { reason: "served from a cache" });
    return answer;
  }
  if (reported === "") {
    answer.headers.append("Set-Cookie", clearIdentityCookie(config, url));
    return answer;
  }
  const userId = userIdFromHeader(reported);
  if (userId === null) {
    log("warn", "login_report_ignored", { reason: "not a usable user id", length: reported.length });
    return answer;
  }

  const anonymousId = anonymousIdOf(request, config);
  if (anonymousId) await reconcileSoon(bindings, ctx, anonymousId, userId);
  if (readCookie(request, config.cookieName) !== undefined) {
    answer.headers.append("Set-Cookie", clearAnonymousCookie(config, url));
  }
  const identity = await identityCookie(userId, config, url);
  if (identity) answer.headers.append("Set-Cookie", identity);
  return answer;
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
 * already finds its hits reconciled; if D1 fails, the retries go on after the response.
 */
async function reconcileSoon(
  bindings: AppBindings,
  ctx: ExecutionContext,
  anonymousId: string,
  userId: string,
) {
  const db = database(bindings.DB);
  const reconcile = () => reconcileHits(db, anonymousId, userId);
  const fields = { anonymous_id: anonymousId };
  try {
    await reconcile();
  } catch (error) {
    log("warn", "login_reconcile_failed", { ...fields, attempt: 0, error: errorMessage(error) });
    ctx.waitUntil(withRetries(reconcile, { event: "login_reconcile_failed", fields }));
  }
}
