/**
 * `/_reflinks/reconcile` and `/_reflinks/confirm` (docs/api.md): what the origin calls at login
 * and on success.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { HonoEnv } from "../../app-env";
import { confirmReferral } from "../../db/queries/referrals";
import { recordLogin } from "../../db/queries/users";
import { ApiError } from "../../errors";
import { userIdSchema } from "../../lib/user-id";
import { isUuid } from "../../lib/visitor-cookie";
import { jsonBody } from "./input";

// Strict, both: a misspelt key must be refused, not ignored. `{"evnt": "purchase"}` would otherwise
// credit the default event, and a credit cannot be taken back.
const reconcileSchema = z
  .object({
    user_id: userIdSchema,
    // Whatever the origin read from the cookie, null or absent when the visitor had none (docs/api.md#reconcile:
    // anything that is not a UUID is harmless and matches nothing).
    anonymous_id: z.unknown().optional(),
  })
  .strict();

const confirmSchema = z
  .object({
    user_id: userIdSchema,
    event: z
      .string("must be a string")
      .min(1, "must not be empty")
      .max(64, "must be at most 64 characters")
      .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
      .default("signup"),
    // When the account was created, as the origin knows it: hits after it are an existing user's.
    signed_up_at: z.iso
      .datetime({ offset: true, message: "must be an ISO-8601 date-time with Z or an offset" })
      .transform((value) => new Date(value))
      .pipe(z.date().refine((date) => !Number.isNaN(date.getTime()), "is not a real date-time"))
      .optional(),
  })
  .strict();

export const referrals = new Hono<HonoEnv>();

referrals.post("/reconcile", async (c) => {
  const body = await jsonBody(c, reconcileSchema);
  const anonymousId = typeof body.anonymous_id === "string" ? body.anonymous_id.trim().toLowerCase() : null;
  // The login is recorded whether or not the cookie matches a hit: from now on, this user's clicks
  // are an existing user's.
  const updated = await recordLogin(c.var.db, body.user_id, isUuid(anonymousId) ? anonymousId : null);
  return c.json({ updated });
});

referrals.post("/confirm", async (c) => {
  const body = await jsonBody(c, confirmSchema);
  const result = await confirmReferral(c.var.db, {
    userId: body.user_id,
    event: body.event,
    signedUpAt: body.signed_up_at ?? null,
    attribution: c.var.config.attribution,
    windowDays: c.var.config.attributionWindowDays,
  });
  if (!result) {
    throw new ApiError("no_referral", `User "${body.user_id}" has no qualifying referral hit.`);
  }
  return c.json(result, result.created ? 201 : 200);
});

for (const path of ["/reconcile", "/confirm"]) {
  referrals.all(path, (c) => {
    c.header("Allow", "POST");
    throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here; use POST.`);
  });
}
