/**
 * The outbox (docs/webhooks.md#delivery): statements that write `webhook_events` rows, one per
 * subscribed endpoint, to be put in the same D1 batch as the change that causes the event. D1
 * runs a batch as one transaction, so the event exists exactly when the change does, and a crash
 * after the batch loses nothing: the scheduled job sends what the request did not.
 *
 * The body is made in SQL from the rows as they are inside the batch (new rows get their ids
 * there), so it is fixed when the event is written. A change with no subscribed endpoint costs
 * one more statement in a batch it makes anyway, never another round trip.
 *
 * An event's id (its `webhook-id`) is made of the endpoint, the type and the object's id, so
 * writing the same event twice (a retried request, a doubled scheduled run, a redelivered queue
 * batch) is a no-op: `ON CONFLICT (id) DO NOTHING`.
 */
import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import { holdEndedSql } from "../db/queries/hold-sql";
import { webhookEvents } from "../db/schema";
import type { WebhookEventType } from "./event-types";
import { conversionData, hitData, linkData, payoutData, referralData, reversalData } from "./payload-sql";

interface EventSource {
  type: WebhookEventType;
  /** The tables the object is read from, with aliases. */
  from: SQL;
  /** Which rows are the event's objects. */
  where: SQL;
  /** The object's id: unique among events of this type. */
  key: SQL;
  data: SQL;
  /** The event's time (the change's), ISO-8601. */
  timestamp: SQL;
  now: string;
}

/** The rows of `webhook_events` an event source makes, in the table's column order. */
function outboxSelect({ type, from, where, key, data, timestamp, now }: EventSource): SQL {
  return sql`SELECT 'msg_' || substr(w.id, 4) || '_' || ${type} || '_' || (${key}), w.id, ${type},
      json_object('type', ${type}, 'timestamp', ${timestamp}, 'data', ${data}),
      'pending', 0, ${now}, ${now}, ${now}
    FROM ${from}, webhooks w
    WHERE (${where}) AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = ${type})`;
}

/** The outbox insert as SQL, for the raw D1 batches (`d1Statement`), answering the events' ids. */
function outboxInsert(source: EventSource): SQL {
  return sql`INSERT INTO webhook_events
      (id, webhook_id, type, payload, status, attempts, next_attempt_at, created_at, updated_at)
    ${outboxSelect(source)}
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
}

/**
 * The same insert as a Drizzle query, for a Drizzle `db.batch([...])`: Drizzle's D1 batch cannot
 * bind the parameters of a raw `db.all(sql)` item (drizzle-orm 0.45), and its insert-select can.
 */
function outboxQuery(db: Database, source: EventSource) {
  return db
    .insert(webhookEvents)
    .select(outboxSelect(source))
    .onConflictDoNothing({ target: webhookEvents.id })
    .returning({ id: webhookEvents.id });
}

/**
 * `referral.confirmed`, `referral.held` or `referral.rejected` for the referrals `r` that `where`
 * names (docs/fraud.md): a confirmation writes the one its status says, a release
 * `referral.confirmed`, a rejection or a ban `referral.rejected`. Each at most once per referral
 * (the id is the type and the referral's): a racing call that lost the unique index, or a repeated
 * decision, writes nothing.
 */
export function referralDecidedEvent(
  type: "referral.confirmed" | "referral.held" | "referral.rejected",
  where: SQL,
  now: string,
): SQL {
  return outboxInsert({
    type,
    from: sql`confirmed_referrals r`,
    where,
    key: sql`r.id`,
    data: referralData("r"),
    timestamp: sql`${now}`,
    now,
  });
}

/** `referrer.banned` for the ban of `userId` made at `now`: the ban's answer as its data. */
export function referrerBannedEvent(userId: string, now: string): SQL {
  return outboxInsert({
    type: "referrer.banned",
    from: sql`banned_users b`,
    where: sql`b.user_id = ${userId} AND b.banned_at = ${now}`,
    key: sql`b.user_id`,
    data: sql`json_object('user_id', b.user_id, 'reason', b.reason, 'banned_at', b.banned_at,
      'links_disabled', b.links_disabled, 'commissions_rejected', b.commissions_rejected)`,
    timestamp: sql`b.banned_at`,
    now,
  });
}

/** `conversion.created` for the conversion `externalId` made at `now` by this (Drizzle) batch. */
export function conversionCreatedEvent(db: Database, externalId: string, now: string) {
  return outboxQuery(db, {
    type: "conversion.created",
    from: sql`conversions c`,
    where: sql`c.external_id = ${externalId} AND c.created_at = ${now}`,
    key: sql`c.id`,
    data: conversionData("c", now),
    timestamp: sql`c.created_at`,
    now,
  });
}

/** `conversion.reversed` for the reversal `reversalId` made at `now`: `{conversion, reversal}`. */
export function conversionReversedEvent(reversalId: string, now: string): SQL {
  return outboxInsert({
    type: "conversion.reversed",
    from: sql`reversals v JOIN conversions c ON c.id = v.conversion_id`,
    where: sql`v.reversal_id = ${reversalId} AND v.created_at = ${now}`,
    key: sql`v.id`,
    data: sql`json_object('conversion', ${conversionData("c", now)}, 'reversal', ${reversalData("v")})`,
    timestamp: sql`v.created_at`,
    now,
  });
}

/** `payout.created` for the payout of `idempotencyKey` made at `now`. */
export function payoutCreatedEvent(idempotencyKey: string, now: string): SQL {
  return outboxInsert({
    type: "payout.created",
    from: sql`payouts p`,
    where: sql`p.idempotency_key = ${idempotencyKey} AND p.created_at = ${now}`,
    key: sql`p.id`,
    data: payoutData("p"),
    timestamp: sql`p.created_at`,
    now,
  });
}

/** `payout.created` for every payout of the run of `idempotencyKey` made at `now`. */
export function payoutCreatedInRunEvents(idempotencyKey: string, now: string): SQL {
  return outboxInsert({
    type: "payout.created",
    from: sql`payouts p JOIN payout_runs run ON run.id = p.run_id`,
    where: sql`run.idempotency_key = ${idempotencyKey} AND run.created_at = ${now}`,
    key: sql`p.id`,
    data: payoutData("p"),
    timestamp: sql`p.created_at`,
    now,
  });
}

/**
 * `link.created` for the link `identifier` made at `now` by this (Drizzle) batch; `urlPrefix` as
 * `linkJson` makes `url`.
 */
export function linkCreatedEvent(db: Database, identifier: string, now: string, urlPrefix: string) {
  return outboxQuery(db, {
    type: "link.created",
    from: sql`referral_links l`,
    where: sql`l.identifier = ${identifier} AND l.created_at = ${now}`,
    key: sql`l.id`,
    data: linkData("l", urlPrefix),
    timestamp: sql`l.created_at`,
    now,
  });
}

/** `hit.created` for the hits with these ids (a JSON array bound once: no parameter limit). */
export function hitCreatedEvents(hitIds: string[], now: string): SQL {
  return outboxInsert({
    type: "hit.created",
    from: sql`referral_hits h`,
    where: sql`h.id IN (SELECT value FROM json_each(${JSON.stringify(hitIds)}))`,
    key: sql`h.id`,
    data: hitData("h"),
    timestamp: sql`h.created_at`,
    now,
  });
}

/**
 * The pending conversions whose hold has ended by `now`, oldest first, at most `limit`: the same
 * set for the events and for the status update that follows them in one batch.
 */
export function endedHolds(now: string, limit: number): SQL {
  return sql`SELECT eh.id FROM conversions eh WHERE ${holdEndedSql("eh", now)}
    ORDER BY eh.approve_at, eh.id LIMIT ${sql.raw(String(Math.trunc(limit)))}`;
}

/** `conversion.approved` for {@link endedHolds}; run before the update that approves them. */
export function conversionApprovedEvents(now: string, limit: number): SQL {
  return outboxInsert({
    type: "conversion.approved",
    from: sql`conversions c`,
    where: sql`c.id IN (${endedHolds(now, limit)})`,
    key: sql`c.id`,
    data: conversionData("c", now),
    timestamp: sql`c.approve_at`,
    now,
  });
}

/**
 * `conversion.approved` for the conversion `externalId` made at `now` by this batch when it was
 * approved from the start (`HOLD_DAYS=0`): the scheduled job only approves pending conversions,
 * so it would never send this one's. Written after its `conversion.created`.
 */
export function conversionApprovedAtCreationEvent(db: Database, externalId: string, now: string) {
  return outboxQuery(db, {
    type: "conversion.approved",
    from: sql`conversions c`,
    where: sql`c.external_id = ${externalId} AND c.created_at = ${now} AND c.status = 'approved'`,
    key: sql`c.id`,
    data: conversionData("c", now),
    timestamp: sql`c.approve_at`,
    now,
  });
}

/**
 * `conversion.approved` for the conversions a payout takes while they are still stored `pending`
 * (their hold has ended, the scheduled job has not approved them yet): once `paid`, the job never
 * would. `inPayout` says which conversions the payout takes; run it after the payout's insert and
 * before the update that marks them paid, so the body shows them as approved and unpaid.
 */
export function conversionApprovedInPayoutEvents(inPayout: SQL, now: string): SQL {
  return outboxInsert({
    type: "conversion.approved",
    from: sql`conversions c`,
    where: sql`${holdEndedSql("c", now)} AND (${inPayout})`,
    key: sql`c.id`,
    data: conversionData("c", now),
    timestamp: sql`c.approve_at`,
    now,
  });
}

const dialect = new SQLiteAsyncDialect();

/** A statement for the raw D1 batches some queries make (`d1.batch([...])`). */
export function d1Statement(d1: D1Database, query: SQL): D1PreparedStatement {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return d1.prepare(text).bind(...params);
}

/**
 * The webhook events a request's changes wrote. Each query function that writes events is given
 * one and adds the ids its outbox statements returned; the request's middleware makes their first
 * attempt after the response (src/webhooks/first-attempt.ts), and the scheduled job sends what
 * fails or never starts.
 */
export class WrittenEvents {
  readonly ids: string[] = [];

  /** Adds the event ids an outbox statement returned (D1 `results` or Drizzle rows). */
  add(result: unknown): void {
    const rows = Array.isArray(result) ? result : (result as { results?: unknown[] } | undefined)?.results;
    for (const row of rows ?? []) {
      const id = (row as { id?: unknown }).id;
      if (typeof id === "string") this.ids.push(id);
    }
  }
}
