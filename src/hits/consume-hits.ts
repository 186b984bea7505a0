/**
 * The `HITS_QUEUE` consumer: batch-inserts queued hits. Idempotent by hit id, so a redelivered
 * batch adds nothing; a hit whose link was deleted since the click is dropped (its hits went with
 * it); anything else that fails is retried by the queue, and after its retries lands in the
 * dead-letter queue if one is configured.
 */
import type { AppBindings } from "../bindings";
import { database } from "../db/client";
import { insertHits } from "../db/queries/hits";
import { findLinkTarget } from "../db/queries/links";
import type { NewReferralHit } from "../db/schema";
import { errorMessage, log } from "../lib/log";
import { isGoneLink, type QueuedHit } from "./save-hit";

const RETRY_DELAY_SECONDS = 10;

export async function consumeHits(batch: MessageBatch<QueuedHit>, bindings: AppBindings): Promise<void> {
  const db = database(bindings.DB);
  const linkIds = await resolveLinkIds(
    db,
    batch.messages
      .filter((message) => message.body.linkId === null)
      .map((message) => message.body.identifier),
  );

  const pending: { message: Message<QueuedHit>; row: NewReferralHit }[] = [];
  for (const message of batch.messages) {
    const linkId = message.body.linkId ?? linkIds.get(message.body.identifier) ?? null;
    if (linkId === null) {
      message.ack(); // the link is unknown or disabled: the click was not a referral
      continue;
    }
    pending.push({ message, row: { ...message.body.hit, linkId } });
  }

  try {
    await insertHits(
      db,
      pending.map(({ row }) => row),
    );
    for (const { message } of pending) message.ack();
    return;
  } catch (error) {
    log("warn", "hit_batch_insert_failed", { hits: pending.length, error: errorMessage(error) });
  }

  // The batch is one transaction: find out which hits fail on their own.
  for (const { message, row } of pending) {
    try {
      await insertHits(db, [row]);
      message.ack();
    } catch (error) {
      const gone = isGoneLink(error);
      log(gone ? "warn" : "error", "queued_hit_insert_failed", {
        hit_id: row.id,
        attempts: message.attempts,
        dropped: gone,
        error: errorMessage(error),
      });
      if (gone) message.ack();
      else message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    }
  }
}

/** Link ids of the named links that exist and are enabled. Throws (so the batch is retried) if D1 fails. */
async function resolveLinkIds(db: ReturnType<typeof database>, identifiers: string[]) {
  const ids = new Map<string, number>();
  for (const identifier of new Set(identifiers)) {
    const link = await findLinkTarget(db, identifier);
    if (link && !link.disabled) ids.set(identifier, link.id);
  }
  return ids;
}
