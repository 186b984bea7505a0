/**
 * Delivering the outbox (docs/webhooks.md#delivery): nothing committed is lost, retries follow
 * the schedule and stop at `failed`, deletion stops them, bursts are each delivered, and hostile
 * receivers cost one bounded attempt. Receivers are on the stub origin; the scheduled job is run
 * at later times to stand for waiting.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { timeoutOf } from "../../src/webhooks/attempt";
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS } from "../../src/webhooks/schedule";
import { apiJson } from "../support/api";
import { flakyDatabase } from "../support/faults";
import {
  createWebhook,
  deliveriesOf,
  eventsOf,
  later,
  receiver,
  runJob,
  runScheduledHandler,
  TEST_TIMEOUT_MS,
  verified,
  WEBHOOK_BINDINGS,
} from "../support/webhooks";
import { uniqueIdentifier } from "../support/worker";

const created: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
});

async function endpoint(url: string, events = ["link.created"]) {
  const webhook = await createWebhook(url, events);
  created.push(webhook.id);
  return webhook;
}

const newLink = (identifier = uniqueIdentifier("dl")) =>
  apiJson("/links", { method: "POST", json: { identifier }, bindings: WEBHOOK_BINDINGS });

describe("nothing committed is lost", () => {
  it("when the first attempt throws (D1 fails after the change), the event is still there and the scheduled handler sends it", async () => {
    const box = receiver("ok");
    const webhook = await endpoint(box.url);
    // The change's batch goes through; the first attempt's claim fails, as an outage would.
    const flaky = flakyDatabase(env.DB, 1, { only: /^\s*UPDATE webhook_events/ });
    const identifier = uniqueIdentifier("crash");
    const answer = await apiJson("/links", {
      method: "POST",
      json: { identifier },
      bindings: { DB: flaky.db, ...WEBHOOK_BINDINGS },
    });
    expect(answer.status).toBe(201);
    expect(flaky.refused).toBe(1);
    expect(await eventsOf(webhook.id)).toEqual([expect.objectContaining({ status: "pending", attempts: 0 })]);
    expect((await box.received()).requests).toEqual([]);

    await runScheduledHandler();
    const [request] = (await box.received()).requests;
    if (!request) throw new Error("the job sent nothing");
    expect(verified(webhook.secret, request).data.identifier).toBe(identifier);
    expect(await eventsOf(webhook.id)).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 1 }),
    ]);
  });

  it("an attempt lost mid-way (the worker stopped after claiming it) is made again once its lease ends", async () => {
    const box = receiver("ok");
    const webhook = await endpoint(box.url);
    const flaky = flakyDatabase(env.DB, 1, { only: /^\s*UPDATE webhook_events/ });
    await apiJson("/links", {
      method: "POST",
      json: { identifier: uniqueIdentifier("lost") },
      bindings: { DB: flaky.db, ...WEBHOOK_BINDINGS },
    });
    // As a claim leaves it: the attempt counted, the event left alone until the lease ends.
    const lease = later(61).toISOString();
    await env.DB.prepare("UPDATE webhook_events SET attempts = 1, next_attempt_at = ? WHERE webhook_id = ?")
      .bind(lease, webhook.id)
      .run();
    await runJob(later(30));
    expect((await box.received()).requests).toHaveLength(0);
    await runJob(new Date(lease));
    expect((await box.received()).requests).toHaveLength(1);
    expect(await deliveriesOf(webhook.id)).toEqual([
      expect.objectContaining({ attempt: 2, status_code: 204 }),
    ]);
    expect(await eventsOf(webhook.id)).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 2 }),
    ]);
  });

  it("a receiver that is down at the first attempt gets the event from the job once it is back", async () => {
    const box = receiver("fail-1");
    const webhook = await endpoint(box.url);
    await newLink();
    const [event] = await eventsOf(webhook.id);
    expect(event).toMatchObject({ status: "pending", attempts: 1 });
    // Not due before 5 s have passed since the failure.
    await runJob(later(1));
    expect((await box.received()).requests).toHaveLength(1);
    await runJob(later(6));
    const requests = (await box.received()).requests;
    expect(requests).toHaveLength(2);
    expect(requests[1]?.headers["webhook-id"]).toBe(event?.id);
    expect(requests[1]?.body).toBe(requests[0]?.body);
    expect(await eventsOf(webhook.id)).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 2 }),
    ]);
  });
});

describe("retries", () => {
  it("a receiver that fails twice then recovers: three attempts recorded, the same event each time, then delivered", async () => {
    const box = receiver("fail-2");
    const webhook = await endpoint(box.url);
    await newLink();
    const start = Date.now();
    await runJob(later(6, start));
    await runJob(later(6 + 301, start));
    const requests = (await box.received()).requests;
    expect(requests).toHaveLength(3);
    for (const request of requests) expect(verified(webhook.secret, request).type).toBe("link.created");
    expect(new Set(requests.map((request) => request.headers["webhook-id"])).size).toBe(1);
    expect(new Set(requests.map((request) => request.body)).size).toBe(1);
    expect(
      (await deliveriesOf(webhook.id)).map(({ attempt, status_code }) => [attempt, status_code]),
    ).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    const deliveries = await deliveriesOf(webhook.id);
    expect(deliveries[0]?.error).toBe("HTTP 500");
    expect(deliveries[2]?.error).toBeNull();
    expect(await eventsOf(webhook.id)).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 3, next_attempt_at: null }),
    ]);
  });

  it("follow the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), then the event is failed", async () => {
    expect(RETRY_DELAYS_SECONDS).toEqual([5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    expect(MAX_ATTEMPTS).toBe(10);
    const box = receiver("status-503");
    const webhook = await endpoint(box.url);
    await newLink();
    let clock = Date.now();
    const gaps: number[] = [];
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const [event] = await eventsOf(webhook.id);
      expect(event).toMatchObject({ status: "pending", attempts: attempt });
      const due = Date.parse(event?.next_attempt_at ?? "");
      // A run just before it is due sends nothing.
      await runJob(new Date(due - 1000));
      expect((await box.received()).requests).toHaveLength(attempt);
      gaps.push(Math.round((due - clock) / 1000));
      clock = due;
      await runJob(new Date(due));
    }
    // The first gap is counted from the first attempt, made just now: allow the test's own time.
    expect(gaps[0]).toBeGreaterThanOrEqual(5);
    expect(gaps[0]).toBeLessThan(15);
    expect(gaps.slice(1)).toEqual(RETRY_DELAYS_SECONDS.slice(1));
    expect(await eventsOf(webhook.id)).toEqual([
      expect.objectContaining({ status: "failed", attempts: 10, next_attempt_at: null }),
    ]);
    // Failed is final: a run a day later sends nothing.
    await runJob(later(86_400 * 4));
    expect((await box.received()).requests).toHaveLength(10);
    expect((await deliveriesOf(webhook.id)).map((delivery) => delivery.attempt)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it("a manual retry of a failed event that succeeds marks it delivered", async () => {
    const box = receiver("fail-10");
    const webhook = await endpoint(box.url);
    await newLink();
    await env.DB.prepare(
      "UPDATE webhook_events SET status = 'failed', attempts = 10, next_attempt_at = NULL WHERE webhook_id = ?",
    )
      .bind(webhook.id)
      .run();
    // The receiver still fails its 2nd request: the failed event stays failed.
    const [first] = await deliveriesOf(webhook.id);
    const failing = await apiJson(`/webhooks/${webhook.id}/deliveries/${first?.id}/retry`, {
      method: "POST",
      bindings: WEBHOOK_BINDINGS,
    });
    expect(failing.body).toMatchObject({ attempt: 11, status_code: 500 });
    expect(await eventsOf(webhook.id)).toEqual([expect.objectContaining({ status: "failed" })]);
    // Make the box recover: it answers 200 from its 11th request on.
    for (let i = 0; i < 8; i++) await fetch(box.url, { method: "POST", body: "{}" });
    const ok = await apiJson(`/webhooks/${webhook.id}/deliveries/${first?.id}/retry`, {
      method: "POST",
      bindings: WEBHOOK_BINDINGS,
    });
    expect(ok.body).toMatchObject({ attempt: 12, status_code: 200, error: null });
    expect(await eventsOf(webhook.id)).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 12 }),
    ]);
  });
});

describe("a manual retry that fails", () => {
  it("leaves a delivered event delivered, and reschedules a pending one from now", async () => {
    const ok = receiver("ok");
    const down = receiver("status-503");
    const webhook = await endpoint(ok.url);
    await newLink();
    const [delivered] = await deliveriesOf(webhook.id);
    // The endpoint now points at a receiver that is down.
    await env.DB.prepare("UPDATE webhooks SET url = ? WHERE id = ?").bind(down.url, webhook.id).run();
    const again = await apiJson(`/webhooks/${webhook.id}/deliveries/${delivered?.id}/retry`, {
      method: "POST",
      bindings: WEBHOOK_BINDINGS,
    });
    expect(again.body).toMatchObject({ attempt: 2, status_code: 503 });
    expect(await eventsOf(webhook.id)).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 2, next_attempt_at: null }),
    ]);

    await newLink();
    const pending = (await eventsOf(webhook.id)).find((event) => event.status === "pending");
    expect(pending).toMatchObject({ attempts: 1 });
    const [failed] = (await deliveriesOf(webhook.id)).filter((delivery) => delivery.event_id === pending?.id);
    const before = Date.now();
    const retried = await apiJson(`/webhooks/${webhook.id}/deliveries/${failed?.id}/retry`, {
      method: "POST",
      bindings: WEBHOOK_BINDINGS,
    });
    expect(retried.body).toMatchObject({ attempt: 2, status_code: 503 });
    const rescheduled = (await eventsOf(webhook.id)).find((event) => event.id === pending?.id);
    expect(rescheduled).toMatchObject({ status: "pending", attempts: 2 });
    // After a second failed attempt the next is due 5 minutes later.
    const due = Date.parse(rescheduled?.next_attempt_at ?? "") - before;
    expect(due).toBeGreaterThanOrEqual(299_000);
    expect(due).toBeLessThan(310_000);
  });
});

describe("deletion", () => {
  it("stops every delivery still due: nothing more is sent, and the log is gone", async () => {
    const box = receiver("status-503");
    const webhook = await createWebhook(box.url, ["link.created"]);
    await newLink();
    await newLink();
    expect(await eventsOf(webhook.id)).toHaveLength(2);
    expect((await apiJson(`/webhooks/${webhook.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await eventsOf(webhook.id)).toEqual([]);
    expect(await deliveriesOf(webhook.id)).toEqual([]);
    await runJob(later(3600));
    await newLink();
    expect((await box.received()).requests).toHaveLength(2);
    expect((await apiJson(`/webhooks/${webhook.id}/deliveries`)).status).toBe(404);
  });
});

describe("a burst", () => {
  it("of 25 concurrent changes: each event is delivered exactly once", async () => {
    const box = receiver("ok");
    const webhook = await endpoint(box.url);
    const identifiers = Array.from({ length: 25 }, () => uniqueIdentifier("burst"));
    const answers = await Promise.all(identifiers.map((identifier) => newLink(identifier)));
    expect(answers.map((answer) => answer.status)).toEqual(identifiers.map(() => 201));
    // A job run racing nothing left to send changes nothing.
    await runJob(later(60));
    const requests = (await box.received()).requests;
    const delivered = requests.map((request) => verified(webhook.secret, request).data.identifier);
    expect(delivered.sort()).toEqual([...identifiers].sort());
    const events = await eventsOf(webhook.id);
    expect(events).toHaveLength(25);
    expect(events.every((event) => event.status === "delivered" && event.attempts === 1)).toBe(true);
  });

  it("two job runs at once claim each due attempt once", async () => {
    const box = receiver("fail-8");
    const webhook = await endpoint(box.url);
    for (let i = 0; i < 8; i++) await newLink();
    expect((await box.received()).requests).toHaveLength(8);
    const at = later(10);
    await Promise.all([runJob(at), runJob(at)]);
    const requests = (await box.received()).requests;
    expect(requests).toHaveLength(16);
    const events = await eventsOf(webhook.id);
    expect(events.every((event) => event.status === "delivered" && event.attempts === 2)).toBe(true);
  });
});

describe("hostile receivers cost one bounded attempt", () => {
  it("a receiver that never answers: the attempt ends at the timeout, no status, retried later", async () => {
    const box = receiver("hang");
    const webhook = await endpoint(box.url);
    await newLink();
    const [delivery] = await deliveriesOf(webhook.id);
    expect(delivery).toMatchObject({
      attempt: 1,
      status_code: null,
      error: `no answer within ${TEST_TIMEOUT_MS} ms`,
    });
    // Tests shorten it with WEBHOOK_TIMEOUT_MS; unset, it is 10 s.
    expect(timeoutOf({})).toBe(10_000);
    expect(delivery?.duration_ms).toBeGreaterThanOrEqual(Number(TEST_TIMEOUT_MS) - 5);
    expect(delivery?.duration_ms).toBeLessThan(Number(TEST_TIMEOUT_MS) + 1500);
    expect(await eventsOf(webhook.id)).toEqual([expect.objectContaining({ status: "pending", attempts: 1 })]);
    expect((await box.received()).requests).toHaveLength(1);
  });

  it("a redirect is not followed: a failed attempt with its status, logged", async () => {
    const box = receiver("redirect");
    const webhook = await endpoint(box.url);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await newLink();
    const logged = warn.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(logged).toContainEqual(
      expect.objectContaining({
        event: "webhook_attempt_failed",
        webhook_id: webhook.id,
        attempt: 1,
        status_code: 307,
      }),
    );
    expect(await deliveriesOf(webhook.id)).toEqual([
      expect.objectContaining({ status_code: 307, error: "HTTP 307" }),
    ]);
    // Only the redirecting request reached the box: its `ok` target was never asked.
    expect((await box.received()).requests).toHaveLength(1);
    expect(await eventsOf(webhook.id)).toEqual([expect.objectContaining({ status: "pending" })]);
  });

  it("a 100 MB answer: its body is not read, nor downloaded", async () => {
    const box = receiver("huge");
    const webhook = await endpoint(box.url);
    const started = Date.now();
    await newLink();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await deliveriesOf(webhook.id)).toEqual([
      expect.objectContaining({ status_code: 200, error: null }),
    ]);
    const { hugeBytesSent, hugeFinished } = await box.received();
    expect(hugeFinished).toBe(false);
    // Socket buffers hold a few MB at most: nowhere near the 100 MB.
    expect(hugeBytesSent).toBeLessThan(16 * 1024 * 1024);
  });

  it("an error answer's body is not kept: the log has its status code", async () => {
    const box = receiver("status-418");
    const webhook = await endpoint(box.url);
    await newLink();
    const deliveries = await deliveriesOf(webhook.id);
    expect(deliveries).toEqual([expect.objectContaining({ status_code: 418, error: "HTTP 418" })]);
    expect(JSON.stringify(deliveries)).not.toContain("status 418");
  });

  it("a 100 MB error answer: none of it is kept, and the rest is never downloaded", async () => {
    const box = receiver("huge-500");
    const webhook = await endpoint(box.url);
    const started = Date.now();
    await newLink();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await deliveriesOf(webhook.id)).toEqual([
      expect.objectContaining({ status_code: 500, error: "HTTP 500" }),
    ]);
    const { hugeBytesSent, hugeFinished } = await box.received();
    expect(hugeFinished).toBe(false);
    expect(hugeBytesSent).toBeLessThan(16 * 1024 * 1024);
  });
});

describe("a scheduled run is bounded", () => {
  it("sends at most 60 due events; the next run sends the rest", async () => {
    const box = receiver("ok");
    const webhook = await endpoint(box.url);
    const now = new Date().toISOString();
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 70)
      INSERT INTO webhook_events (id, webhook_id, type, payload, status, attempts, next_attempt_at, created_at, updated_at)
      SELECT 'msg_bulk_' || ?1 || '_' || i, ?1, 'link.created', '{"type":"link.created","timestamp":"' || ?2 || '","data":{}}',
        'pending', 0, ?2, ?2, ?2 FROM n`,
    )
      .bind(webhook.id, now)
      .run();
    await runJob(later(1));
    expect((await box.received()).requests).toHaveLength(60);
    await runJob(later(2));
    expect((await box.received()).requests).toHaveLength(70);
    expect((await eventsOf(webhook.id)).every((event) => event.status === "delivered")).toBe(true);
  });
});
