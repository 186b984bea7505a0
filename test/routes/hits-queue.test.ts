import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import type { z } from "zod";
import type { queuedHitSchema } from "../../src/hits/consume-hits";
import type { HitDraft, QueuedHit } from "../../src/hits/save-hit";
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

/** Delivers one batch to the worker's consumer; the result, and the messages' ids in order. */
async function deliver(bodies: QueuedHit[], bindings: Partial<Env> = {}) {
  const ids = bodies.map((_, i) => `m-${i}-${crypto.randomUUID()}`);
  const batch = createMessageBatch<QueuedHit>(
    "reflinks-hits",
    bodies.map((body, i) => ({ id: ids[i] ?? "", timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...bindings }, ctx);
  return { ...(await getQueueResult(batch, ctx)), ids };
}

/** A hit draft as the referral routes make it. */
function hitDraft(id = crypto.randomUUID()): HitDraft {
  const now = new Date().toISOString();
  return {
    id,
    anonymousId: crypto.randomUUID(),
    authenticated: false,
    hitUserId: null,
    ip: null,
    userAgent: "ua",
    httpReferer: null,
    next: "",
    country: null,
    confirmedAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** Collects the worker's warn and error log lines, parsed, until `restore`. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const spies = [vi.spyOn(console, "warn"), vi.spyOn(console, "error")].map((spy) =>
    spy.mockImplementation((line) => lines.push(JSON.parse(String(line)))),
  );
  return {
    lines,
    events: (event: string) => lines.filter((line) => line.event === event),
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
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

  it('a queued hit without User-Agent or Referer is stored with null, also one an older version queued with ""', async () => {
    const link = await createLink(uniqueIdentifier());
    const { queue, sent } = capturingQueue();
    const request = new Request(`https://shop.example/ref/${link.identifier}`, { redirect: "manual" });
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      request as Request<unknown, IncomingRequestCfProperties>,
      { ...env, HITS_QUEUE: queue },
      ctx,
    );
    expect(response.status).toBe(302);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.hit).toMatchObject({ userAgent: null, httpReferer: null });
    const older = {
      identifier: link.identifier,
      linkId: link.id,
      hit: { ...hitDraft(), userAgent: "", httpReferer: "" },
    };
    const result = await deliver([...sent, older]);
    expect(result.explicitAcks).toHaveLength(2);
    const hits = await hitsOf(link.id);
    expect(hits).toHaveLength(2);
    for (const hit of hits) expect(hit).toMatchObject({ userAgent: null, httpReferer: null });
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
    const result = await deliver([
      { identifier: link.identifier, linkId: null, hit: hitDraft() },
      { identifier: "never-existed", linkId: null, hit: hitDraft() },
    ]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(await hitsOf(link.id)).toHaveLength(1);
  });

  it("a failed link lookup sends only its own hits back; the rest of the batch is stored", async () => {
    const [unresolved, known] = [await createLink(uniqueIdentifier()), await createLink(uniqueIdentifier())];
    const waiting: QueuedHit = { identifier: unresolved.identifier, linkId: null, hit: hitDraft() };
    const ready: QueuedHit = { identifier: known.identifier, linkId: known.id, hit: hitDraft() };
    const logs = captureLogs();
    // D1 fails the lookup (a SELECT) once; inserts go through.
    const result = await deliver([waiting, ready, { nonsense: true } as unknown as QueuedHit], {
      DB: flakyDatabase(env.DB, 1, { only: /^select/i }).db,
    });
    const [waitingId, readyId, nonsenseId] = result.ids;
    expect(result.retryMessages).toEqual([{ msgId: waitingId }]);
    expect(result.explicitAcks.sort()).toEqual([readyId, nonsenseId].sort()); // stored, and malformed
    expect(await hitsOf(known.id)).toHaveLength(1);
    expect(logs.events("queued_hit_lookup_failed")).toEqual([
      expect.objectContaining({ message_ids: [waitingId], link: unresolved.identifier }),
    ]);
    expect(logs.events("queued_hit_malformed")).toEqual([
      expect.objectContaining({ message_id: nonsenseId }),
    ]);

    const retried = await deliver([waiting]);
    logs.restore();
    expect(retried.explicitAcks).toHaveLength(1);
    expect((await hitsOf(unresolved.id)).map((hit) => hit.id)).toEqual([waiting.hit.id]);
  });

  it("a message that is not a hit is acked and logged once with its id, never retried; the hits beside it are stored", async () => {
    const link = await createLink(uniqueIdentifier());
    const good: QueuedHit = { identifier: link.identifier, linkId: link.id, hit: hitDraft() };
    // Has a hit id, so it looks like a hit at a glance; D1 would refuse it (no created_at, ...),
    // and no retry would change that. (A real link id: the insert must fail on the missing fields,
    // not on the foreign key, which would drop it as a deleted link's hit.)
    const notAHit = { identifier: "x", linkId: link.id, hit: { id: "abc" } } as unknown as QueuedHit;
    const logs = captureLogs();
    const result = await deliver([good, notAHit]);
    logs.restore();
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual([...result.ids].sort());
    expect((await hitsOf(link.id)).map((hit) => hit.id)).toEqual([good.hit.id]);
    expect(logs.events("queued_hit_malformed")).toEqual([
      expect.objectContaining({ level: "error", message_id: result.ids[1] }),
    ]);
    // Nothing else went wrong: it never reached D1.
    expect(logs.lines.map((line) => line.event)).toEqual(["queued_hit_malformed"]);
  });

  it("every field of a queued hit is checked with its type; nulls and absent optional fields are fine", async () => {
    expectTypeOf<z.output<typeof queuedHitSchema>>().toEqualTypeOf<QueuedHit>();
    const link = await createLink(uniqueIdentifier());
    const valid = (hit: Partial<Record<keyof HitDraft, unknown>> = {}, top: Record<string, unknown> = {}) =>
      ({ identifier: link.identifier, linkId: link.id, hit: { ...hitDraft(), ...hit }, ...top }) as QueuedHit;
    const { id, createdAt, updatedAt } = hitDraft();
    const fine: QueuedHit[] = [
      valid(),
      valid({ hitUserId: "u-1", authenticated: true, anonymousId: null, ip: "203.0.113.0", country: "NZ" }),
      valid({ confirmedAt: new Date().toISOString() }),
      { identifier: link.identifier, linkId: link.id, hit: { id, createdAt, updatedAt } }, // the rest: defaults
      valid({ unknownField: 1 } as Partial<Record<keyof HitDraft, unknown>>),
      valid({}, { linkId: null }), // resolved by name
    ];
    const malformed: [string, unknown][] = [
      ["null body", null],
      ["a string", "hit"],
      ["no hit", { identifier: link.identifier, linkId: link.id }],
      ["hit null", { identifier: link.identifier, linkId: link.id, hit: null }],
      ["identifier a number", valid({}, { identifier: 5 })],
      ["identifier not one", valid({}, { identifier: "no spaces allowed" })],
      ["linkId a string", valid({}, { linkId: String(link.id) })],
      ["linkId a fraction", valid({}, { linkId: 1.5 })],
      ["linkId missing", valid({}, { linkId: undefined })],
      ["id a number", valid({ id: 5 })],
      ["id not a UUID", valid({ id: "abc" })],
      ["anonymousId not a UUID", valid({ anonymousId: "me" })],
      ["authenticated a string", valid({ authenticated: "true" })],
      ["hitUserId a number", valid({ hitUserId: 7 })],
      ["ip a number", valid({ ip: 1 })],
      ["userAgent a number", valid({ userAgent: 1 })],
      ["httpReferer a number", valid({ httpReferer: 0 })],
      ["next an object", valid({ next: {} })],
      ["country a number", valid({ country: 1 })],
      ["confirmedAt not a timestamp", valid({ confirmedAt: "yesterday" })],
      ["createdAt missing", valid({ createdAt: undefined })],
      ["createdAt not a timestamp", valid({ createdAt: "2025-13-45" })],
      ["updatedAt a number", valid({ updatedAt: Date.now() })],
    ];
    const logs = captureLogs();
    const result = await deliver([...fine, ...malformed.map(([, body]) => body as QueuedHit)]);
    logs.restore();
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(fine.length + malformed.length);
    expect((await hitsOf(link.id)).map((hit) => hit.id).sort()).toEqual(
      fine.map((body) => body.hit.id).sort(),
    );
    const logged = logs.events("queued_hit_malformed").map((line) => line.message_id);
    const unlogged = malformed.filter((_, i) => !logged.includes(result.ids[fine.length + i]));
    expect(unlogged.map(([name]) => name)).toEqual([]);
    expect(logged).toHaveLength(malformed.length);
  });

  it("through a real queue, a malformed message is logged once and acknowledged; the hits beside it are stored", async () => {
    const link = await createLink(uniqueIdentifier());
    const logs = captureLogs();
    try {
      const notAHit = { identifier: link.identifier, linkId: link.id, hit: { id: "abc" } };
      await env.TEST_HITS_QUEUE.send(notAHit as unknown as QueuedHit);
      const response = await send(`/ref/${link.identifier}`, {
        bindings: { HITS_QUEUE: env.TEST_HITS_QUEUE },
      });
      expect(response.status).toBe(302);
      await vi.waitFor(
        async () => {
          expect(await hitsOf(link.id)).toHaveLength(1);
          expect(logs.events("queued_hit_malformed")).toHaveLength(1);
        },
        { timeout: 5000, interval: 20 },
      );
      const [line] = logs.events("queued_hit_malformed");
      expect(line).toMatchObject({ message_id: expect.any(String), attempts: 1 });
      expect(logs.events("queued_hit_insert_failed")).toEqual([]);
    } finally {
      logs.restore();
    }
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
