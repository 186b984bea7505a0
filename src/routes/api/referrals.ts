/**
 * `/_reflinks/reconcile` and `/_reflinks/confirm` (docs/api.md): what the origin calls at login
 * and on success.
 */
import type { Context } from "hono";
import type { HonoEnv } from "../../app-env";
import { confirmReferral } from "../../db/queries/referrals";
import { recordLogin } from "../../db/queries/users";
import { ApiError } from "../../errors";
import { isUuid } from "../../lib/visitor-cookie";
import { API_ROUTES } from "./contract";
import { jsonBody } from "./input";

/** The handlers of the referral routes, by their name in {@link API_ROUTES}. */
export const referralHandlers = {
  async reconcile(c: Context<HonoEnv>) {
    const body = await jsonBody(c, API_ROUTES.reconcile.body);
    const anonymousId = typeof body.anonymous_id === "string" ? body.anonymous_id.trim().toLowerCase() : null;
    // The login is recorded whether or not the cookie matches a hit: from now on, this user's
    // clicks are an existing user's.
    const updated = await recordLogin(c.var.db, body.user_id, isUuid(anonymousId) ? anonymousId : null);
    return c.json({ updated });
  },

  async confirm(c: Context<HonoEnv>) {
    const body = await jsonBody(c, API_ROUTES.confirm.body);
    const result = await confirmReferral(c.var.db, {
      userId: body.user_id,
      event: body.event,
      signedUpAt: body.signed_up_at ?? null,
      coupon: body.coupon ?? null,
      attribution: c.var.config.attribution,
      windowDays: c.var.config.attributionWindowDays,
      rules: c.var.config.fraudRules,
    });
    if (!result) {
      throw new ApiError("no_referral", `User "${body.user_id}" has no qualifying referral hit.`);
    }
    return c.json(result, result.created ? 201 : 200);
  },
};
