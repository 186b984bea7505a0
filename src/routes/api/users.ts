/**
 * `GET /_reflinks/users/:user_id` (docs/api.md#users): what the origin shows a user about their
 * referrals: who referred them, their links with their numbers, and what they have earned.
 */
import { asc, eq } from "drizzle-orm";
import type { Context } from "hono";
import type { HonoEnv } from "../../app-env";
import { linkStatsOf, listLinks } from "../../db/queries/links";
import { findUser } from "../../db/queries/users";
import { confirmedReferrals, referralLinks, referrerEarnings } from "../../db/schema";
import { linkJson } from "./serialize";

/** More links than one person owns in practice; the list API pages through any number. */
const MAX_LINKS = 200;

export const userHandlers = {
  async getUser(c: Context<HonoEnv>) {
    const userId = c.req.param("user_id") ?? "";
    const { db, config } = c.var;
    const requestUrl = new URL(c.req.url);
    const [seen, [referredBy], owned, earnings] = await Promise.all([
      findUser(db, userId),
      db
        .select({
          id: confirmedReferrals.id,
          user_id: confirmedReferrals.userId,
          event: confirmedReferrals.event,
          link: referralLinks.identifier,
          referrer_user_id: confirmedReferrals.referrerUserId,
          hit_id: confirmedReferrals.hitId,
          created_at: confirmedReferrals.createdAt,
        })
        .from(confirmedReferrals)
        .leftJoin(referralLinks, eq(referralLinks.id, confirmedReferrals.linkId))
        .where(eq(confirmedReferrals.userId, userId))
        .orderBy(asc(confirmedReferrals.id))
        .limit(1),
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
      referred_by: referredBy ?? null,
      links,
      earnings,
    });
  },
};
