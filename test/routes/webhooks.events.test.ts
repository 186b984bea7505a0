/**
 * Each event type (docs/webhooks.md#events): written with its change, `data` exactly what the API
 * answers for the same object, once per change however often the request is repeated; and
 * `conversion.approved` from the scheduled job, once, across doubled runs.
 */
import { env } from "cloudflare:workers";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it } from "vitest";
import { endedHolds } from "../../src/webhooks/outbox";
import { apiJson, daysAgo, seedHit, uniqueUser } from "../support/api";
import { createLink } from "../support/db";
import { convert, converted, DUE_AT_ONCE, externalId, pay, referredUser, reverse } from "../support/money";
import {
  createWebhook,
  eventsOf,
  later,
  receiver,
  runJob,
  runScheduledHandler,
  verified,
  WEBHOOK_BINDINGS,
} from "../support/webhooks";
import { uniqueIdentifier } from "../support/worker";

const created: string[] = [];
afterEach(async () => {
  for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
});

const ALL = [
  "referral.confirmed",
  "conversion.created",
  "conversion.approved",
  "conversion.reversed",
  "payout.created",
  "link.created",
];

/** An endpoint for every type but hits, and the verified messages its receiver got. */
async function listener(events = ALL) {
  const box = receiver("ok");
  const webhook = await createWebhook(box.url, events);
  created.push(webhook.id);
  return {
    webhook,
    // biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
    messages: async (): Promise<any[]> =>
      (await box.received()).requests.map((request) => verified(webhook.secret, request)),
  };
}

const bindings = { ...DUE_AT_ONCE, ...WEBHOOK_BINDINGS };

/** The types of an endpoint's events whose body contains `needle`, in the order they were written. */
async function typesInOrder(webhookId: string, needle: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT type FROM webhook_events WHERE webhook_id = ? AND instr(payload, ?) > 0 ORDER BY rowid",
  )
    .bind(webhookId, needle)
    .all<{ type: string }>();
  return results.map((row) => row.type);
}
/** Events of one request are sent at once, in any order (at least once, unordered). */
const byType = (a: { type: string }, b: { type: string }) => a.type.localeCompare(b.type);

describe("referral.confirmed", () => {
  it("from /confirm: data is the referral /confirm answers, sent once however often it is confirmed", async () => {
    const { messages } = await listener();
    const link = await createLink(uniqueIdentifier("evt"), { userId: "ref-owner" });
    const user = uniqueUser("confirmed");
    await seedHit(link.id, { hitUserId: user, anonymousId: crypto.randomUUID(), createdAt: daysAgo(1) });
    const first = await apiJson("/confirm", { method: "POST", json: { user_id: user }, bindings });
    expect(first.status).toBe(201);
    const again = await apiJson("/confirm", { method: "POST", json: { user_id: user }, bindings });
    expect(again.status).toBe(200);
    const mine = (await messages()).filter((m) => m.type === "referral.confirmed" && m.data.user_id === user);
    expect(mine).toEqual([
      { type: "referral.confirmed", timestamp: first.body.referral.created_at, data: first.body.referral },
    ]);
  });

  it("from a conversion that confirms on its way, with its conversion.created", async () => {
    const { webhook, messages } = await listener();
    const { user } = await referredUser();
    const conversion = await converted(user, 1000, { bindings });
    const referral = await apiJson("/confirm", { method: "POST", json: { user_id: user }, bindings });
    expect(referral.status).toBe(200);
    const mine = (await messages()).filter((m) => m.data.user_id === user).sort(byType);
    expect(mine).toEqual([
      // HOLD_DAYS=0: approved from the first answer.
      { type: "conversion.approved", timestamp: conversion.approve_at, data: conversion },
      { type: "conversion.created", timestamp: conversion.created_at, data: conversion },
      {
        type: "referral.confirmed",
        timestamp: referral.body.referral.created_at,
        data: referral.body.referral,
      },
    ]);
    expect((await eventsOf(webhook.id)).filter((event) => event.payload.includes(user))).toHaveLength(3);
  });
});

describe("conversion.created, conversion.reversed, payout.created", () => {
  it("carry the objects the API answers, and a repeated request writes no new event", async () => {
    const { messages } = await listener();
    const { user, referrer } = await referredUser();
    const external = externalId();
    const first = await convert(
      { user_id: user, external_id: external, amount: 2500, currency: "EUR" },
      bindings,
    );
    expect(first.status).toBe(201);
    expect(
      (await convert({ user_id: user, external_id: external, amount: 2500, currency: "EUR" }, bindings))
        .status,
    ).toBe(200);

    const refund = await reverse(external, { reversal_id: `re-${external}`, amount: 500 }, bindings);
    expect(refund.status).toBe(201);
    expect((await reverse(external, { reversal_id: `re-${external}`, amount: 500 }, bindings)).status).toBe(
      200,
    );

    const key = crypto.randomUUID();
    const payout = await pay(referrer, "EUR", key);
    expect(payout.status).toBe(201);
    expect((await pay(referrer, "EUR", key)).status).toBe(200);
    const now = await apiJson(`/conversions/${external}`, { bindings });

    const mine = (await messages()).filter(
      (m) =>
        m.data.user_id === user ||
        m.data.conversion?.user_id === user ||
        m.data.referrer_user_id === referrer,
    );
    mine.sort(byType);
    expect(mine.map((m) => m.type)).toEqual([
      "conversion.approved", // HOLD_DAYS=0: approved from the first answer
      "conversion.created",
      "conversion.reversed",
      "payout.created",
      "referral.confirmed",
    ]);
    expect(mine[1]).toEqual({
      type: "conversion.created",
      timestamp: first.body.conversion.created_at,
      data: first.body.conversion,
    });
    expect(mine[2]).toEqual({
      type: "conversion.reversed",
      timestamp: refund.body.reversal.created_at,
      data: { conversion: refund.body.conversion, reversal: refund.body.reversal },
    });
    expect(mine[3]).toEqual({
      type: "payout.created",
      timestamp: payout.body.payout.created_at,
      data: payout.body.payout,
    });
    expect(payout.body.payout.conversions).toBe(1);
    expect(now.body.status).toBe("paid");
  });
});

describe("link.created", () => {
  it("carries the link POST /links answers, url on the request's host", async () => {
    const { messages } = await listener(["link.created"]);
    const answer = await apiJson("/links", {
      method: "POST",
      json: { user_id: "owner-evt" },
      bindings: WEBHOOK_BINDINGS,
    });
    expect(answer.status).toBe(201);
    const mine = (await messages()).filter((m) => m.data.identifier === answer.body.identifier);
    expect(mine).toEqual([{ type: "link.created", timestamp: answer.body.created_at, data: answer.body }]);
    expect(answer.body.url).toMatch(/^https:\/\/shop\.example\/ref\//);
  });
});

describe("conversion.approved", () => {
  it("is sent by the scheduled job when the hold ends, exactly once across doubled and repeated runs", async () => {
    const { webhook, messages } = await listener(["conversion.approved"]);
    const { user } = await referredUser();
    const held = { ...bindings, HOLD_DAYS: "30" };
    const conversion = await converted(user, 4000, { bindings: held });
    expect(conversion.status).toBe("pending");

    // The hold has not ended: nothing for it (other files' conversions share the database).
    await runScheduledHandler();
    const mine = async () =>
      (await eventsOf(webhook.id)).filter((event) => event.payload.includes(conversion.external_id));
    expect(await mine()).toEqual([]);

    const after = later(31 * 86_400);
    await Promise.all([runJob(after), runJob(after)]);
    await runJob(after);
    await runJob(later(32 * 86_400));

    const row = await env.DB.prepare("SELECT status FROM conversions WHERE external_id = ?")
      .bind(conversion.external_id)
      .first<{ status: string }>();
    expect(row?.status).toBe("approved");
    const approved = (await messages()).filter((m) => m.data.external_id === conversion.external_id);
    expect(approved).toEqual([
      {
        type: "conversion.approved",
        timestamp: conversion.approve_at,
        data: { ...conversion, status: "approved" },
      },
    ]);
    expect(await mine()).toEqual([
      expect.objectContaining({ type: "conversion.approved", status: "delivered", attempts: 1 }),
    ]);
  });

  it("with HOLD_DAYS=0, is written with the conversion, after conversion.created; the job adds none", async () => {
    const { webhook, messages } = await listener(["conversion.created", "conversion.approved"]);
    const { user } = await referredUser();
    const conversion = await converted(user, 1200, { bindings });
    expect(conversion.status).toBe("approved");
    await runJob(later(60));
    // Each once, written in this order (rowid order) in the conversion's batch. (Read before the
    // run a month later, whose pruning deletes delivered events older than 30 days.)
    expect(await typesInOrder(webhook.id, conversion.external_id)).toEqual([
      "conversion.created",
      "conversion.approved",
    ]);
    await runJob(later(31 * 86_400));

    const mine = (await messages()).filter((m) => m.data.external_id === conversion.external_id);
    mine.sort(byType);
    expect(mine).toEqual([
      { type: "conversion.approved", timestamp: conversion.approve_at, data: conversion },
      { type: "conversion.created", timestamp: conversion.created_at, data: conversion },
    ]);
  });

  it("a payout that takes a conversion still stored pending past its hold writes its conversion.approved, once", async () => {
    const { webhook, messages } = await listener(["conversion.approved", "payout.created"]);
    const { user, referrer } = await referredUser();
    const conversion = await converted(user, 3000, { bindings: { ...bindings, HOLD_DAYS: "30" } });
    expect(conversion.status).toBe("pending");
    // The hold ended a minute ago and the scheduled job has not run since.
    const approveAt = new Date(Date.now() - 60_000).toISOString();
    await env.DB.prepare("UPDATE conversions SET approve_at = ? WHERE external_id = ?")
      .bind(approveAt, conversion.external_id)
      .run();

    const payout = await pay(referrer, "EUR");
    expect(payout.status).toBe(201);
    expect(payout.body.payout.conversions).toBe(1);
    await Promise.all([runJob(later(60)), runJob(later(60))]);
    // Read before the run a month later, whose pruning deletes delivered events over 30 days old.
    expect(await typesInOrder(webhook.id, conversion.external_id)).toEqual(["conversion.approved"]);
    expect(await typesInOrder(webhook.id, `"referrer_user_id":"${referrer}"`)).toEqual([
      "conversion.approved",
      "payout.created",
    ]);
    await runJob(later(31 * 86_400));

    const approved = (await messages()).filter(
      (m) => m.type === "conversion.approved" && m.data.external_id === conversion.external_id,
    );
    expect(approved).toEqual([
      {
        type: "conversion.approved",
        timestamp: approveAt,
        data: { ...conversion, approve_at: approveAt, status: "approved", payout_id: null },
      },
    ]);
  });

  it("a conversion the job approved and a payout then paid has one conversion.approved", async () => {
    const { messages } = await listener(["conversion.approved"]);
    const { user, referrer } = await referredUser();
    const conversion = await converted(user, 3100, { bindings: { ...bindings, HOLD_DAYS: "30" } });
    const approveAt = new Date(Date.now() - 60_000).toISOString();
    await env.DB.prepare("UPDATE conversions SET approve_at = ? WHERE external_id = ?")
      .bind(approveAt, conversion.external_id)
      .run();
    await runJob();
    expect((await pay(referrer, "EUR")).status).toBe(201);
    await runJob(later(60));
    const approved = (await messages()).filter((m) => m.data.external_id === conversion.external_id);
    expect(approved.map((m) => [m.type, m.data.status])).toEqual([["conversion.approved", "approved"]]);
  });

  it("a wholly reversed conversion is never approved", async () => {
    const { messages } = await listener(["conversion.approved"]);
    const { user } = await referredUser();
    const conversion = await converted(user, 900, { bindings: { ...bindings, HOLD_DAYS: "30" } });
    expect(
      (await reverse(conversion.external_id, { reversal_id: `re-${conversion.external_id}` }, bindings))
        .status,
    ).toBe(201);
    await runJob(later(31 * 86_400));
    expect((await messages()).filter((m) => m.data.external_id === conversion.external_id)).toEqual([]);
  });
});

describe("the scheduled job is bounded per run", () => {
  it("approves at most 200 conversions a run, oldest hold first; the next run takes the rest", async () => {
    const { user, link } = await referredUser();
    expect((await apiJson("/confirm", { method: "POST", json: { user_id: user }, bindings })).status).toBe(
      201,
    );
    const referral = await env.DB.prepare("SELECT id FROM confirmed_referrals WHERE user_id = ?")
      .bind(user)
      .first<{ id: number }>();
    const prefix = `bulk-${crypto.randomUUID()}`;
    const ended = daysAgo(1);
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 205)
      INSERT INTO conversions (external_id, referral_id, user_id, referrer_user_id, link_id, amount, currency,
        commission, commission_rule, status, approve_at, reversed_amount, created_at, updated_at)
      SELECT ?1 || '-' || i, ?2, ?3, 'bulk-referrer', ?4, 100, 'EUR', 10, 'percent:10', 'pending', ?5, 0, ?5, ?5
      FROM n`,
    )
      .bind(prefix, referral?.id, user, link.id, ended)
      .run();
    const approved = async () =>
      (
        await env.DB.prepare(
          "SELECT COUNT(*) AS n FROM conversions WHERE external_id LIKE ? AND status = 'approved'",
        )
          .bind(`${prefix}-%`)
          .first<{ n: number }>()
      )?.n;
    await runJob();
    expect(await approved()).toBe(200);
    await runJob();
    expect(await approved()).toBe(205);
  });

  it("finds the ended holds through the pending-conversions index, not by reading every conversion", async () => {
    const { sql: text, params } = new SQLiteAsyncDialect().sqlToQuery(
      endedHolds(new Date().toISOString(), 200),
    );
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${text}`)
      .bind(...params)
      .all<{ detail: string }>();
    expect(results.map((row) => row.detail).join("\n")).toMatch(
      /USING (COVERING )?INDEX conversions_pending_approve_idx/,
    );
  });
});
