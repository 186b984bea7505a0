import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import type { HonoEnv } from "../../app-env";
import { ApiError } from "../../errors";

/**
 * Bearer-token auth for the API. Fails closed: with no `API_TOKEN` configured the API answers 503
 * and does nothing. The comparison hashes both sides first, so its time says nothing of the token.
 */
export const requireApiToken = () =>
  createMiddleware<HonoEnv>(async function requireApiToken(c, next) {
    const expected = c.var.config.apiToken;
    if (!expected) {
      throw new ApiError("api_disabled", "The API is disabled: set the API_TOKEN secret to enable it.");
    }
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1] || !(await timingSafeEqual(match[1].trim(), expected))) {
      c.header("WWW-Authenticate", 'Bearer realm="reflinks"');
      throw new ApiError("unauthorized", "A valid Authorization: Bearer <API_TOKEN> header is required.");
    }
    await next();
  });
