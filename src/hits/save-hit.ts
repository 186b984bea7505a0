import type { AppBindings } from "../bindings";
import { database } from "../db/client";
import { insertHit } from "../db/queries/hits";
import { findLinkTarget, isLinkLive } from "../db/queries/links";
import type { NewReferralHit } from "../db/schema";
import { errorMessage, log } from "../lib/log";
import { withRetries } from "../lib/retry";
import { deliverNewEvents } from "../webhooks/delivery";

/** A hit as the referral routes make it: complete but for the link, which may not be known yet. */
export type HitDraft = Omit<NewReferralHit, "linkId">;

/** What goes on `HITS_QUEUE`: the hit, and its link's id or (if the lookup failed) only its name. */
export interface QueuedHit {
  identifier: string;
  linkId: number | null;
  hit: HitDraft;
}

/** The link was deleted between the click and the write: its hits are deleted with it anyway. */
export const isGoneLink = (error: unknown) => /FOREIGN KEY constraint/i.test(errorMessage(error));

/**
 * Stores a hit without holding up the visitor's redirect for D1.
 *
 * With `HITS_QUEUE` bound, the hit is handed to the queue (awaited: once `send` resolves the hit
 * is durable) and this worker's consumer batch-inserts it. Otherwise, or if the queue refuses it,
 * the write runs in `waitUntil`, retried with backoff and logged, so a D1 error never becomes the
 * visitor's error page. When the link lookup itself failed (`linkId` null), the lookup is retried
 * too and the hit stored if the link exists and is enabled. Either way the insert itself decides
 * whether the hit is a duplicate (`DEDUPE_SECONDS`), so the redirect never waits for that either.
 */
export async function saveHit(
  bindings: AppBindings,
  ctx: ExecutionContext,
  identifier: string,
  linkId: number | null,
  draft: HitDraft,
  { requestId, dedupeSeconds }: { requestId: () => string; dedupeSeconds: number },
): Promise<void> {
  if (bindings.HITS_QUEUE) {
    try {
      await bindings.HITS_QUEUE.send({ identifier, linkId, hit: draft });
      return;
    } catch (error) {
      log("warn", "hit_queue_send_failed", {
        hit_id: draft.id,
        link: identifier,
        request_id: requestId(),
        error: errorMessage(error),
      });
    }
  }
  let resolvedLinkId = linkId;
  const store = async () => {
    if (resolvedLinkId === null) {
      const link = await findLinkTarget(database(bindings.DB), identifier);
      if (!link || !isLinkLive(link, Date.parse(draft.createdAt))) return;
      resolvedLinkId = link.id;
    }
    const events = await insertHit(bindings.DB, { ...draft, linkId: resolvedLinkId }, dedupeSeconds);
    // hit.created webhooks (rare: most sites subscribe to none); stored already, so a failed
    // attempt is the scheduled job's to retry, never a reason to write the hit again.
    if (events.length > 0) {
      await deliverNewEvents(bindings, events).catch((error) =>
        log("warn", "webhook_first_attempt_failed", { hit_id: draft.id, error: errorMessage(error) }),
      );
    }
  };
  ctx.waitUntil(
    withRetries(store, {
      event: "hit_write_failed",
      // The request id is made only if a line is logged (requestIdOf makes a UUID when no cf-ray).
      fields: {
        hit_id: draft.id,
        link: identifier,
        get request_id() {
          return requestId();
        },
      },
      isPermanent: isGoneLink,
    }),
  );
}
