/**
 * What the referrer's page shows a user (docs/referrer-page.md#what-the-page-shows), read with
 * the queries the API's `GET /users/:user_id` and `GET /conversions` use. Counts and amounts
 * only: nothing here carries a referred user's id, a payment's external id, an IP address, a user
 * agent or a referer, and the page never reads a hit.
 */
import type { Database } from "../../db/client";
import { effectiveStatus, listConversions } from "../../db/queries/conversions";
import { type LinkStats, linkStatsOfOwner, listLinks } from "../../db/queries/links";
import { listPayouts } from "../../db/queries/payouts";
import { type RevenueRow, revenueReport } from "../../db/queries/reports";
import { earningsOf } from "../../db/queries/users";

/** Everything a user owns, in practice; the page lists every link. */
const EVERYTHING = 1_000_000_000;
/** D1 binds at most 100 parameters per statement: link identifiers are asked in chunks. */
const IDENTIFIERS_PER_QUERY = 90;
/** The newest payouts shown; the CSV has every commission. */
export const PAYOUTS_SHOWN = 50;

const NO_STATS: LinkStats = { hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 };

export interface PortalLinkView {
  identifier: string;
  url: string;
  disabled: boolean;
  /** What a friend who comes through it gets (the link's `referee_reward`); null: nothing said. */
  reward: string | null;
  stats: LinkStats;
  /** Conversions and commission per currency. */
  revenue: Pick<RevenueRow, "currency" | "conversions" | "commission">[];
}

export interface PortalView {
  links: PortalLinkView[];
  earnings: {
    currency: string;
    pending: number;
    nextApproval: string | null;
    approved: number;
    paid: number;
    /** The commission of conversions whose referral is held for review: not payable until released. */
    held: number;
  }[];
  payouts: { createdAt: string; currency: string; amount: number; commissions: number }[];
}

export async function portalView(
  db: Database,
  userId: string,
  linkUrl: (identifier: string) => string,
  now: Date,
): Promise<PortalView> {
  const at = now.toISOString();
  const [owned, stats, earnings, pending, held, payouts] = await Promise.all([
    listLinks(db, { userId, limit: EVERYTHING }),
    linkStatsOfOwner(db, userId),
    earningsOf(db, userId),
    listConversions(db, { referrerUserId: userId, status: "pending", limit: EVERYTHING, now: at }),
    listConversions(db, { referrerUserId: userId, status: "held", limit: EVERYTHING, now: at }),
    listPayouts(db, { referrerUserId: userId, limit: PAYOUTS_SHOWN }),
  ]);
  const revenue: RevenueRow[] = [];
  for (let start = 0; start < owned.length; start += IDENTIFIERS_PER_QUERY) {
    const identifiers = owned.slice(start, start + IDENTIFIERS_PER_QUERY).map((link) => link.identifier);
    revenue.push(...(await revenueReport(db, { identifiers })));
  }
  const nextApproval = new Map<string, string>();
  for (const conversion of pending) {
    const known = nextApproval.get(conversion.currency);
    if (known === undefined || conversion.approveAt < known)
      nextApproval.set(conversion.currency, conversion.approveAt);
  }
  // Held commissions are in no status of `referrer_earnings`: summed here, in integers, per currency.
  const heldBy = new Map<string, number>();
  for (const conversion of held) {
    heldBy.set(conversion.currency, (heldBy.get(conversion.currency) ?? 0) + conversion.commission);
  }
  const currencies = [...new Set([...earnings.map((row) => row.currency), ...heldBy.keys()])].sort();
  return {
    links: owned.map((link) => ({
      identifier: link.identifier,
      url: linkUrl(link.identifier),
      disabled: link.disabled,
      reward: link.refereeReward,
      stats: stats.get(link.identifier) ?? NO_STATS,
      revenue: revenue
        .filter((row) => row.identifier === link.identifier)
        .map(({ currency, conversions, commission }) => ({ currency, conversions, commission })),
    })),
    earnings: currencies.map((currency) => {
      const row = earnings.find((earning) => earning.currency === currency);
      return {
        currency,
        pending: row?.pending ?? 0,
        approved: row?.approved ?? 0,
        paid: row?.paid ?? 0,
        held: heldBy.get(currency) ?? 0,
        nextApproval: nextApproval.get(currency) ?? null,
      };
    }),
    payouts: payouts.map((payout) => ({
      createdAt: payout.created_at,
      currency: payout.currency,
      amount: payout.amount,
      commissions: payout.conversions,
    })),
  };
}

/** Every commission line of a referrer, newest first, for the CSV. */
export async function commissionLines(db: Database, userId: string, now: Date) {
  const at = now.toISOString();
  const rows = await listConversions(db, { referrerUserId: userId, limit: EVERYTHING, now: at });
  return rows.map((row) => ({
    createdAt: row.createdAt,
    link: row.link,
    amount: row.amount,
    currency: row.currency,
    commission: row.commission,
    status: effectiveStatus(row, at),
  }));
}
