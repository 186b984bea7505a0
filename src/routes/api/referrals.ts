/**
 * `/_reflinks/reconcile` and `/_reflinks/confirm` (docs/api.md): what the origin calls at login
 * and on success.
 */
import { confirmReferral } from "../../db/queries/referrals";
import { recordLogin } from "../../db/queries/users";
import { ApiError } from "../../errors";
import { isUuid } from "../../lib/visitor-cookie";
import type { ApiHandlers } from "./handler";

/** The handlers of the referral routes, by their name in the route table (./contract.ts). */
export const referralHandlers = {
  async reconcile(c, { body }) {
    const anonymousId = typeof body.anonymous_id === "string" ? body.anonymous_id.trim().toLowerCase() : null;
    // The login is recorded whether or not the cookie matches a hit: from now on, this user's
    // clicks are an existing user's.
    const updated = await recordLogin(c.var.db, body.user_id, isUuid(anonymousId) ? anonymousId : null);
    return c.json({ updated });
  },

  async confirm(c, { body }) {
    const result = await confirmReferral(c.var.db, c.var.events, {
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
} satisfies Partial<ApiHandlers>;
