/**
 * Webhook endpoints and their delivery log (docs/webhooks.md): what the API routes and the
 * dashboard read and write.
 */
import { and, desc, eq, isNull, lt, notBetween, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { type Webhook, type WebhookDelivery, webhookDeliveries, webhookEvents, webhooks } from "../db/schema";
import { ipAddressBytes, isPublicIpAddress } from "../lib/ip";
import type { WebhookEventType } from "./event-types";
import { forgetHitWebhooks } from "./hit-events";
import { newWebhookId, newWebhookSecret } from "./secrets";

/** An endpoint as the API shows it: never its secret, except once when it is created. */
export interface WebhookJson {
  id: string;
  url: string;
  events: WebhookEventType[];
  created_at: string;
}

export function webhookJson(webhook: Webhook): WebhookJson {
  return {
    id: webhook.id,
    url: webhook.url,
    events: JSON.parse(webhook.events) as WebhookEventType[],
    created_at: webhook.createdAt,
  };
}

/**
 * Host name suffixes that only mean something inside a network, refused as receivers: `.localhost`
 * (RFC 6761: always loopback), `.local` (RFC 6762: multicast DNS on the local link) and
 * `.internal` (reserved for private use by ICANN in 2024; `metadata.google.internal` is Google
 * Cloud's metadata service, which hands out the machine's credentials).
 */
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal"];

const HTTPS_ONLY = "must be https (or http to localhost or 127.0.0.1)";

/**
 * Why a receiver URL is refused, or null when it is fine: `https` to a host on the public
 * Internet, or `http` to `localhost` or `127.0.0.1` (a receiver on the developer's machine). Plain
 * `http` anywhere else would send signed money events in the clear, and a receiver inside the
 * network the worker runs in (loopback, private, link-local, a metadata service) would let
 * whoever holds the API token make the worker send requests there. An IP address is judged in
 * whatever notation it was written: the URL parser has already turned `0x7f000001`, `2130706433`
 * and `127.1` into `127.0.0.1`, and `[::ffff:127.0.0.1]` into `[::ffff:7f00:1]`. A host name is
 * not resolved: one whose DNS points inside is not caught here (and DNS can change after
 * registration). A user name or password is refused rather than kept: it would be shown in
 * every listing, and it is not how a receiver authenticates a delivery (the signature is).
 */
export function receiverUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute URL";
  }
  if (parsed.username !== "" || parsed.password !== "") return "must not contain a user name or password";
  // A fully qualified name's final dot names the same host.
  const host = parsed.hostname.replace(/\.+$/, "");
  if (parsed.protocol === "http:") {
    return host === "localhost" || host === "127.0.0.1" ? null : HTTPS_ONLY;
  }
  if (parsed.protocol !== "https:") return HTTPS_ONLY;
  if (host === "localhost" || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return "must not name a local or internal host (localhost, .localhost, .local, .internal)";
  }
  const address = ipAddressBytes(host.replace(/^\[(.*)\]$/, "$1"));
  if (address && !isPublicIpAddress(address)) {
    return "must not be a loopback, private, link-local or otherwise non-public IP address";
  }
  return null;
}

/**
 * Creates an endpoint (its URL checked by {@link receiverUrlProblem}, and stored as the URL parser
 * writes it): the answer is the only time its secret is shown.
 */
export async function createWebhook(
  db: Database,
  request: { url: string; events: WebhookEventType[] },
): Promise<WebhookJson & { secret: string }> {
  const [created] = await db
    .insert(webhooks)
    .values({
      id: newWebhookId(),
      url: new URL(request.url).href,
      events: JSON.stringify([...new Set(request.events)]),
      secret: newWebhookSecret(),
      createdAt: new Date().toISOString(),
    })
    .returning();
  if (!created) throw new Error("webhook not created");
  forgetHitWebhooks(db.$client);
  return { ...webhookJson(created), secret: created.secret };
}

/** Every endpoint, oldest first. */
export async function listWebhooks(db: Database): Promise<WebhookJson[]> {
  const rows = await db.select().from(webhooks).orderBy(webhooks.createdAt, webhooks.id);
  return rows.map(webhookJson);
}

export async function findWebhook(db: Database, id: string): Promise<Webhook | null> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  return row ?? null;
}

/**
 * Deletes an endpoint and, by the foreign keys' cascade, its events and delivery log: every
 * delivery still due stops. False when there was none.
 */
export async function deleteWebhook(db: Database, id: string): Promise<boolean> {
  const deleted = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  forgetHitWebhooks(db.$client);
  return deleted.length > 0;
}

export interface DeliveryJson {
  id: number;
  webhook_id: string;
  event_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: string;
}

export function deliveryJson(delivery: WebhookDelivery): DeliveryJson {
  return {
    id: delivery.id,
    webhook_id: delivery.webhookId,
    event_id: delivery.eventId,
    attempt: delivery.attempt,
    status_code: delivery.statusCode,
    error: delivery.error,
    duration_ms: delivery.durationMs,
    created_at: delivery.createdAt,
  };
}

/** One page of an endpoint's delivery log, newest first, before the delivery `beforeId`. */
export async function listDeliveries(
  db: Database,
  webhookId: string,
  options: { beforeId?: number; limit: number },
): Promise<WebhookDelivery[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        options.beforeId === undefined ? undefined : lt(webhookDeliveries.id, options.beforeId),
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(options.limit);
}

export async function findDelivery(
  db: Database,
  webhookId: string,
  deliveryId: number,
): Promise<WebhookDelivery | null> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.id, deliveryId)))
    .limit(1);
  return row ?? null;
}

/** A failed attempt, with what the dashboard shows beside it: its event's type and state now. */
export interface FailedDelivery extends DeliveryJson {
  event_type: string;
  /** `pending` (a retry is due at `next_attempt_at`), `delivered` (a later attempt made it) or `failed`. */
  event_status: string;
  next_attempt_at: string | null;
}

/**
 * For the dashboard: an endpoint's most recent failed attempts (no answer, or not 2xx), newest
 * first. Retry one with `retryWebhookEvent(bindings, delivery.event_id)`.
 */
export async function listRecentFailedDeliveries(
  db: Database,
  webhookId: string,
  limit = 20,
): Promise<FailedDelivery[]> {
  const rows = await db
    .select({
      delivery: webhookDeliveries,
      eventType: webhookEvents.type,
      eventStatus: webhookEvents.status,
      nextAttemptAt: webhookEvents.nextAttemptAt,
    })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        or(isNull(webhookDeliveries.statusCode), notBetween(webhookDeliveries.statusCode, 200, 299)),
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit);
  return rows.map((row) => ({
    ...deliveryJson(row.delivery),
    event_type: row.eventType,
    event_status: row.eventStatus,
    next_attempt_at: row.nextAttemptAt,
  }));
}
