/**
 * The events a webhook can subscribe to (docs/webhooks.md#events). `hit.created` is every hit:
 * opt in only if you want that volume.
 */
export const WEBHOOK_EVENT_TYPES = [
  "referral.confirmed",
  "conversion.created",
  "conversion.approved",
  "conversion.reversed",
  "payout.created",
  "link.created",
  "hit.created",
  "referral.held",
  "referral.rejected",
  "referrer.banned",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
