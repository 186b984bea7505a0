/**
 * reflinks: referral links at the edge. The Worker entry; see README.md and docs/.
 */
import type { AppBindings } from "./bindings";
import { plainErrorResponse } from "./errors";
import { consumeHits } from "./hits/consume-hits";
import type { QueuedHit } from "./hits/save-hit";
import { runScheduledJob } from "./jobs/scheduled";
import { errorMessage, log } from "./lib/log";
import { requestIdOf } from "./lib/request-id";
import { handleRequest } from "./worker";

export default {
  async fetch(request, env, ctx) {
    try {
      return await handleRequest(request, env, ctx);
    } catch (error) {
      // A bug must cost one request a 500, logged; never an unhandled exception
      // (docs/routing.md#when-something-fails).
      const requestId = requestIdOf(request);
      log("error", "request_failed", {
        path: new URL(request.url).pathname,
        request_id: requestId,
        error: errorMessage(error),
      });
      return plainErrorResponse("internal_error", "reflinks could not handle this request.", requestId);
    }
  },
  /** The `HITS_QUEUE` consumer (only used when the queue is configured; see README). */
  queue(batch, env, _ctx) {
    return consumeHits(batch, env);
  },
  /** The Cron Trigger: webhook retries, approvals and retention (src/jobs/scheduled.ts). */
  scheduled(_controller, env, ctx) {
    return runScheduledJob(env, ctx);
  },
} satisfies ExportedHandler<AppBindings, QueuedHit>;
