/**
 * The scheduled job's pruning of webhook events (docs/webhooks.md#the-scheduled-job): delivered
 * and failed events older than 30 days are deleted with their delivery log, pending ones never;
 * bounded per run, oldest first, idempotent.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { SCHEDULED_TASKS } from "../../src/jobs/scheduled";
import { DELETE_OLD, deleteOldEvents, WEBHOOK_EVENTS_KEPT_DAYS } from "../../src/jobs/webhook-events-pruning";
import { apiJson } from "../support/api";
import { createWebhook, receiver, runJob, WEBHOOK_BINDINGS } from "../support/webhooks";

const created: string[] = [];
afterEach(async () => {
  for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
});

const DAY = 86_400_000;

async function endpoint() {
  const webhook = await createWebhook(receiver("ok").url, ["hit.created"]);
  created.push(webhook.id);
  return webhook.id;
}

/** An event of `webhookId`, `days` old, in `status`, with `attempts` rows in its delivery log. */
async function event(
  webhookId: string,
  name: string,
  status: string,
  days: number,
  now: number,
  attempts = 1,
) {
  const id = `msg_${webhookId.slice(3)}_hit.created_${name}`;
  const at = new Date(now - days * DAY).toISOString();
  await env.DB.prepare(
    "INSERT INTO webhook_events (id, webhook_id, type, payload, status, attempts, next_attempt_at, created_at, updated_at) " +
      "VALUES (?1, ?2, 'hit.created', '{}', ?3, ?4, ?5, ?6, ?6)",
  )
    .bind(
      id,
      webhookId,
      status,
      attempts,
      status === "pending" ? new Date(now + DAY).toISOString() : null,
      at,
    )
    .run();
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await env.DB.prepare(
      "INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status_code, error, duration_ms, created_at) " +
        "VALUES (?1, ?2, ?3, 500, 'HTTP 500', 3, ?4)",
    )
      .bind(webhookId, id, attempt, at)
      .run();
  }
  return id;
}

async function left(webhookId: string) {
  const events = await env.DB.prepare("SELECT id FROM webhook_events WHERE webhook_id = ?1 ORDER BY id")
    .bind(webhookId)
    .all<{ id: string }>();
  const deliveries = await env.DB.prepare(
    "SELECT DISTINCT event_id AS id FROM webhook_deliveries WHERE webhook_id = ?1 ORDER BY event_id",
  )
    .bind(webhookId)
    .all<{ id: string }>();
  return { events: events.results.map((row) => row.id), deliveries: deliveries.results.map((row) => row.id) };
}

describe("webhook events pruning", () => {
  it("deletes delivered and failed events older than 30 days with their deliveries; keeps pending and recent ones", async () => {
    expect(WEBHOOK_EVENTS_KEPT_DAYS).toBe(30);
    const now = Date.now();
    const webhookId = await endpoint();
    await event(webhookId, "old-delivered", "delivered", 31, now);
    await event(webhookId, "old-failed", "failed", 40, now, 10);
    const oldPending = await event(webhookId, "old-pending", "pending", 45, now, 3);
    const recent = await event(webhookId, "recent-delivered", "delivered", 29, now);
    const recentFailed = await event(webhookId, "recent-failed", "failed", 1, now);

    const task = SCHEDULED_TASKS.webhook_events_pruning;
    expect(task).toBeDefined();
    const done = await task?.(
      { ...env, ...WEBHOOK_BINDINGS },
      undefined as unknown as ExecutionContext,
      () => new Date(now),
    );
    expect(done).toMatchObject({ deleted: 2 });
    const kept = [oldPending, recent, recentFailed].sort();
    expect(await left(webhookId)).toEqual({ events: kept, deliveries: kept });

    // Idempotent: a doubled or later run at the same time finds nothing more.
    expect(await task?.(env, undefined as unknown as ExecutionContext, () => new Date(now))).toMatchObject({
      deleted: 0,
    });
    expect((await left(webhookId)).events).toEqual(kept);
  });

  it("is bounded per run, oldest first; the next run takes the rest", async () => {
    const now = Date.now();
    const webhookId = await endpoint();
    // Older than anything else in this file's storage, so that these are the oldest done events.
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await event(webhookId, `bulk-${i}`, "delivered", 400 - i, now));
    const cutoff = new Date(now - 30 * DAY).toISOString();
    expect(await deleteOldEvents(env.DB, cutoff, { rows: 2, batches: 2 })).toEqual({
      deleted: 4,
      batches: 2,
    });
    expect((await left(webhookId)).events).toEqual([ids[4]]);
    expect(await deleteOldEvents(env.DB, cutoff, { rows: 2, batches: 2 })).toMatchObject({ deleted: 1 });
    expect((await left(webhookId)).events).toEqual([]);
  });

  it("runs as a task of the scheduled job", async () => {
    const now = Date.now();
    const webhookId = await endpoint();
    await event(webhookId, "job-delivered", "delivered", 60, now);
    await runJob(new Date(now));
    expect(await left(webhookId)).toEqual({ events: [], deliveries: [] });
  });

  it("finds the events through the done-events index, oldest first, not by reading every event", async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${DELETE_OLD}`)
      .bind(new Date().toISOString(), 200)
      .all<{ detail: string }>();
    const plan = results.map((row) => row.detail).join("\n");
    expect(plan).toMatch(/SEARCH webhook_events USING INDEX webhook_events_done_idx \(created_at<\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
  });
});
