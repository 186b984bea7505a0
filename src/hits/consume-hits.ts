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
  const messages: Message<QueuedHit>[] = [];
  for (const message of batch.messages) {
    if (isQueuedHit(message.body)) messages.push(message);
    else {
      // Retrying cannot mend it, and one bad message must not hold back the rest of the batch.
      log("error", "queued_hit_malformed", { message_id: message.id });
      message.ack();
    }
  }
  const linkIds = await resolveLinkIds(
    db,
    messages.filter((message) => message.body.linkId === null).map((message) => message.body.identifier),
  );

  const pending: { message: Message<QueuedHit>; row: NewReferralHit }[] = [];
  for (const message of messages) {
    const linkId = message.body.linkId ?? linkIds.get(message.body.identifier) ?? null;
    if (linkId === LOOKUP_FAILED) {
      message.retry({ delaySeconds: RETRY_DELAY_SECONDS }); // only this one: D1 is failing now
    } else if (linkId === null) {
      message.ack(); // the link is unknown or disabled: the click was not a referral
    } else {
      pending.push({ message, row: { ...message.body.hit, linkId } });
    }
  }
  if (pending.length === 0) return;

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

const LOOKUP_FAILED = "lookup failed";

/**
 * Link ids of the named links that exist and are enabled; {@link LOOKUP_FAILED} for a name D1
 * could not look up, so that only its hits wait for a retry.
 */
async function resolveLinkIds(db: ReturnType<typeof database>, identifiers: string[]) {
  const ids = new Map<string, number | typeof LOOKUP_FAILED>();
  for (const identifier of new Set(identifiers)) {
    try {
      const link = await findLinkTarget(db, identifier);
      if (link && !link.disabled) ids.set(identifier, link.id);
    } catch (error) {
      log("warn", "queued_hit_lookup_failed", { link: identifier, error: errorMessage(error) });
      ids.set(identifier, LOOKUP_FAILED);
    }
  }
  return ids;
}

function isQueuedHit(body: unknown): body is QueuedHit {
  if (typeof body !== "object" || body === null) return false;
  const { identifier, linkId, hit } = body as Record<string, unknown>;
  return (
    typeof identifier === "string" &&
    (linkId === null || Number.isSafeInteger(linkId)) &&
    typeof hit === "object" &&
    hit !== null &&
    typeof (hit as { id?: unknown }).id === "string"
  );
}
