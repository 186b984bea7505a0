/**
 * Fraud review (docs/fraud.md): `GET /referrals` (the review queue), `POST /referrals/:id/release`,
 * `POST /referrals/:id/reject` and `POST /users/:user_id/ban`.
 */
import type { Context } from "hono";
import * as z from "zod/mini";
import type { HonoEnv } from "../../app-env";
import {
  banUser,
  type DecisionOutcome,
  listReferrals,
  rejectReferral,
  releaseReferral,
} from "../../db/queries/fraud-review";
import { ownedLinkIdentifiers } from "../../db/queries/links";
import { ApiError } from "../../errors";
import { forgetLink } from "../../hits/link-cache";
import { API_ROUTES } from "./contract";
import { decodeCursor, encodeCursor, jsonBody, queryOf, validate } from "./input";

type C = Context<HonoEnv>;

function answer(c: C, outcome: DecisionOutcome, id: number) {
  if (outcome.kind === "not_found") throw new ApiError("not_found", `No referral ${id}.`);
  if (outcome.kind === "conflict") {
    throw new ApiError("conflict", `Referral ${id} is already ${outcome.referral.status}.`);
  }
  return c.json(outcome.referral, 200);
}

const referralId = (c: C) => Number(c.req.param("id"));

/** The handlers of the fraud review routes, by their name in {@link API_ROUTES}. */
export const fraudHandlers = {
  async listReferrals(c: C) {
    const query = validate(API_ROUTES.listReferrals.query, queryOf(c));
    const beforeId =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().check(z.int()));
    const page = await listReferrals(c.var.db, { status: query.status, beforeId, limit: query.limit + 1 });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    return c.json({ referrals: shown, next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null });
  },

  async releaseReferral(c: C) {
    const id = referralId(c);
    return answer(c, await releaseReferral(c.var.db, id, new Date().toISOString()), id);
  },

  async rejectReferral(c: C) {
    const id = referralId(c);
    const body = await jsonBody(c, API_ROUTES.rejectReferral.body);
    return answer(c, await rejectReferral(c.var.db, id, body.reason ?? null, new Date().toISOString()), id);
  },

  async banUser(c: C) {
    const userId = c.req.param("user_id") ?? "";
    const body = await jsonBody(c, API_ROUTES.banUser.body);
    const ban = await banUser(c.var.db, userId, body.reason ?? null, new Date().toISOString());
    // This isolate stops redirecting through them at once; others within LINK_CACHE_SECONDS.
    for (const identifier of await ownedLinkIdentifiers(c.var.db, userId)) forgetLink(c.env.DB, identifier);
    return c.json(ban, 200);
  },
};
