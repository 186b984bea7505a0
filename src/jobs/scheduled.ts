/**
 * The scheduled job (wrangler.toml's Cron Trigger, every minute). Each task is idempotent and
 * bounded per run, so a missed run is caught up by the next ones and a doubled run repeats
 * nothing. A task that fails is logged and does not stop the others.
 */
import type { AppBindings } from "../bindings";
import { type Clock, systemClock } from "../lib/clock";
import { errorMessage, log } from "../lib/log";
import { approveEndedHolds, deliverDueEvents } from "../webhooks";
import { archiveOldDays } from "./archive";
import { applyRetention } from "./retention";
import { pruneWebhookEvents } from "./webhook-events-pruning";

/**
 * One unit of the job's work: what it did, for the log line. It reads the time from `clock` when
 * it needs it, not once for the whole run: a run can last minutes (a batch of receivers that
 * hang), and what it stamps must say when it happened.
 */
export type ScheduledTask = (
  bindings: AppBindings,
  ctx: ExecutionContext,
  clock: Clock,
) => Promise<Record<string, number>>;

/** The tasks, in the order they run. Webhook retries, approvals, the archive, retention and the pruning of old webhook events register here. */
export const SCHEDULED_TASKS: Record<string, ScheduledTask> = {
  // Approvals first: their conversion.approved events are then sent by the same run.
  conversion_approvals: (bindings, _ctx, clock) => approveEndedHolds(bindings, clock()),
  webhook_deliveries: (bindings, _ctx, clock) => deliverDueEvents(bindings, clock),
  // Before retention: the archive holds no personal field, so the order changes nothing it writes.
  archive: (bindings, _ctx, clock) => archiveOldDays(bindings, clock),
  retention: (bindings, _ctx, clock) => applyRetention(bindings, clock()),
  // After the deliveries: an event is only deleted once it is done with, and long after.
  webhook_events_pruning: (bindings, _ctx, clock) => pruneWebhookEvents(bindings, clock()),
};

export async function runScheduledJob(
  bindings: AppBindings,
  ctx: ExecutionContext,
  clock: Clock = systemClock,
): Promise<void> {
  for (const [name, task] of Object.entries(SCHEDULED_TASKS)) {
    try {
      const done = await task(bindings, ctx, clock);
      log("info", "scheduled_task_done", { task: name, ...done });
    } catch (error) {
      log("error", "scheduled_task_failed", { task: name, error: errorMessage(error) });
    }
  }
}
