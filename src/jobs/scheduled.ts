/**
 * The scheduled job (wrangler.toml's Cron Trigger, every minute). Each task is idempotent and
 * bounded per run, so a missed run is caught up by the next ones and a doubled run repeats
 * nothing. A task that fails is logged and does not stop the others.
 */
import type { AppBindings } from "../bindings";
import { errorMessage, log } from "../lib/log";
import { approveEndedHolds, deliverDueEvents } from "../webhooks";
import { applyRetention } from "./retention";
import { pruneWebhookEvents } from "./webhook-events-pruning";

/** One unit of the job's work: what it did, for the log line. */
export type ScheduledTask = (
  bindings: AppBindings,
  ctx: ExecutionContext,
  now: Date,
) => Promise<Record<string, number>>;

/** The tasks, in the order they run. Webhook retries, approvals, retention and the pruning of old webhook events register here. */
export const SCHEDULED_TASKS: Record<string, ScheduledTask> = {
  // Approvals first: their conversion.approved events are then sent by the same run.
  conversion_approvals: (bindings, _ctx, now) => approveEndedHolds(bindings, now),
  webhook_deliveries: (bindings, _ctx, now) => deliverDueEvents(bindings, now),
  retention: (bindings, _ctx, now) => applyRetention(bindings, now),
  // After the deliveries: an event is only deleted once it is done with, and long after.
  webhook_events_pruning: (bindings, _ctx, now) => pruneWebhookEvents(bindings, now),
};

export async function runScheduledJob(
  bindings: AppBindings,
  ctx: ExecutionContext,
  now = new Date(),
): Promise<void> {
  for (const [name, task] of Object.entries(SCHEDULED_TASKS)) {
    try {
      const done = await task(bindings, ctx, now);
      log("info", "scheduled_task_done", { task: name, ...done });
    } catch (error) {
      log("error", "scheduled_task_failed", { task: name, error: errorMessage(error) });
    }
  }
}
