/**
 * The scheduled job's deliveries in time (docs/webhooks.md#delivery): each attempt stamped with
 * the time it was made, and a claimed batch never claimed again while its attempts can still be
 * running. Time is the test's: receivers are stood in for by a `fetch` that answers when the test
 * says so, and the job reads a clock the test moves, so a batch of receivers that hang for the
 * whole timeout takes no real time. This file has its own storage: no other test's events are due.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runScheduledJob } from "../../src/jobs/scheduled";
import { DUE_EVENTS_PER_RUN, PARALLEL_ATTEMPTS } from "../../src/webhooks/delivery";
import { RETRY_DELAYS_SECONDS } from "../../src/webhooks/schedule";
import { apiJson } from "../support/api";
import { createWebhook, deliveriesOf, eventsOf } from "../support/webhooks";

/** Long enough that the attempts' real deadline never fires while the test runs. */
const TIMEOUT_MS = 60_000;
const BINDINGS = { ...env, WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) };

const created: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  // Deleting an endpoint deletes its events: none is left due for the next test.
  for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
});

/** The job as the Cron Trigger runs it, reading the time from `clock`. */
async function runJob(clock: () => Date): Promise<void> {
  const ctx = createExecutionContext();
  await runScheduledJob(BINDINGS, ctx, clock);
  await waitOnExecutionContext(ctx);
}

/** An endpoint with `count` events due at `due`, never tried. */
async function dueEvents(count: number, due: Date) {
  const url = `https://hooks-${crypto.randomUUID()}.example.com/reflinks`;
  const webhook = await createWebhook(url, ["link.created"]);
  created.push(webhook.id);
  const at = due.toISOString();
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)
    INSERT INTO webhook_events (id, webhook_id, type, payload, status, attempts, next_attempt_at, created_at, updated_at)
    SELECT 'msg_' || ?1 || '_' || printf('%03d', i), ?1, 'link.created', '{"type":"link.created","timestamp":"' || ?2 || '","data":{}}',
      'pending', 0, ?2, ?2, ?2 FROM n`,
  )
    .bind(webhook.id, at, count)
    .run();
  return { webhook, url };
}

interface Hanging {
  eventId: string;
  answer(): void;
}

/**
 * Receivers at `url` that hang: each request waits until all the requests the job sends at once
 * are waiting, then the test's clock moves on by the whole timeout and `whenAllWait` runs, and
 * then each gets a 503 (as if at its deadline). Once `total` requests have hung, the next ones get
 * their 503 at once. Any other URL is a 404: nothing leaves the test.
 */
function hangingReceivers(
  url: string,
  total: number,
  clock: { now: number },
  whenAllWait: (waiting: Hanging[]) => Promise<void> = async () => {},
) {
  let left = total;
  let waiting: Hanging[] = [];
  const received: string[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    const request = new Request(input, init);
    if (request.url !== url) return Promise.resolve(new Response(null, { status: 404 }));
    const eventId = request.headers.get("webhook-id") ?? "";
    received.push(eventId);
    if (left === 0) return Promise.resolve(new Response("down", { status: 503 }));
    return new Promise<Response>((resolve) => {
      waiting.push({ eventId, answer: () => resolve(new Response("down", { status: 503 })) });
      if (waiting.length < Math.min(PARALLEL_ATTEMPTS, left)) return;
      const all = waiting;
      waiting = [];
      left -= all.length;
      clock.now += TIMEOUT_MS;
      void whenAllWait(all).then(() => {
        for (const request of all) request.answer();
      });
    });
  });
  return { received };
}

describe("a scheduled run's attempts", () => {
  it("are each stamped with the time they were made, and each retry counted from its own attempt", async () => {
    const clock = { now: Date.parse("2030-01-01T00:00:00.000Z") };
    const count = PARALLEL_ATTEMPTS + 1; // two rounds: the last attempt starts a timeout later
    const { webhook, url } = await dueEvents(count, new Date(clock.now));
    const start = clock.now;
    hangingReceivers(url, count, clock);

    await runJob(() => new Date(clock.now));

    const deliveries = await deliveriesOf(webhook.id);
    expect(deliveries).toHaveLength(count);
    const stamped = await env.DB.prepare(
      "SELECT event_id, created_at FROM webhook_deliveries WHERE webhook_id = ? ORDER BY event_id",
    )
      .bind(webhook.id)
      .all<{ event_id: string; created_at: string }>();
    const offsets = stamped.results.map((row) => Date.parse(row.created_at) - start);
    // The first round answered after one timeout, the last attempt after two.
    expect(offsets.filter((offset) => offset === TIMEOUT_MS)).toHaveLength(PARALLEL_ATTEMPTS);
    expect(offsets.filter((offset) => offset === 2 * TIMEOUT_MS)).toHaveLength(1);
    // Each retry is due 5 s after its own failed attempt.
    const attemptAt = new Map(stamped.results.map((row) => [row.event_id, Date.parse(row.created_at)]));
    for (const event of await eventsOf(webhook.id)) {
      expect(event).toMatchObject({ status: "pending", attempts: 1 });
      expect(Date.parse(event.next_attempt_at ?? "")).toBe(
        (attemptAt.get(event.id) ?? 0) + (RETRY_DELAYS_SECONDS[0] ?? 0) * 1000,
      );
    }
  });
});

describe("a claimed batch", () => {
  it("is never claimed again while its attempts can still be running: a full batch of hanging receivers", async () => {
    const clock = { now: Date.parse("2031-01-01T00:00:00.000Z") };
    const { webhook, url } = await dueEvents(DUE_EVENTS_PER_RUN, new Date(clock.now));
    const claimedAt = clock.now;
    const rounds = Math.ceil(DUE_EVENTS_PER_RUN / PARALLEL_ATTEMPTS);
    let stillRunning: string[] = [];
    let againAt = 0;
    const receivers = hangingReceivers(url, DUE_EVENTS_PER_RUN, clock, async (waiting) => {
      // The last round of the batch is still waiting for its answers, which can come as late as
      // its deadline: another run now must leave these events alone.
      if (clock.now - claimedAt < rounds * TIMEOUT_MS) return;
      stillRunning = waiting.map((request) => request.eventId);
      againAt = clock.now;
      await runJob(() => new Date(againAt));
    });

    await runJob(() => new Date(clock.now));

    expect(stillRunning).toHaveLength(DUE_EVENTS_PER_RUN - (rounds - 1) * PARALLEL_ATTEMPTS);
    expect(againAt - claimedAt).toBe(rounds * TIMEOUT_MS);
    // The second run retried what had failed earlier in the batch, never an attempt in flight.
    const sentTwice = receivers.received.filter((id, i) => receivers.received.indexOf(id) !== i);
    expect(sentTwice.length).toBeGreaterThan(0);
    for (const id of stillRunning) expect(sentTwice).not.toContain(id);
    const attempts = await env.DB.prepare(
      "SELECT event_id, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? GROUP BY event_id",
    )
      .bind(webhook.id)
      .all<{ event_id: string; n: number }>();
    for (const row of attempts.results) {
      if (stillRunning.includes(row.event_id)) expect(row.n, row.event_id).toBe(1);
    }
  });
});
