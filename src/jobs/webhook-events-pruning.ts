/**
 * Webhook events done with (docs/webhooks.md#the-tables): `delivered` and `failed` events older
 * than {@link WEBHOOK_EVENTS_KEPT_DAYS} days are deleted, with their delivery log
 * (`webhook_deliveries` goes with its event by the foreign key's `ON DELETE CASCADE`), a task of
 * the scheduled job. An event's body is a copy of its object, and a `hit.created` holds the hit's
 * IP, user agent and referer: kept for ever, that copy would outlive `RETENTION_DAYS` and erasure
 * (docs/privacy.md). Pending events are never deleted here: they are still to be sent.
 *
 * Bounded per run, as retention is: a few statements of a few hundred events, oldest first, each
 * finding its rows through the partial index `webhook_events_done_idx` (only delivered and failed
 * events are in it). Idempotent: a deleted event is gone, so a doubled run finds less or nothing.
 */

import type { AppBindings } from "../bindings";
import { shiftDays } from "../lib/days";

/** How long a delivered or failed event, and its delivery log, is kept. */
export const WEBHOOK_EVENTS_KEPT_DAYS = 30;

/**
 * Events per statement, and statements per run. An event's deliveries (at most ten attempts, and
 * any retried by hand) are deleted with it, so a statement deletes a few thousand rows at most.
 */
export const PRUNING_BATCH = { rows: 200, batches: 5 };

/** Exported for the test that reads its query plan. */
export const DELETE_OLD =
  "DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events INDEXED BY webhook_events_done_idx " +
  "WHERE status IN ('delivered', 'failed') AND created_at < ?1 ORDER BY created_at LIMIT ?2) RETURNING id";

/** Deletes delivered and failed events made before `cutoff`, at most `rows` × `batches` of them. */
export async function deleteOldEvents(
  d1: D1Database,
  cutoff: string,
  { rows, batches } = PRUNING_BATCH,
): Promise<{ deleted: number; batches: number }> {
  let deleted = 0;
  let ran = 0;
  while (ran < batches) {
    // The events deleted, by RETURNING: D1's meta.changes counts the cascaded deliveries too.
    const { results } = await d1.prepare(DELETE_OLD).bind(cutoff, rows).all();
    ran += 1;
    deleted += results.length;
    if (results.length < rows) break; // nothing older is left
  }
  return { deleted, batches: ran };
}

/** The scheduled task. */
export function pruneWebhookEvents(
  bindings: Pick<AppBindings, "DB">,
  now: Date,
): Promise<Record<string, number>> {
  const cutoff = shiftDays(now, -WEBHOOK_EVENTS_KEPT_DAYS);
  return deleteOldEvents(bindings.DB, cutoff);
}
