/** `/_reflinks/reconcile` and `/_reflinks/confirm`: what the origin calls at login and on success. */
import { Hono } from "hono";
import { z } from "zod";
import type { HonoEnv } from "../../app-env";
import { reconcileHits } from "../../db/queries/hits";
import { confirmReferral } from "../../db/queries/referrals";
import { ApiError } from "../../errors";
import { userIdSchema } from "../../lib/user-id";
import { isUuid } from "../../lib/visitor-cookie";
import { jsonBody } from "./input";

const reconcileSchema = z.object({
  user_id: userIdSchema,
  // Whatever the origin read from the cookie: anything that is not a UUID simply matches nothing.
  anonymous_id: z.string("must be a string"),
});

const confirmSchema = z.object({
  user_id: userIdSchema,
  event: z
    .string("must be a string")
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of A-Z, a-z, 0-9, _ . : and -")
    .default("signup"),
});

export const referrals = new Hono<HonoEnv>();

referrals.post("/reconcile", async (c) => {
  const body = await jsonBody(c, reconcileSchema);
  const anonymousId = body.anonymous_id.trim().toLowerCase();
  const updated = isUuid(anonymousId) ? await reconcileHits(c.var.db, anonymousId, body.user_id) : 0;
  return c.json({ updated });
});

referrals.post("/confirm", async (c) => {
  const body = await jsonBody(c, confirmSchema);
  const result = await confirmReferral(c.var.db, {
    userId: body.user_id,
    event: body.event,
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
