import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import type { HonoEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { fromBase64 } from "../../lib/base64";

/**
 * Token auth for the API. Fails closed: with no `API_TOKEN` configured the API answers 503 and does
 * nothing. The comparison hashes both sides first, so its time says nothing of the token.
 *
 * The API takes `Authorization: Bearer <token>` only. With `basic: true` (the dashboard, which a
 * browser opens) HTTP Basic credentials are accepted too, the token being the password and the user
 * name anything (RFC 7617), and a 401 asks the browser for them with `WWW-Authenticate: Basic`.
 *
 * @example app.use(requireApiToken()); dashboard.use(requireApiToken({ basic: true }));
 */
export const requireApiToken = (options: { basic?: boolean } = {}) =>
  createMiddleware<HonoEnv>(async function requireApiToken(c, next) {
    const expected = c.var.config.apiToken;
    if (!expected) {
      throw new ApiError("api_disabled", "The API is disabled: set the API_TOKEN secret to enable it.");
    }
    const presented = presentedToken(c.req.header("Authorization") ?? "", options.basic ?? false);
    if (presented === null || !(await timingSafeEqual(presented, expected))) {
      if (options.basic) {
        c.header("WWW-Authenticate", 'Basic realm="reflinks"');
        throw new ApiError("unauthorized", "Sign in with the API token as the password.");
      }
      c.header("WWW-Authenticate", 'Bearer realm="reflinks"');
      throw new ApiError("unauthorized", "A valid Authorization: Bearer <API_TOKEN> header is required.");
    }
    await next();
  });

/** The token an `Authorization` header carries, or null when it carries none in a scheme we take. */
function presentedToken(header: string, basic: boolean): string | null {
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer?.[1]) return bearer[1].trim();
  const credentials = basic ? /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header)?.[1] : undefined;
  if (!credentials) return null;
  let decoded: string;
  try {
    // RFC 7617: user-id ":" password; browsers send UTF-8.
    decoded = new TextDecoder().decode(fromBase64(credentials));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  return colon === -1 ? null : decoded.slice(colon + 1);
}
