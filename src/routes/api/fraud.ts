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
import type { ApiHandlers } from "./handler";
import { decodeCursor, encodeCursor } from "./input";

type C = Context<HonoEnv>;

function answer(c: C, outcome: DecisionOutcome, id: number) {
  if (outcome.kind === "not_found") throw new ApiError("not_found", `No referral ${id}.`);
  if (outcome.kind === "conflict") {
    throw new ApiError("conflict", `Referral ${id} is already ${outcome.referral.status}.`);
  }
  return c.json(outcome.referral, 200);
}

/** The handlers of the fraud review routes, by their name in the route table (./contract.ts). */
export const fraudHandlers = {
  async listReferrals(c, { query }) {
    const beforeId =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().check(z.int()));
    const page = await listReferrals(c.var.db, { status: query.status, beforeId, limit: query.limit + 1 });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    return c.json({ referrals: shown, next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null });
  },

  async releaseReferral(c, { params }) {
    const id = Number(params.id);
    return answer(c, await releaseReferral(c.var.db, c.var.events, id, new Date().toISOString()), id);
  },

  async rejectReferral(c, { params, body }) {
    const id = Number(params.id);
    return answer(
      c,
      await rejectReferral(c.var.db, c.var.events, id, body.reason ?? null, new Date().toISOString()),
      id,
    );
  },

  async banUser(c, { params: { user_id: userId }, body }) {
    const ban = await banUser(c.var.db, c.var.events, userId, body.reason ?? null, new Date().toISOString());
    // This isolate stops redirecting through them at once; others within LINK_CACHE_SECONDS.
    for (const identifier of await ownedLinkIdentifiers(c.var.db, userId)) forgetLink(c.env.DB, identifier);
    return c.json(ban, 200);
  },
} satisfies Partial<ApiHandlers>;
