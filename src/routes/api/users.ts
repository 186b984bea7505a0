/**
 * `GET /_reflinks/users/:user_id` (docs/api.md#users): what the origin shows a user about their
 * referrals: who referred them, their links with their numbers, and what they have earned.
 */
import { asc, eq } from "drizzle-orm";
import type { Context } from "hono";
import type { HonoEnv } from "../../app-env";
import { linkStatsOf, listLinks } from "../../db/queries/links";
import { firstReferral } from "../../db/queries/referrals";
import { findUser } from "../../db/queries/users";
import { referrerEarnings } from "../../db/schema";
import { linkJson } from "./serialize";

/** More links than one person owns in practice; the list API pages through any number. */
const MAX_LINKS = 200;

export const userHandlers = {
  async getUser(c: Context<HonoEnv>) {
    const userId = c.req.param("user_id") ?? "";
    const { db, config } = c.var;
    const requestUrl = new URL(c.req.url);
    const [seen, referredBy, owned, earnings] = await Promise.all([
      findUser(db, userId),
      firstReferral(db, userId),
      listLinks(db, { userId, limit: MAX_LINKS }),
      db
        .select({
          currency: referrerEarnings.currency,
          pending: referrerEarnings.pending,
          approved: referrerEarnings.approved,
          paid: referrerEarnings.paid,
        })
        .from(referrerEarnings)
        .where(eq(referrerEarnings.referrerUserId, userId))
        .orderBy(asc(referrerEarnings.currency)),
    ]);
    const links = await Promise.all(
      owned.map(async (link) => ({
        ...linkJson(link, requestUrl, config),
        stats: await linkStatsOf(db, link.identifier),
      })),
    );
    return c.json({
      user_id: userId,
      first_seen_at: seen?.firstSeenAt ?? null,
      referred_by: referredBy,
      links,
      earnings,
    });
  },
};
