/**
 * Webhooks (docs/webhooks.md): endpoints, the outbox written with each change, and its delivery.
 * The dashboard uses {@link listRecentFailedDeliveries} and {@link retryWebhookEvent}.
 */
export { approveEndedHolds } from "./approvals";
export { deliverDueEvents, deliverNewEvents, retryWebhookEvent } from "./delivery";
export {
  createWebhook,
  deleteWebhook,
  deliveryJson,
  type FailedDelivery,
  findDelivery,
  findWebhook,
  listDeliveries,
  listRecentFailedDeliveries,
  listWebhooks,
  receiverUrlProblem,
  type WebhookJson,
} from "./endpoints";
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "./event-types";
