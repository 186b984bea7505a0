/**
 * `hit.created` (docs/webhooks.md#events): every recorded click, from the referral route and
 * from the queue consumer, with the hit as the API lists it; and what it costs a click when no
 * endpoint wants it (src/webhooks/hit-events.ts).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { QueuedHit } from "../../src/hits/save-hit";
import worker from "../../src/index";
import { apiJson } from "../support/api";
import { createLink } from "../support/db";
import { createWebhook, eventsOf, receiver, verified, WEBHOOK_BINDINGS } from "../support/webhooks";
import { send, uniqueIdentifier } from "../support/worker";

const created: string[] = [];
afterEach(async () => {
  for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
});

async function hitListener() {
  const box = receiver("ok");
  const webhook = await createWebhook(box.url, ["hit.created"]);
  created.push(webhook.id);
  return {
    webhook,
    // biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
    messages: async (): Promise<any[]> =>
      (await box.received()).requests.map((request) => verified(webhook.secret, request)),
  };
}

/** A D1 binding that records the SQL of every statement run, alone or in a batch. */
function recordingDatabase() {
  const calls: { kind: string; sql: string[] }[] = [];
  const sqlOf = new WeakMap<object, string>();
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        if (["run", "all", "first", "raw"].includes(String(property))) {
          calls.push({ kind: String(property), sql: [sql] });
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    sqlOf.set(wrapped, sql);
    return wrapped;
  };
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          calls.push({ kind: "batch", sql: statements.map((statement) => sqlOf.get(statement) ?? "?") });
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, calls };
}

describe("hit.created", () => {
  it("is sent for a click on a referral link, with the hit as GET /links/:identifier/hits lists it", async () => {
    const { messages } = await hitListener();
    const link = await createLink(uniqueIdentifier("hook-hit"));
    const click = await send(`/ref/${link.identifier}`, { bindings: WEBHOOK_BINDINGS });
    expect(click.status).toBe(302);
    const listed = await apiJson(`/links/${link.identifier}/hits`);
    expect(listed.body.hits).toHaveLength(1);
    const hit = listed.body.hits[0];
    expect((await messages()).filter((m) => m.data.link === link.identifier)).toEqual([
      { type: "hit.created", timestamp: hit.created_at, data: hit },
    ]);
  });

  it("is sent for hits the queue consumer writes, once however often a batch is redelivered", async () => {
    const { webhook, messages } = await hitListener();
    const link = await createLink(uniqueIdentifier("hook-queue"));
    const now = new Date().toISOString();
    const body: QueuedHit = {
      identifier: link.identifier,
      linkId: link.id,
      hit: {
        id: crypto.randomUUID(),
        anonymousId: crypto.randomUUID(),
        next: "/",
        createdAt: now,
        updatedAt: now,
      },
    };
    for (let delivery = 0; delivery < 2; delivery++) {
      const batch = createMessageBatch<QueuedHit>("reflinks-hits", [
        { id: `m-${delivery}`, timestamp: new Date(), attempts: delivery + 1, body },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, { ...env, ...WEBHOOK_BINDINGS }, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`m-${delivery}`]);
    }
    const mine = (await messages()).filter((m) => m.data.link === link.identifier);
    expect(mine.map((m) => m.data.id)).toEqual([body.hit.id]);
    expect((await eventsOf(webhook.id)).filter((event) => event.payload.includes(body.hit.id))).toHaveLength(
      1,
    );
  });

  it("costs a click nothing when no endpoint wants it: one insert, after one batch that asked", async () => {
    const recording = recordingDatabase();
    const link = await createLink(uniqueIdentifier("hook-cost"));
    for (let i = 0; i < 3; i++) {
      const click = await send(`/ref/${link.identifier}`, { bindings: { DB: recording.db } });
      expect(click.status).toBe(302);
    }
    const hitWrites = recording.calls.filter((call) =>
      call.sql.some((sql) => sql.startsWith("INSERT INTO referral_hits")),
    );
    expect(hitWrites.map((call) => [call.kind, call.sql.length])).toEqual([
      ["batch", 3], // the insert, the (empty) outbox statement, and the question
      ["run", 1],
      ["run", 1],
    ]);
  });
});
