/** The API's JSON shapes of stored rows (docs/api.md#links): snake_case, the columns' own names. */
import type { Config } from "../../config";
import { type ConversionRow, effectiveStatus } from "../../db/queries/conversions";
import type { ReferralHit, ReferralLink, Reversal } from "../../db/schema";
import type { ConversionJson, HitJson, LinkJson, ReversalJson } from "./schemas";

/** `coupons`: the link's codes, in order (src/db/queries/coupons.ts's couponCodesOf). */
export function linkJson(
  link: ReferralLink,
  requestUrl: URL,
  config: Config,
  coupons: readonly string[],
): LinkJson {
  return {
    identifier: link.identifier,
    user_id: link.userId,
    disabled: link.disabled,
    commission: link.commission,
    referee_reward: link.refereeReward,
    expires_at: link.expiresAt,
    commission_payments: link.commissionPayments,
    coupons: [...coupons],
    url: `${requestUrl.origin}${config.refPath}${link.identifier}`,
    created_at: link.createdAt,
    updated_at: link.updatedAt,
  };
}

export function hitJson(hit: ReferralHit, identifier: string): HitJson {
  return {
    id: hit.id,
    link: identifier,
    anonymous_id: hit.anonymousId,
    authenticated: hit.authenticated,
    hit_user_id: hit.hitUserId,
    ip: hit.ip,
    user_agent: hit.userAgent,
    http_referer: hit.httpReferer,
    next: hit.next,
    country: hit.country,
    confirmed_at: hit.confirmedAt,
    duplicate: hit.duplicate,
    consented: hit.consented,
    created_at: hit.createdAt,
    updated_at: hit.updatedAt,
  };
}

export function conversionJson(conversion: ConversionRow, now: string): ConversionJson {
  return {
    id: conversion.id,
    external_id: conversion.externalId,
    user_id: conversion.userId,
    referrer_user_id: conversion.referrerUserId,
    link: conversion.link,
    referral_id: conversion.referralId,
    amount: conversion.amount,
    currency: conversion.currency,
    commission: conversion.commission,
    status: effectiveStatus(conversion, now) as ConversionJson["status"],
    approve_at: conversion.approveAt,
    reversed_amount: conversion.reversedAmount,
    payout_id: conversion.payoutId,
    created_at: conversion.createdAt,
  };
}

export function reversalJson(reversal: Reversal): ReversalJson {
  return {
    id: reversal.id,
    reversal_id: reversal.reversalId,
    amount: reversal.amount,
    commission_delta: reversal.commissionDelta,
    payout_id: reversal.payoutId,
    created_at: reversal.createdAt,
  };
}
