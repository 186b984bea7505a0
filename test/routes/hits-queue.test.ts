import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { QueuedHit } from "../../src/hits/save-hit";
import worker from "../../src/index";
import { createLink, hitsOf } from "../support/db";
import { flakyDatabase } from "../support/faults";
import { send, uniqueIdentifier } from "../support/worker";

/** A queue binding that keeps what it is sent, for the test to deliver. */
function capturingQueue() {
  const sent: QueuedHit[] = [];
  const queue = {
    async send(body: QueuedHit) {
      sent.push(structuredClone(body));
    },
    async sendBatch() {
      throw new Error("not used");
    },
  } as unknown as Queue<QueuedHit>;
  return { queue, sent };
}

async function deliver(bodies: QueuedHit[], bindings: Partial<Env> = {}) {
  const batch = createMessageBatch<QueuedHit>(
    "reflinks-hits",
    bodies.map((body, i) => ({
      id: `m-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...bindings }, ctx);
  return getQueueResult(batch, ctx);
}

describe("hits through HITS_QUEUE", () => {
  it("the redirect hands the hit to the queue; the consumer stores it, and a redelivery adds nothing", async () => {
    const link = await createLink(uniqueIdentifier());
    const { queue, sent } = capturingQueue();
    const response = await send(`/ref/${link.identifier}?next=/q`, { bindings: { HITS_QUEUE: queue } });
    expect(response.status).toBe(302);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ identifier: link.identifier, linkId: link.id, hit: { next: "/q" } });
    expect(await hitsOf(link.id)).toHaveLength(0); // not written on the visitor's path

    const first = await deliver(sent);
    expect(first.explicitAcks).toHaveLength(1);
    expect(await hitsOf(link.id)).toHaveLength(1);

    const again = await deliver(sent);
    expect(again.explicitAcks).toHaveLength(1);
    expect(again.retryMessages).toEqual([]);
    const hits = await hitsOf(link.id);
    expect(hits.map((hit) => hit.id)).toEqual([sent[0]?.hit.id]);
  });

  it("when the queue refuses the hit, it is written directly instead", async () => {
    const link = await createLink(uniqueIdentifier());
    const refusing = {
      send: () => Promise.reject(new Error("Queue send failed: injected")),
    } as unknown as Queue<QueuedHit>;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send(`/ref/${link.identifier}`, { bindings: { HITS_QUEUE: refusing } });
    expect(response.status).toBe(302);
    expect(await hitsOf(link.id)).toHaveLength(1);
    warn.mockRestore();
  });

  it("inserts a batch of many hits in one go, across D1's parameter limit", async () => {
    const link = await createLink(uniqueIdentifier());
    const { queue, sent } = capturingQueue();
    for (let i = 0; i < 30; i++) {
      await send(`/?ref=${link.identifier}&i=${i}`, { bindings: { HITS_QUEUE: queue } });
    }
    const result = await deliver(sent);
    expect(result.explicitAcks).toHaveLength(30);
    expect(await hitsOf(link.id)).toHaveLength(30);
  });

  it("a failed batch insert is retried hit by hit; none is lost", async () => {
    const link = await createLink(uniqueIdentifier());
    const { queue, sent } = capturingQueue();
    for (let i = 0; i < 3; i++) await send(`/ref/${link.identifier}`, { bindings: { HITS_QUEUE: queue } });
    const flaky = flakyDatabase(env.DB, 1);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const result = await deliver(sent, { DB: flaky.db });
    warn.mockRestore();
    expect(flaky.refused).toBe(1);
    expect(result.explicitAcks).toHaveLength(3);
    expect(await hitsOf(link.id)).toHaveLength(3);
  });

  it("asks the queue to retry hits D1 will not take, and drops hits of deleted links", async () => {
    const link = await createLink(uniqueIdentifier());
    const doomed = await createLink(uniqueIdentifier());
    const { queue, sent } = capturingQueue();
    await send(`/ref/${link.identifier}`, { bindings: { HITS_QUEUE: queue } });
    await send(`/ref/${doomed.identifier}`, { bindings: { HITS_QUEUE: queue } });
    await env.DB.prepare("DELETE FROM referral_links WHERE id = ?").bind(doomed.id).run();

    const quiet = [vi.spyOn(console, "warn"), vi.spyOn(console, "error")].map((spy) =>
      spy.mockImplementation(() => {}),
    );
    // D1 down for the batch and the first single insert: the live link's hit goes back to the queue;
    // the deleted link's hit then fails on its foreign key and is dropped.
    const down = await deliver(sent, { DB: flakyDatabase(env.DB, 2).db });
    expect(down.retryMessages).toHaveLength(1);
    expect(down.explicitAcks).toHaveLength(1); // the deleted link's hit: dropped
    const up = await deliver(sent.slice(0, 1));
    for (const spy of quiet) spy.mockRestore();
    expect(up.explicitAcks).toHaveLength(1);
    expect(await hitsOf(link.id)).toHaveLength(1);
  });

  it("a hit whose link lookup failed is resolved by the consumer", async () => {
    const link = await createLink(uniqueIdentifier());
    const draft = {
      id: crypto.randomUUID(),
      anonymousId: crypto.randomUUID(),
      authenticated: false,
      hitUserId: null,
      ip: null,
      userAgent: "ua",
      httpReferer: "",
      next: "",
      country: null,
      confirmedAt: null,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const result = await deliver([
      { identifier: link.identifier, linkId: null, hit: draft },
      { identifier: "never-existed", linkId: null, hit: { ...draft, id: crypto.randomUUID() } },
    ]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(await hitsOf(link.id)).toHaveLength(1);
  });

  it("a failed link lookup sends only its own hits back; the rest of the batch is stored", async () => {
    const [unresolved, known] = [await createLink(uniqueIdentifier()), await createLink(uniqueIdentifier())];
    const draft = (id = crypto.randomUUID()) => ({
      id,
      anonymousId: crypto.randomUUID(),
      authenticated: false,
      hitUserId: null,
      ip: null,
      userAgent: "ua",
      httpReferer: "",
      next: "",
      country: null,
      confirmedAt: null,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    const waiting: QueuedHit = { identifier: unresolved.identifier, linkId: null, hit: draft() };
    const ready: QueuedHit = { identifier: known.identifier, linkId: known.id, hit: draft() };
    const lines: string[] = [];
    const quiet = [vi.spyOn(console, "warn"), vi.spyOn(console, "error")].map((spy) =>
      spy.mockImplementation((line) => lines.push(String(line))),
    );
    // D1 fails the lookup (a SELECT) once; inserts go through.
    const result = await deliver([waiting, ready, { nonsense: true } as unknown as QueuedHit], {
      DB: flakyDatabase(env.DB, 1, { only: /^select/i }).db,
    });
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(2); // the stored hit, and the malformed message
    expect(await hitsOf(known.id)).toHaveLength(1);
    expect(lines.join("\n")).toMatch(/queued_hit_lookup_failed/);
    expect(lines.join("\n")).toMatch(/queued_hit_malformed/);

    const retried = await deliver([waiting]);
    for (const spy of quiet) spy.mockRestore();
    expect(retried.explicitAcks).toHaveLength(1);
    expect((await hitsOf(unresolved.id)).map((hit) => hit.id)).toEqual([waiting.hit.id]);
  });

  it("works end to end through a real queue in the Workers runtime", async () => {
    const link = await createLink(uniqueIdentifier());
    for (let i = 0; i < 4; i++) {
      const response = await send(`/ref/${link.identifier}`, {
        bindings: { HITS_QUEUE: env.TEST_HITS_QUEUE },
      });
      expect(response.status).toBe(302);
    }
    await vi.waitFor(async () => expect(await hitsOf(link.id)).toHaveLength(4), {
      timeout: 5000,
      interval: 20,
    });
  });
});
