/**
 * Helpers for the webhook tests (docs/webhooks.md): receivers on the stub origin
 * (test/node/stub-origin.ts, `/webhook-receiver/<box>/<behaviour>`), endpoints registered through
 * the API, the scheduled job run as the Cron Trigger would, and the outbox read from D1.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import type { AppBindings } from "../../src/bindings";
import worker from "../../src/index";
import { runScheduledJob } from "../../src/jobs/scheduled";
import { clockFrom } from "../../src/lib/clock";
import { apiJson } from "./api";

/** Short, so that a hanging receiver left by one test costs the others little. */
export const TEST_TIMEOUT_MS = "500";
export const WEBHOOK_BINDINGS: Partial<AppBindings> = { WEBHOOK_TIMEOUT_MS: TEST_TIMEOUT_MS };

export interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
}

export interface Receiver {
  url: string;
  /** What the receiver got so far. */
  received(): Promise<{ requests: ReceivedRequest[]; hugeBytesSent: number; hugeFinished: boolean }>;
}

/** A receiver of its own on the stub origin: `behaviour` is `ok`, `fail-N`, `status-N`, `redirect`, `hang`, `huge` or `huge-N`. */
export function receiver(behaviour: string): Receiver {
  const base = `${env.ORIGIN_URL}/webhook-receiver/${crypto.randomUUID()}`;
  return {
    url: `${base}/${behaviour}`,
    received: async () => (await fetch(`${base}/received`)).json(),
  };
}

export interface CreatedWebhook {
  id: string;
  url: string;
  events: string[];
  secret: string;
  created_at: string;
}

export async function createWebhook(url: string, events: string[]): Promise<CreatedWebhook> {
  const created = await apiJson<CreatedWebhook>("/webhooks", { method: "POST", json: { url, events } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

/**
 * The job as the Cron Trigger runs it, at `now` (a later time stands for waiting); its clock then
 * runs on at the real pace, so each attempt is stamped when it is made.
 */
export async function runJob(now = new Date()): Promise<void> {
  const ctx = createExecutionContext();
  await runScheduledJob({ ...env, ...WEBHOOK_BINDINGS }, ctx, clockFrom(now));
  await waitOnExecutionContext(ctx);
}

/** The worker's own `scheduled` export, called as the runtime calls it. */
export async function runScheduledHandler(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled?.(createScheduledController(), { ...env, ...WEBHOOK_BINDINGS }, ctx);
  await waitOnExecutionContext(ctx);
}

export const later = (seconds: number, from = Date.now()) => new Date(from + seconds * 1000);

export interface EventRow {
  id: string;
  webhook_id: string;
  type: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
}

export async function eventsOf(webhookId: string): Promise<EventRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM webhook_events WHERE webhook_id = ? ORDER BY created_at, id",
  )
    .bind(webhookId)
    .all<EventRow>();
  return results;
}

export interface DeliveryRow {
  id: number;
  event_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export async function deliveriesOf(webhookId: string): Promise<DeliveryRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id",
  )
    .bind(webhookId)
    .all<DeliveryRow>();
  return results;
}

/**
 * What the receiver's code does with the real `standardwebhooks` library: verify the request
 * with the endpoint's secret, then parse it. Throws when the signature does not hold.
 */
export function verified(secret: string, request: ReceivedRequest) {
  // biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
  return new Webhook(secret).verify(request.body, request.headers) as any;
}
