/**
 * `hit.created` on the hot path. Every click writes a hit, and almost no site wants an event per
 * click, so this isolate remembers for {@link HIT_WEBHOOKS_TTL_MS} whether any endpoint subscribes
 * to `hit.created`:
 *
 * - known, and none does (the usual case): the hit is written as before, one statement, nothing
 *   added;
 * - known, and one does: the outbox statement joins the hit's insert in one batch;
 * - not known (the first hit of an isolate, or the last check is older than the TTL): the batch
 *   also asks whether one does, so the check never costs a round trip of its own.
 *
 * An endpoint created or deleted through this isolate clears its memory at once; another isolate
 * learns of it within the TTL, so the hits of the first seconds after an endpoint subscribes may
 * have no event (docs/webhooks.md#events).
 */
import { d1Statement, hitCreatedEvents } from "./outbox";

export const HIT_WEBHOOKS_TTL_MS = 30_000;

const WANTED_SQL =
  "SELECT EXISTS (SELECT 1 FROM webhooks w, json_each(w.events) e WHERE e.value = 'hit.created') AS wanted";

/** Per D1 binding, so that a test's wrapped binding has its own. */
const known = new WeakMap<D1Database, { wanted: boolean; until: number }>();

/**
 * The statements to add to the batch that writes these hits (after their inserts): none when this
 * isolate knows that no endpoint wants `hit.created`.
 */
export function hitEventStatements(d1: D1Database, hitIds: string[]): D1PreparedStatement[] {
  const memory = known.get(d1);
  const fresh = memory !== undefined && memory.until > Date.now();
  if (fresh && !memory.wanted) return [];
  const statements = [d1Statement(d1, hitCreatedEvents(hitIds, new Date().toISOString()))];
  if (!fresh) statements.push(d1.prepare(WANTED_SQL));
  return statements;
}

/** Reads the results of {@link hitEventStatements}: the ids of the events written. */
export function hitEventsWritten(d1: D1Database, results: D1Result[]): string[] {
  const [events, wanted] = results;
  if (wanted) {
    const row = wanted.results[0] as { wanted?: number } | undefined;
    known.set(d1, { wanted: Boolean(row?.wanted), until: Date.now() + HIT_WEBHOOKS_TTL_MS });
  }
  return ((events?.results ?? []) as { id?: unknown }[])
    .map((row) => row.id)
    .filter((id): id is string => typeof id === "string");
}

/** Forgets what this isolate knew: an endpoint was created or deleted through it. */
export function forgetHitWebhooks(d1: D1Database): void {
  known.delete(d1);
}
