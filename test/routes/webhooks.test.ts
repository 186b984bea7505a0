/**
 * Webhook endpoints through the API (docs/webhooks.md#endpoints) and the signature every delivery
 * carries, checked by the receiver's own library (`standardwebhooks`), never by our signing code.
 */
import { env } from "cloudflare:workers";
import { WebhookVerificationError } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { listRecentFailedDeliveries, retryWebhookEvent } from "../../src/webhooks";
import { apiError, apiJson } from "../support/api";
import { db } from "../support/db";
import {
  createWebhook,
  deliveriesOf,
  eventsOf,
  receiver,
  verified,
  WEBHOOK_BINDINGS,
} from "../support/webhooks";
import { uniqueIdentifier } from "../support/worker";

const created: string[] = [];
afterEach(async () => {
  // Endpoints of one test must not receive the next tests' events.
  for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
});

async function endpoint(url: string, events: string[]) {
  const webhook = await createWebhook(url, events);
  created.push(webhook.id);
  return webhook;
}

const newLink = (identifier = uniqueIdentifier("wh")) =>
  apiJson("/links", { method: "POST", json: { identifier, user_id: "alice" }, bindings: WEBHOOK_BINDINGS });

describe("POST /webhooks", () => {
  it("answers 201 with the endpoint and its secret, which no later answer shows", async () => {
    const url = receiver("ok").url;
    const answer = await apiJson("/webhooks", { method: "POST", json: { url, events: ["link.created"] } });
    expect(answer.status).toBe(201);
    created.push(answer.body.id);
    expect(answer.body).toEqual({
      id: expect.stringMatching(/^wh_[A-Za-z0-9_-]{22}$/),
      url,
      events: ["link.created"],
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(atob(answer.body.secret.slice("whsec_".length))).toHaveLength(32);

    const list = await apiJson("/webhooks");
    expect(list.status).toBe(200);
    const listed = list.body.webhooks.find((webhook: { id: string }) => webhook.id === answer.body.id);
    expect(listed).toEqual({
      id: answer.body.id,
      url,
      events: ["link.created"],
      created_at: answer.body.created_at,
    });
    expect(JSON.stringify(list.body)).not.toContain(answer.body.secret);
    // Oldest first.
    const later = await apiJson("/webhooks", { method: "POST", json: { url, events: ["link.created"] } });
    created.push(later.body.id);
    const ids = (await apiJson("/webhooks")).body.webhooks.map((webhook: { id: string }) => webhook.id);
    expect(ids.indexOf(later.body.id)).toBeGreaterThan(ids.indexOf(answer.body.id));
  });

  it.each([
    ["http://example.com/hook", "url must be https (or http to localhost or 127.0.0.1)"],
    ["http://127.0.0.2/hook", "url must be https (or http to localhost or 127.0.0.1)"],
    ["ftp://example.com/hook", "url must be https (or http to localhost or 127.0.0.1)"],
    ["javascript:alert(1)", "url must be https (or http to localhost or 127.0.0.1)"],
    ["/relative", "url must be an absolute URL"],
    ["", "url must be an absolute URL"],
    [`https://hooks.example.com/${"a".repeat(2048)}`, "url must be at most 2048 characters"],
  ])("refuses %j with 422", async (url, message) => {
    const answer = await apiJson("/webhooks", { method: "POST", json: { url, events: ["link.created"] } });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(apiError("validation_failed", message));
  });

  it.each(["https://hooks.example.com/reflinks", "http://localhost:3000/hook", "http://127.0.0.1:8000/hook"])(
    "takes %s",
    async (url) => {
      const answer = await apiJson("/webhooks", {
        method: "POST",
        json: { url, events: ["payout.created"] },
      });
      expect(answer.status).toBe(201);
      created.push(answer.body.id);
    },
  );

  it("refuses an unknown event, no event, a missing url and an unknown key with 422 naming them", async () => {
    const url = "https://hooks.example.com/x";
    const cases: [unknown, RegExp][] = [
      [{ url, events: ["link.deleted"] }, /^events\.0 must be one of referral\.confirmed, /],
      [{ url, events: [] }, /^events must name at least one event type$/],
      [{ url, events: "link.created" }, /^events must be an array of event types$/],
      [{ events: ["link.created"] }, /^url is required$/],
      [{ url, events: ["link.created"], secret: "mine" }, /^secret is not a known field$/],
    ];
    for (const [json, message] of cases) {
      const answer = await apiJson("/webhooks", { method: "POST", json });
      expect(answer.status, JSON.stringify(json)).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", message));
    }
  });
});

describe("what an endpoint receives", () => {
  it("a repeated type counts once; a change made before the endpoint existed is not sent to it", async () => {
    const before = await newLink();
    const box = receiver("ok");
    const webhook = await endpoint(box.url, ["link.created", "link.created"]);
    expect(webhook.events).toEqual(["link.created"]);
    const after = await newLink();
    const sent = (await box.received()).requests.map(
      (request) => verified(webhook.secret, request).data.identifier,
    );
    expect(sent).toEqual([after.body.identifier]);
    expect(sent).not.toContain(before.body.identifier);
  });
});

describe("DELETE /webhooks/:id", () => {
  it("answers 204, then 404; the endpoint is gone from the list", async () => {
    const webhook = await createWebhook(receiver("ok").url, ["link.created"]);
    expect((await apiJson(`/webhooks/${webhook.id}`, { method: "DELETE" })).status).toBe(204);
    const again = await apiJson(`/webhooks/${webhook.id}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(again.body).toEqual(apiError("not_found"));
    const list = await apiJson("/webhooks");
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).not.toContain(webhook.id);
  });
});

describe("a delivery", () => {
  it("is a signed POST that the standardwebhooks library verifies, made right after the response", async () => {
    const box = receiver("ok");
    const webhook = await endpoint(box.url, ["link.created"]);
    const link = await newLink();
    expect(link.status).toBe(201);

    // `send` waited for the request's waitUntil: the first attempt is made.
    const [request] = (await box.received()).requests;
    if (!request) throw new Error("nothing delivered");
    const message = verified(webhook.secret, request);
    expect(message).toEqual({ type: "link.created", timestamp: link.body.created_at, data: link.body });
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["webhook-id"]).toMatch(/^msg_/);
    expect(Number(request.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    expect(request.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

    const [event] = await eventsOf(webhook.id);
    expect(event).toMatchObject({ id: request.headers["webhook-id"], status: "delivered", attempts: 1 });
    expect(await deliveriesOf(webhook.id)).toEqual([
      expect.objectContaining({ event_id: event?.id, attempt: 1, status_code: 204, error: null }),
    ]);
  });

  it("fails verification when the body, the id, the timestamp or the secret is not what was signed", async () => {
    const box = receiver("ok");
    const webhook = await endpoint(box.url, ["link.created"]);
    await newLink();
    const [request] = (await box.received()).requests;
    if (!request) throw new Error("nothing delivered");
    const tampered = [
      { ...request, body: request.body.replace('"alice"', '"mallory"') },
      { ...request, headers: { ...request.headers, "webhook-id": "msg_other" } },
      {
        ...request,
        headers: {
          ...request.headers,
          "webhook-timestamp": String(Number(request.headers["webhook-timestamp"]) + 1),
        },
      },
    ];
    for (const forged of tampered) {
      expect(() => verified(webhook.secret, forged)).toThrow(WebhookVerificationError);
    }
    const otherSecret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
    expect(() => verified(otherSecret, request)).toThrow(WebhookVerificationError);
    expect(verified(webhook.secret, request).type).toBe("link.created");
  });

  it("goes only to endpoints subscribed to the event's type", async () => {
    const linkBox = receiver("ok");
    const payoutBox = receiver("ok");
    const links = await endpoint(linkBox.url, ["link.created"]);
    const payouts = await endpoint(payoutBox.url, ["payout.created", "conversion.created"]);
    const identifier = uniqueIdentifier("only");
    await newLink(identifier);
    expect((await eventsOf(links.id)).map((event) => JSON.parse(event.payload).data.identifier)).toEqual([
      identifier,
    ]);
    expect(await eventsOf(payouts.id)).toEqual([]);
    expect((await payoutBox.received()).requests).toEqual([]);
  });

  it("costs no D1 round trip when no endpoint is subscribed: the event statement rides in the same batch", async () => {
    const calls: string[] = [];
    const counting = new Proxy(env.DB, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === "batch") {
          return (statements: D1PreparedStatement[]) => {
            calls.push("batch");
            return target.batch(statements);
          };
        }
        if (property === "prepare") {
          return (query: string) => {
            const statement = target.prepare(query);
            return new Proxy(statement, {
              get(s, p) {
                const v = Reflect.get(s, p, s);
                if (p === "bind")
                  return (...values: unknown[]) => {
                    const bound = s.bind(...values);
                    return new Proxy(bound, {
                      get(b, q) {
                        const w = Reflect.get(b, q, b);
                        if (["run", "all", "first", "raw"].includes(String(q))) calls.push(String(q));
                        return typeof w === "function" ? w.bind(b) : w;
                      },
                    });
                  };
                if (["run", "all", "first", "raw"].includes(String(p))) calls.push(String(p));
                return typeof v === "function" ? v.bind(s) : v;
              },
            });
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const answer = await apiJson("/links", {
      method: "POST",
      json: { identifier: uniqueIdentifier("quiet") },
      bindings: { DB: counting, ...WEBHOOK_BINDINGS },
    });
    expect(answer.status).toBe(201);
    // One batch (the link and its events): no query before it, no attempt after it.
    expect(calls).toEqual(["batch"]);
  });
});

describe("GET /webhooks/:id/deliveries and POST …/retry", () => {
  it("lists attempts newest first in pages, and a retry sends the event again now", async () => {
    const box = receiver("ok");
    const webhook = await endpoint(box.url, ["link.created"]);
    for (let i = 0; i < 3; i++) await newLink();
    const first = await apiJson(`/webhooks/${webhook.id}/deliveries?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.deliveries).toHaveLength(2);
    const second = await apiJson(
      `/webhooks/${webhook.id}/deliveries?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body).toEqual({ deliveries: [expect.any(Object)], next_cursor: null });
    const all = [...first.body.deliveries, ...second.body.deliveries];
    expect(all.map((d: { id: number }) => d.id)).toEqual(
      all.map((d: { id: number }) => d.id).sort((a, b) => b - a),
    );
    const oldest = all.at(-1);
    expect(oldest).toEqual({
      id: expect.any(Number),
      webhook_id: webhook.id,
      event_id: expect.stringMatching(/^msg_/),
      attempt: 1,
      status_code: 204,
      error: null,
      duration_ms: expect.any(Number),
      created_at: expect.any(String),
    });

    const retried = await apiJson(`/webhooks/${webhook.id}/deliveries/${oldest.id}/retry`, {
      method: "POST",
      bindings: WEBHOOK_BINDINGS,
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      event_id: oldest.event_id,
      attempt: 2,
      status_code: 204,
      error: null,
    });
    expect(retried.body.id).toBeGreaterThan(all[0].id);
    const requests = (await box.received()).requests;
    expect(requests).toHaveLength(4);
    // The same event: the same id and body, signed again.
    const again = requests.at(-1);
    const original = requests.find((r) => r.headers["webhook-id"] === oldest.event_id);
    expect(again?.body).toBe(original?.body);
    if (!again) throw new Error("no retry received");
    expect(verified(webhook.secret, again).type).toBe("link.created");
  });

  it("answers 404 for an unknown endpoint or a delivery of another endpoint", async () => {
    const mine = await endpoint(receiver("ok").url, ["link.created"]);
    const other = await endpoint(receiver("ok").url, ["link.created"]);
    await newLink();
    const [delivery] = await deliveriesOf(other.id);
    expect((await apiJson("/webhooks/wh_nope/deliveries")).body).toEqual(apiError("not_found"));
    const cross = await apiJson(`/webhooks/${mine.id}/deliveries/${delivery?.id}/retry`, { method: "POST" });
    expect(cross.status).toBe(404);
    expect((await apiJson(`/webhooks/${mine.id}/deliveries/x1/retry`, { method: "POST" })).status).toBe(404);
  });
});

describe("for the dashboard", () => {
  it("listRecentFailedDeliveries lists an endpoint's failed attempts newest first; retryWebhookEvent sends one now", async () => {
    const box = receiver("fail-2");
    const webhook = await endpoint(box.url, ["link.created"]);
    const first = await newLink();
    await newLink();
    const failures = await listRecentFailedDeliveries(db, webhook.id);
    expect(failures).toHaveLength(2);
    expect(failures[0]?.id).toBeGreaterThan(failures[1]?.id ?? 0);
    expect(failures[1]).toMatchObject({
      webhook_id: webhook.id,
      attempt: 1,
      status_code: 500,
      error: "HTTP 500",
      event_type: "link.created",
      event_status: "pending",
      next_attempt_at: expect.any(String),
    });
    const oldest = failures[1];
    if (!oldest) throw new Error("no failure listed");
    const retried = await retryWebhookEvent({ ...env, ...WEBHOOK_BINDINGS }, oldest.event_id);
    expect(retried).toMatchObject({ eventId: oldest.event_id, attempt: 2, statusCode: 200, error: null });
    const [, , resent] = (await box.received()).requests;
    if (!resent) throw new Error("the retry was not received");
    expect(verified(webhook.secret, resent).data.identifier).toBe(first.body.identifier);
    expect((await listRecentFailedDeliveries(db, webhook.id)).map((f) => f.event_status).sort()).toEqual([
      "delivered",
      "pending",
    ]);
    expect(await retryWebhookEvent(env, "msg_gone")).toBeNull();
  });
});
