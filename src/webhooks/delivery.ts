/**
 * Sending the outbox (docs/webhooks.md#delivery). Each attempt is first claimed with one atomic
 * `UPDATE … RETURNING` (its `attempts` counted, its `next_attempt_at` moved past the attempt's
 * deadline), so that the request's `waitUntil`, the scheduled job and a doubled run of it never
 * send the same attempt twice; then it is sent, and recorded in `webhook_deliveries` together with
 * the event's new state in one batch. A worker that dies mid-attempt leaves the event claimed
 * until that lease ends, and the job tries it again then. Each attempt is stamped (its log row's
 * `created_at`, and the next retry counted from it) with the clock read when it ended, not when
 * its run began.
 */
import type { WebhookDelivery } from "../db/schema";
import { type Clock, systemClock } from "../lib/clock";
import { errorMessage, log } from "../lib/log";
import { type AttemptOutcome, attemptDelivery, type Endpoint, timeoutOf } from "./attempt";
import { MAX_ATTEMPTS, nextAttemptAt } from "./schedule";

/** The worker's environment: its D1, and the settings that bound an attempt (`timeoutOf`). */
export interface DeliveryBindings {
  DB: D1Database;
}

/** How many due events one scheduled run sends at most, and how many at once. */
export const DUE_EVENTS_PER_RUN = 60;
export const PARALLEL_ATTEMPTS = 6;
/** Per round of attempts: reading the endpoints and writing each attempt's log row (D1 round trips). */
const ROUND_MARGIN_MS = 5_000;
/** How long past the last possible deadline a claimed attempt is left alone before it counts as lost. */
const LEASE_MARGIN_MS = 60_000;

interface ClaimedEvent {
  id: string;
  webhook_id: string;
  payload: string;
  /** Including the claimed attempt. */
  attempts: number;
}

const CLAIMED = "RETURNING id, webhook_id, payload, attempts";

/**
 * Until when a claim of `count` events keeps them from being claimed again: past the moment the
 * last of their attempts can still be running, so that no event is ever sent twice at once.
 * {@link sendClaimed} sends them in rounds of {@link PARALLEL_ATTEMPTS}, each round waiting for
 * its slowest attempt, and an attempt ends by its deadline (`timeoutMs`: the answer's headers; its
 * body is not read). So the last attempt ends at most ceil(count / PARALLEL_ATTEMPTS) rounds of
 * `timeoutMs` after the claim, plus each round's D1 writes ({@link ROUND_MARGIN_MS}); a run of 60
 * events at the default 10 s: 10 rounds, 150 s, and the lease 210 s with {@link LEASE_MARGIN_MS}.
 * (A lease of one timeout, as this once was, let the next run claim the last rounds of a batch of
 * hanging receivers while they were still waiting.)
 */
function claimLeaseMs(count: number, timeoutMs: number): number {
  const rounds = Math.max(1, Math.ceil(count / PARALLEL_ATTEMPTS));
  return rounds * (timeoutMs + ROUND_MARGIN_MS) + LEASE_MARGIN_MS;
}

function lease(now: Date, count: number, timeoutMs: number): string {
  return new Date(now.getTime() + claimLeaseMs(count, timeoutMs)).toISOString();
}

/**
 * First attempts of the events a request just wrote (its `waitUntil`). Only events never tried
 * are claimed: one the job already took is its to send.
 */
export async function deliverNewEvents(bindings: DeliveryBindings, eventIds: string[]): Promise<void> {
  const now = systemClock();
  const { results } = await bindings.DB.prepare(
    `UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = ?1, updated_at = ?2
     WHERE id IN (SELECT value FROM json_each(?3)) AND status = 'pending' AND attempts = 0 ${CLAIMED}`,
  )
    .bind(lease(now, eventIds.length, timeoutOf(bindings)), now.toISOString(), JSON.stringify(eventIds))
    .all<ClaimedEvent>();
  await sendClaimed(bindings, results, systemClock);
}

/**
 * The scheduled job's task: events whose attempt is due, oldest first, at most
 * {@link DUE_EVENTS_PER_RUN}; an event whose last attempt was lost in a crash becomes `failed`.
 */
export async function deliverDueEvents(
  bindings: DeliveryBindings,
  clock: Clock,
): Promise<Record<string, number>> {
  const now = clock();
  const at = now.toISOString();
  const [lost, claimed] = await bindings.DB.batch([
    bindings.DB.prepare(
      `UPDATE webhook_events SET status = 'failed', next_attempt_at = NULL, updated_at = ?1
       WHERE status = 'pending' AND next_attempt_at <= ?1 AND attempts >= ?2`,
    ).bind(at, MAX_ATTEMPTS),
    bindings.DB.prepare(
      `UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = ?2, updated_at = ?1
       WHERE id IN (SELECT id FROM webhook_events WHERE status = 'pending' AND next_attempt_at <= ?1
         AND attempts < ?3 ORDER BY next_attempt_at, id LIMIT ?4) ${CLAIMED}`,
    ).bind(at, lease(now, DUE_EVENTS_PER_RUN, timeoutOf(bindings)), MAX_ATTEMPTS, DUE_EVENTS_PER_RUN),
  ]);
  const events = (claimed?.results ?? []) as unknown as ClaimedEvent[];
  const outcomes = await sendClaimed(bindings, events, clock);
  return {
    attempted: events.length,
    delivered: outcomes.filter((outcome) => outcome?.ok).length,
    lost: lost?.meta.changes ?? 0,
  };
}

/**
 * Sends one event again now, whatever its state (`POST /webhooks/:id/deliveries/:id/retry`, and
 * the dashboard): the new attempt's delivery row, or null when the event (or its endpoint) no
 * longer exists. A success marks the event delivered; a failure leaves a failed or delivered event
 * as it was, and reschedules a pending one as any failed attempt would.
 */
export async function retryWebhookEvent(
  bindings: DeliveryBindings,
  eventId: string,
): Promise<WebhookDelivery | null> {
  const now = systemClock();
  const claimed = await bindings.DB.prepare(
    `UPDATE webhook_events SET attempts = attempts + 1, updated_at = ?1 WHERE id = ?2 ${CLAIMED}`,
  )
    .bind(now.toISOString(), eventId)
    .first<ClaimedEvent>();
  if (!claimed) return null;
  const [delivery] = await sendClaimed(bindings, [claimed], systemClock);
  return delivery?.row ?? null;
}

interface SentAttempt extends AttemptOutcome {
  row: WebhookDelivery;
}

/** Sends claimed events in rounds of {@link PARALLEL_ATTEMPTS} (see {@link claimLeaseMs}). */
async function sendClaimed(
  bindings: DeliveryBindings,
  events: ClaimedEvent[],
  clock: Clock,
): Promise<(SentAttempt | null)[]> {
  if (events.length === 0) return [];
  const endpoints = await endpointsOf(bindings.DB, [...new Set(events.map((event) => event.webhook_id))]);
  const timeoutMs = timeoutOf(bindings);
  const outcomes: (SentAttempt | null)[] = [];
  for (let start = 0; start < events.length; start += PARALLEL_ATTEMPTS) {
    const slice = events.slice(start, start + PARALLEL_ATTEMPTS);
    outcomes.push(
      ...(await Promise.all(
        slice.map(async (event) => {
          const endpoint = endpoints.get(event.webhook_id);
          if (!endpoint) return null; // deleted since the claim: its events went with it
          const outcome = await attemptDelivery(endpoint, event, timeoutMs);
          return recordAttempt(bindings.DB, event, outcome, clock());
        }),
      )),
    );
  }
  return outcomes;
}

async function endpointsOf(d1: D1Database, webhookIds: string[]): Promise<Map<string, Endpoint>> {
  const { results } = await d1
    .prepare("SELECT id, url, secret FROM webhooks WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(webhookIds))
    .all<{ id: string; url: string; secret: string }>();
  return new Map(results.map((row) => [row.id, { url: row.url, secret: row.secret }]));
}

/** The attempt's delivery row and the event's new state, in one batch; `finished`: when it ended. */
async function recordAttempt(
  d1: D1Database,
  event: ClaimedEvent,
  outcome: AttemptOutcome,
  finished: Date,
): Promise<SentAttempt | null> {
  const at = finished.toISOString();
  const next = event.attempts >= MAX_ATTEMPTS ? null : nextAttemptAt(event.attempts, finished);
  try {
    const [inserted] = await d1.batch([
      d1
        .prepare(
          `INSERT INTO webhook_deliveries
            (webhook_id, event_id, attempt, status_code, error, duration_ms, created_at)
          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING *`,
        )
        .bind(
          event.webhook_id,
          event.id,
          event.attempts,
          outcome.statusCode,
          outcome.error,
          Math.round(outcome.durationMs),
          at,
        ),
      // Only a pending event is rescheduled by a failure: a manual retry of a failed or delivered
      // one leaves it as it was.
      d1
        .prepare(
          `UPDATE webhook_events SET
            status = CASE WHEN ?2 THEN 'delivered' WHEN status <> 'pending' THEN status
              WHEN ?3 IS NULL THEN 'failed' ELSE 'pending' END,
            next_attempt_at = CASE WHEN ?2 THEN NULL WHEN status <> 'pending' THEN next_attempt_at
              ELSE ?3 END,
            updated_at = ?4
          WHERE id = ?1`,
        )
        .bind(event.id, outcome.ok ? 1 : 0, next, at),
    ]);
    const row = inserted?.results[0] as Record<string, unknown> | undefined;
    if (!row) return null;
    if (!outcome.ok) {
      // What an operator looks for first; the delivery log has every attempt.
      log("warn", "webhook_attempt_failed", {
        webhook_id: event.webhook_id,
        event_id: event.id,
        attempt: event.attempts,
        status_code: outcome.statusCode,
        error: outcome.error,
      });
    }
    return { ...outcome, row: deliveryFromRow(row) };
  } catch (error) {
    // The endpoint was deleted during the attempt: its events and log went with it.
    log("info", "webhook_attempt_not_recorded", { event_id: event.id, error: errorMessage(error) });
    return null;
  }
}

export function deliveryFromRow(row: Record<string, unknown>): WebhookDelivery {
  return {
    id: Number(row.id),
    webhookId: String(row.webhook_id),
    eventId: String(row.event_id),
    attempt: Number(row.attempt),
    statusCode: row.status_code === null ? null : Number(row.status_code),
    error: row.error === null ? null : String(row.error),
    durationMs: Number(row.duration_ms),
    createdAt: String(row.created_at),
  };
}
