/**
 * `/_reflinks/conversions` and `/_reflinks/payouts` (docs/money.md): payments of referred users,
 * their refunds, and paying referrers exactly once.
 */

import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import * as z from "zod/mini";
import type { HonoEnv } from "../../app-env";
import { payoutMinimumOf } from "../../config";
import {
  type ConversionRow,
  findConversion,
  insertConversion,
  listConversions,
  reverseConversion,
} from "../../db/queries/conversions";
import { listPayouts, payoutsDue, payReferrer } from "../../db/queries/payouts";
import { confirmReferral } from "../../db/queries/referrals";
import { confirmedReferrals, referralLinks } from "../../db/schema";
import { ApiError } from "../../errors";
import { addCalendarMonths, type CommissionRule, parseCommissionRule } from "../../lib/commission";
import { shiftDays } from "../../lib/days";
import type { ApiHandlers } from "./handler";
import { decodeCursor, encodeCursor } from "./input";
import { conversionJson, reversalJson } from "./serialize";

type C = Context<HonoEnv>;

/** The handlers of the money routes, by their name in the route table (./contract.ts). */
export const moneyHandlers = {
  async createConversion(c, { body }) {
    const { db, config } = c.var;
    const now = new Date().toISOString();
    const same = (existing: ConversionRow) => {
      if (
        existing.userId !== body.user_id ||
        existing.amount !== body.amount ||
        existing.currency !== body.currency
      ) {
        throw new ApiError(
          "conflict",
          `external_id "${body.external_id}" is already a conversion with another user, amount or currency`,
        );
      }
      return c.json({ created: false, conversion: conversionJson(existing, now) }, 200);
    };
    const existing = await findConversion(db, body.external_id);
    if (existing) return same(existing);

    // The payment belongs to the user's referral for the event, confirmed now if it is not yet.
    let referral = await referralOf(c, body.user_id, body.event);
    if (!referral) {
      const confirmed = await confirmReferral(db, c.var.events, {
        userId: body.user_id,
        event: body.event,
        signedUpAt: body.signed_up_at ?? null,
        coupon: body.coupon ?? null,
        attribution: config.attribution,
        windowDays: config.attributionWindowDays,
        rules: config.fraudRules,
      });
      if (!confirmed) {
        throw new ApiError("no_referral", `User "${body.user_id}" has no qualifying referral hit.`);
      }
      referral = await referralOf(c, body.user_id, body.event);
      if (!referral) throw new Error("referral lost after its confirmation");
    }

    const linkRule = referral.linkCommission === null ? null : parseCommissionRule(referral.linkCommission);
    const rule: CommissionRule = linkRule ?? config.commission ?? { kind: "none" };
    // More than COMMISSION_MONTHS calendar months after the referral, a payment earns nothing.
    const expired =
      config.commissionMonths > 0 && now > addCalendarMonths(referral.createdAt, config.commissionMonths);
    const inserted = await insertConversion(db, c.var.events, {
      externalId: body.external_id,
      referralId: referral.id,
      userId: body.user_id,
      referrerUserId: referral.referrerUserId,
      linkId: referral.linkId,
      amount: body.amount,
      currency: body.currency,
      rule: expired ? { kind: "none" } : rule,
      // The link's own COMMISSION_PAYMENTS, else the setting's.
      paymentsLimit: referral.linkCommissionPayments ?? config.commissionPayments,
      now,
      approveAt: shiftDays(now, config.holdDays),
    });
    const created = await findConversion(db, body.external_id);
    if (!created) throw new Error("conversion lost after its insert");
    if (!inserted) return same(created); // a racing call with this external_id was first
    return c.json({ created: true, conversion: conversionJson(created, now) }, 201);
  },

  async getConversion(c, { params }) {
    const conversion = await requireConversion(c, params.external_id);
    return c.json(conversionJson(conversion, new Date().toISOString()));
  },

  async listConversions(c, { query }) {
    const now = new Date().toISOString();
    const beforeId =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().check(z.int()));
    const page = await listConversions(c.var.db, {
      userId: query.user_id,
      referrerUserId: query.referrer_user_id,
      status: query.status,
      beforeId,
      limit: query.limit + 1,
      now,
    });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    return c.json({
      conversions: shown.map((conversion) => conversionJson(conversion, now)),
      next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null,
    });
  },

  async reverseConversion(c, { params, body }) {
    const conversion = await requireConversion(c, params.external_id);
    const now = new Date().toISOString();
    const outcome = await reverseConversion(c.var.db, c.var.events, conversion.id, {
      reversalId: body.reversal_id,
      amount: body.amount,
      now,
    });
    if (outcome.kind === "too_much") {
      throw new ApiError(
        "validation_failed",
        outcome.left === 0
          ? "amount is more than is left: the payment is wholly reversed"
          : `amount must be at most ${outcome.left}, what is left of the payment`,
      );
    }
    if (outcome.kind === "other_conversion") {
      throw new ApiError("conflict", `reversal_id "${body.reversal_id}" already reversed another conversion`);
    }
    if (outcome.kind === "other_amount") {
      throw new ApiError(
        "conflict",
        `reversal_id "${body.reversal_id}" already reversed another amount (${outcome.reversal.amount})`,
      );
    }
    const created = outcome.kind === "created";
    return c.json(
      {
        created,
        conversion: conversionJson(outcome.conversion, now),
        reversal: reversalJson(outcome.reversal),
      },
      created ? 201 : 200,
    );
  },

  async payoutsDue(c, { query }) {
    const rows = await payoutsDue(c.var.db, { currency: query.currency });
    // PAYOUT_MINIMUM: only those a payout would pay now.
    return c.json({ rows: rows.filter((row) => row.amount >= payoutMinimumOf(c.var.config, row.currency)) });
  },

  async createPayout(c, { headers, body }) {
    const key = headers["idempotency-key"];
    const minimum = payoutMinimumOf(c.var.config, body.currency);
    const outcome = await payReferrer(c.var.db, c.var.events, {
      key,
      referrerUserId: body.referrer_user_id,
      currency: body.currency,
      now: new Date().toISOString(),
      minimum,
    });
    if (outcome.kind === "nothing_due") {
      throw new ApiError("nothing_due", `Nothing is due to "${body.referrer_user_id}" in ${body.currency}.`);
    }
    if (outcome.kind === "below_minimum") {
      throw new ApiError(
        "below_minimum",
        `"${body.referrer_user_id}" is due ${outcome.due} in ${body.currency}, less than PAYOUT_MINIMUM's ${minimum} (minor units).`,
      );
    }
    if (outcome.kind === "key_reused") {
      throw new ApiError(
        "conflict",
        "This Idempotency-Key was used for a payout to another referrer or currency.",
      );
    }
    return c.json({ payout: outcome.payout }, outcome.kind === "created" ? 201 : 200);
  },

  async listPayouts(c, { query }) {
    const beforeId =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().check(z.int()));
    const page = await listPayouts(c.var.db, {
      referrerUserId: query.referrer_user_id,
      beforeId,
      limit: query.limit + 1,
    });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    return c.json({ payouts: shown, next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null });
  },
} satisfies Partial<ApiHandlers>;

async function requireConversion(c: C, externalId: string): Promise<ConversionRow> {
  const conversion = await findConversion(c.var.db, externalId);
  if (!conversion) throw new ApiError("not_found", `No conversion "${externalId.slice(0, 100)}".`);
  return conversion;
}

/** The user's confirmed referral for an event, with what a conversion needs of its link. */
async function referralOf(c: C, userId: string, event: string) {
  const [row] = await c.var.db
    .select({
      id: confirmedReferrals.id,
      linkId: confirmedReferrals.linkId,
      referrerUserId: confirmedReferrals.referrerUserId,
      createdAt: confirmedReferrals.createdAt,
      linkCommission: referralLinks.commission,
      linkCommissionPayments: referralLinks.commissionPayments,
    })
    .from(confirmedReferrals)
    .leftJoin(referralLinks, eq(referralLinks.id, confirmedReferrals.linkId))
    .where(and(eq(confirmedReferrals.userId, userId), eq(confirmedReferrals.event, event)))
    .limit(1);
  return row ?? null;
}
