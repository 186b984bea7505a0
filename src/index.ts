/**
 * reflinks: referral links at the edge. The Worker entry; see README.md and SPEC.md.
 */
import type { AppBindings } from "./bindings";
import { consumeHits } from "./hits/consume-hits";
import type { QueuedHit } from "./hits/save-hit";
import { handleRequest } from "./worker";

export default {
  fetch(request, env, ctx) {
    return handleRequest(request, env, ctx);
  },
  /** The `HITS_QUEUE` consumer (only used when the queue is configured; see README). */
  queue(batch, env, _ctx) {
    return consumeHits(batch, env);
  },
} satisfies ExportedHandler<AppBindings, QueuedHit>;
