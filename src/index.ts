/**
 * reflinks: referral links at the edge. The Worker entry; see README.md and docs/.
 */
import type { AppBindings } from "./bindings";
import { consumeHits } from "./hits/consume-hits";
import type { QueuedHit } from "./hits/save-hit";
import { runScheduledJob } from "./jobs/scheduled";
import { failedRequest, handleRequest } from "./worker";

export default {
  fetch(request, env, ctx) {
    // The front answers its handlers' errors itself (a 500, logged); this catches what fails
    // before a handler runs.
    try {
      return handleRequest(request, env, ctx);
    } catch (error) {
      return failedRequest(request, error);
    }
  },
  /** The `HITS_QUEUE` consumer (only used when the queue is configured; see docs/scaling.md#hit-writes-the-queue-and-reads). */
  queue(batch, env, _ctx) {
    return consumeHits(batch, env);
  },
  /** The Cron Trigger: webhook retries, approvals and retention (src/jobs/scheduled.ts). */
  scheduled(_controller, env, ctx) {
    return runScheduledJob(env, ctx);
  },
} satisfies ExportedHandler<AppBindings, QueuedHit>;
