/**
 * `/_reflinks/users/:user_id` (docs/api.md#users): what the origin shows a user about their
 * referrals, everything the worker stores about them (a data-access request), and erasure.
 */

import { listConversions } from "../../db/queries/conversions";
import { couponCodesOf } from "../../db/queries/coupons";
import { linkStatsOfOwner, listLinks } from "../../db/queries/links";
import { findPayoutMethod, setPayoutMethod } from "../../db/queries/payout-methods";
import { listPayouts } from "../../db/queries/payouts";
import { insertPortalLink } from "../../db/queries/portal";
import { firstReferral } from "../../db/queries/referrals";
import { earningsOf, eraseUser, findUser, userHits, userReferrals } from "../../db/queries/users";
import { ApiError } from "../../errors";
import { isOnHost } from "../../operator-door";
import { newSignInToken, SIGN_IN_SEGMENT } from "../portal/session";
import type { ApiHandlers } from "./handler";
import type { HitJson } from "./schemas";
import { conversionJson, linkJson } from "./serialize";

/** No limit in practice: an export is everything, and so are a user's links. */
const EVERYTHING = 1_000_000_000;

export const userHandlers = {
  async getUser(c, { params: { user_id: userId } }) {
    const { db, config } = c.var;
    const requestUrl = new URL(c.req.url);
    // Every link the user owns, with its numbers: two queries, however many links (a link is about
    // 300 bytes of JSON, so even a few thousand make an answer of a megabyte or so).
    const [seen, referredBy, owned, stats, earnings] = await Promise.all([
      findUser(db, userId),
      firstReferral(db, userId),
      listLinks(db, { userId, limit: EVERYTHING }),
      linkStatsOfOwner(db, userId),
      earningsOf(db, userId),
    ]);
    const codes = await couponCodesOf(
      db,
      owned.map((link) => link.id),
    );
    const links = owned.map((link) => ({
      ...linkJson(link, requestUrl, config, codes.get(link.id) ?? []),
      // A link made between the two reads has no numbers yet.
      stats: stats.get(link.identifier) ?? { hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 },
    }));
    return c.json({
      user_id: userId,
      first_seen_at: seen?.firstSeenAt ?? null,
      referred_by: referredBy,
      links,
      earnings,
    });
  },

  /** Everything the worker stores about the user, for a data-access request. */
  async exportUser(c, { params: { user_id: userId } }) {
    const { db, config } = c.var;
    const requestUrl = new URL(c.req.url);
    const now = new Date().toISOString();
    const conversions = (filter: { userId?: string; referrerUserId?: string }) =>
      listConversions(db, { ...filter, limit: EVERYTHING, now });
    const [seen, owned, hits, referred, referrer, bought, earned, payouts, method] = await Promise.all([
      findUser(db, userId),
      listLinks(db, { userId, limit: EVERYTHING }),
      userHits(db, userId),
      userReferrals(db, userId, "referred"),
      userReferrals(db, userId, "referrer"),
      conversions({ userId }),
      conversions({ referrerUserId: userId }),
      listPayouts(db, { referrerUserId: userId, limit: EVERYTHING }),
      findPayoutMethod(db, userId),
    ]);
    const codes = await couponCodesOf(
      db,
      owned.map((link) => link.id),
    );
    return c.json({
      user_id: userId,
      user: seen ? { first_seen_at: seen.firstSeenAt, last_seen_at: seen.lastSeenAt } : null,
      links: owned.map((link) => linkJson(link, requestUrl, config, codes.get(link.id) ?? [])),
      hits: hits.map(hitRowJson),
      referrals: { as_referred: referred, as_referrer: referrer },
      conversions: {
        as_referred: bought.map((row) => conversionJson(row, now)),
        as_referrer: earned.map((row) => conversionJson(row, now)),
      },
      payouts,
      payout_method: method,
    });
  },

  /** Sets how the user is paid (docs/payouts.md#payout-methods); the whole method is replaced. */
  async setPayoutMethod(c, { params: { user_id: userId }, body }) {
    const method = await setPayoutMethod(
      c.var.db,
      userId,
      {
        type: body.type,
        email: body.email ?? null,
        iban: body.iban ?? null,
        account_name: body.account_name ?? null,
      },
      new Date().toISOString(),
    );
    return c.json(method);
  },

  /**
   * A one-use, 15-minute sign-in link to the user's referral page, for an origin that reports
   * logins by API calls (docs/referrer-page.md#sign-in-links). Only the token's hash is stored.
   */
  async createPortalLink(c, { params: { user_id: userId } }) {
    const { db, config } = c.var;
    if (config.portalPath === null)
      throw new ApiError("not_found", "The referrer's page is off (PORTAL_PATH=off).");
    const host = config.dashboardHost;
    if (host.own && isOnHost(c.req.url, host)) {
      throw new ApiError(
        "not_found",
        "The referrer's page is on the site's host, not on DASHBOARD_HOST: ask for the link there.",
      );
    }
    const { token, hash } = await newSignInToken();
    const { expiresAt } = await insertPortalLink(db, { tokenHash: hash, userId }, new Date());
    const url = `${new URL(c.req.url).origin}${config.portalPath}${SIGN_IN_SEGMENT}?token=${token}`;
    return c.json({ url, expires_at: expiresAt }, 201);
  },

  /** Erases the personal data the worker holds about the user; money records stay. */
  async eraseUser(c, { params: { user_id: userId } }) {
    return c.json({ hits: await eraseUser(c.var.db, userId) });
  },
} satisfies Partial<ApiHandlers>;

/** A `referral_hits` row read with plain SQL (snake_case, 0/1) as the API's hit. */
function hitRowJson(row: Record<string, string | number | null>): HitJson {
  const text = (name: string) => (row[name] === null ? null : String(row[name]));
  return {
    id: String(row.id),
    link: String(row.link),
    anonymous_id: text("anonymous_id"),
    authenticated: row.authenticated === 1,
    hit_user_id: text("hit_user_id"),
    ip: text("ip"),
    user_agent: text("user_agent"),
    http_referer: text("http_referer"),
    next: String(row.next),
    country: text("country"),
    confirmed_at: text("confirmed_at"),
    duplicate: row.duplicate === 1,
    consented: row.consented === 1,
    created_at: String(row.created_at),
    updated_at: String(row.updated_at),
  };
}
