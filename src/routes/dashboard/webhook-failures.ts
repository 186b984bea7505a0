/**
 * The webhook section's data: every endpoint (at most {@link MAX_WEBHOOKS}) and its newest failed
 * delivery attempts (no answer, or an answer that is not 2xx), read from `webhooks`,
 * `webhook_deliveries` and `webhook_events`.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import type { WebhookFailuresView } from "./page";

export const MAX_WEBHOOKS = 50;
export const FAILURES_PER_WEBHOOK = 5;

interface Row {
  webhook_id: string;
  url: string;
  delivery_id: number | null;
  event_id: string | null;
  type: string | null;
  attempt: number | null;
  status_code: number | null;
  error: string | null;
  created_at: string | null;
  event_status: string | null;
}

export async function webhookFailures(db: Database): Promise<WebhookFailuresView[]> {
  const rows = await db.all<Row>(sql`
    WITH shown AS (SELECT id, url, created_at FROM webhooks ORDER BY created_at, id LIMIT ${MAX_WEBHOOKS}),
    failed AS (
      SELECT d.id, d.webhook_id, d.event_id, d.attempt, d.status_code, d.error, d.created_at,
        ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.id DESC) AS n
      FROM webhook_deliveries d
      WHERE d.webhook_id IN (SELECT id FROM shown)
        AND (d.status_code IS NULL OR d.status_code < 200 OR d.status_code > 299)
    )
    SELECT s.id AS webhook_id, s.url AS url, f.id AS delivery_id, f.event_id AS event_id, e.type AS type,
      f.attempt AS attempt, f.status_code AS status_code, f.error AS error, f.created_at AS created_at,
      e.status AS event_status
    FROM shown s
    LEFT JOIN failed f ON f.webhook_id = s.id AND f.n <= ${FAILURES_PER_WEBHOOK}
    LEFT JOIN webhook_events e ON e.id = f.event_id
    ORDER BY s.created_at, s.id, f.id DESC`);
  const byWebhook = new Map<string, WebhookFailuresView>();
  for (const row of rows) {
    let webhook = byWebhook.get(row.webhook_id);
    if (!webhook) {
      webhook = { id: row.webhook_id, url: row.url, failures: [] };
      byWebhook.set(row.webhook_id, webhook);
    }
    if (row.delivery_id === null || row.event_id === null) continue;
    webhook.failures.push({
      deliveryId: row.delivery_id,
      eventId: row.event_id,
      type: row.type ?? "?",
      attempt: row.attempt ?? 0,
      statusCode: row.status_code,
      error: row.error,
      createdAt: row.created_at ?? "",
      eventStatus: row.event_status ?? "?",
    });
  }
  return [...byWebhook.values()];
}
