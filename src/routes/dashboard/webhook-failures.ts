/**
 * The webhook section's data: every endpoint (the first {@link MAX_WEBHOOKS}) with its newest
 * failed attempts (no answer, or an answer that is not 2xx), from the webhook module's own queries.
 */
import type { Database } from "../../db/client";
import { listRecentFailedDeliveries, listWebhooks } from "../../webhooks";
import type { WebhookFailuresView } from "./page";

export const MAX_WEBHOOKS = 50;
export const FAILURES_PER_WEBHOOK = 5;

export async function webhookFailures(db: Database): Promise<WebhookFailuresView[]> {
  const webhooks = (await listWebhooks(db)).slice(0, MAX_WEBHOOKS);
  return Promise.all(
    webhooks.map(async (webhook) => ({
      id: webhook.id,
      url: webhook.url,
      failures: (await listRecentFailedDeliveries(db, webhook.id, FAILURES_PER_WEBHOOK)).map((failure) => ({
        deliveryId: failure.id,
        eventId: failure.event_id,
        type: failure.event_type,
        attempt: failure.attempt,
        statusCode: failure.status_code,
        error: failure.error,
        createdAt: failure.created_at,
        eventStatus: failure.event_status,
      })),
    })),
  );
}
