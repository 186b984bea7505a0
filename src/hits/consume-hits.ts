/**
 * The `HITS_QUEUE` consumer: batch-inserts queued hits. Idempotent by hit id, so a redelivered
 * batch adds nothing; a hit whose link was deleted since the click is dropped (its hits went with
 * it); a message that is not a queued hit (checked field by field against {@link queuedHitSchema})
 * is acknowledged and logged once as `queued_hit_malformed`, never retried, since no retry can
 * mend it; anything else that fails is retried by the queue, and after its retries lands in the
 * dead-letter queue if one is configured. Every log line about one message names its `message_id`.
 */
import * as z from "zod/mini";
import type { AppBindings } from "../bindings";
import { ConfigError, configOf } from "../config";
import { database } from "../db/client";
import { insertHits } from "../db/queries/hits";
import { findLinkTarget, IDENTIFIER, isLinkLive } from "../db/queries/links";
import type { NewReferralHit } from "../db/schema";
import { errorMessage, log } from "../lib/log";
import { deliverNewEvents } from "../webhooks/delivery";
import { isGoneLink, type QueuedHit } from "./save-hit";

const timestamp = z.iso.datetime();

/**
 * A {@link QueuedHit}, every field of its hit with the type of its `referral_hits` column: what
 * the referral routes send, and nothing D1 would refuse (a missing `created_at`) or store wrongly
 * (a timestamp the reports cannot read). Fields the type makes optional may be absent (their
 * column has a default or is nullable); unknown fields are dropped. One small object parse per
 * message.
 */
export const queuedHitSchema = z.object({
  identifier: z.string().check(z.regex(IDENTIFIER)),
  linkId: z.nullable(z.int().check(z.gt(0))),
  hit: z.object({
    id: z.guid(),
    anonymousId: z.optional(z.nullable(z.guid())),
    authenticated: z.optional(z.boolean()),
    hitUserId: z.optional(z.nullable(z.string())),
    ip: z.optional(z.nullable(z.string())),
    userAgent: z.optional(z.nullable(z.string())),
    httpReferer: z.optional(z.nullable(z.string())),
    next: z.optional(z.string()),
    country: z.optional(z.nullable(z.string())),
    asn: z.optional(z.nullable(z.int().check(z.gte(0)))),
    paidClick: z.optional(z.nullable(z.string())),
    ipHash: z.optional(z.nullable(z.string().check(z.regex(/^[0-9a-f]{16}$/)))),
    ipPrivate: z.optional(z.boolean()),
    confirmedAt: z.optional(z.nullable(timestamp)),
    duplicate: z.optional(z.boolean()),
    consented: z.optional(z.boolean()),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
});

const RETRY_DELAY_SECONDS = 10;
/** How many of a malformed message's problems its log line names. */
const MAX_ISSUES_LOGGED = 5;

interface Delivery {
  message: Message<unknown>;
  /** The message's body as validated (unknown fields dropped). */
  body: QueuedHit;
}

export async function consumeHits(batch: MessageBatch<unknown>, bindings: AppBindings): Promise<void> {
  const db = database(bindings.DB);
  const config = configOf(bindings);
  // The hits were sent while the configuration was good; a bad one since (logged by configOf)
  // must not lose them, so they are stored without deduplication until it is fixed.
  const dedupeSeconds = config instanceof ConfigError ? 0 : config.dedupeSeconds;
  const deliveries: Delivery[] = [];
  for (const message of batch.messages) {
    const parsed = queuedHitSchema.safeParse(message.body);
    if (parsed.success) {
      deliveries.push({ message, body: parsed.data });
    } else {
      // Retrying cannot mend it, and one bad message must not hold back the rest of the batch.
      log("error", "queued_hit_malformed", {
        message_id: message.id,
        attempts: message.attempts,
        // Where it is wrong, not the values: those may be anything.
        fields: parsed.error.issues
          .slice(0, MAX_ISSUES_LOGGED)
          .map((issue) => `${issue.path.map(String).join(".") || "(body)"}: ${issue.code}`),
      });
      message.ack();
    }
  }
  const linkIds = await resolveLinkIds(
    db,
    deliveries.filter(({ body }) => body.linkId === null),
  );

  const pending: { message: Message<unknown>; row: NewReferralHit }[] = [];
  for (const { message, body } of deliveries) {
    const linkId = body.linkId ?? linkIds.get(body.identifier) ?? null;
    if (linkId === LOOKUP_FAILED) {
      message.retry({ delaySeconds: RETRY_DELAY_SECONDS }); // only this one: D1 is failing now
    } else if (linkId === null) {
      message.ack(); // the link is unknown or disabled: the click was not a referral
    } else {
      pending.push({ message, row: { ...body.hit, linkId } });
    }
  }
  if (pending.length === 0) return;

  try {
    const events = await insertHits(
      db,
      pending.map(({ row }) => row),
      dedupeSeconds,
    );
    for (const { message } of pending) message.ack();
    await sendHitEvents(bindings, events);
    return;
  } catch (error) {
    log("warn", "hit_batch_insert_failed", {
      hits: pending.length,
      message_ids: pending.map(({ message }) => message.id),
      error: errorMessage(error),
    });
  }

  // The batch is one transaction: find out which hits fail on their own.
  const events: string[] = [];
  for (const { message, row } of pending) {
    try {
      events.push(...(await insertHits(db, [row], dedupeSeconds)));
      message.ack();
    } catch (error) {
      const gone = isGoneLink(error);
      log(gone ? "warn" : "error", "queued_hit_insert_failed", {
        message_id: message.id,
        hit_id: row.id,
        attempts: message.attempts,
        dropped: gone,
        error: errorMessage(error),
      });
      if (gone) message.ack();
      else message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    }
  }
  await sendHitEvents(bindings, events);
}

/**
 * First attempts of the `hit.created` events the batch wrote; the hits are stored whatever
 * happens here, and what fails is the scheduled job's to retry.
 */
async function sendHitEvents(bindings: AppBindings, events: string[]): Promise<void> {
  if (events.length === 0) return;
  await deliverNewEvents(bindings, events).catch((error) =>
    log("warn", "webhook_first_attempt_failed", { events: events.length, error: errorMessage(error) }),
  );
}

const LOOKUP_FAILED = "lookup failed";

/**
 * Link ids of the links the deliveries name, for those that exist and are enabled;
 * {@link LOOKUP_FAILED} for a name D1 could not look up, so that only its hits wait for a retry.
 */
async function resolveLinkIds(db: ReturnType<typeof database>, deliveries: Delivery[]) {
  const messageIds = new Map<string, string[]>();
  for (const { message, body } of deliveries) {
    const ids = messageIds.get(body.identifier);
    if (ids) ids.push(message.id);
    else messageIds.set(body.identifier, [message.id]);
  }
  const ids = new Map<string, number | typeof LOOKUP_FAILED>();
  for (const [identifier, waiting] of messageIds) {
    try {
      const link = await findLinkTarget(db, identifier);
      if (link && isLinkLive(link, Date.now())) ids.set(identifier, link.id);
    } catch (error) {
      log("warn", "queued_hit_lookup_failed", {
        message_ids: waiting,
        link: identifier,
        error: errorMessage(error),
      });
      ids.set(identifier, LOOKUP_FAILED);
    }
  }
  return ids;
}
