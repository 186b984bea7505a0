/**
 * Webhooks over real HTTP (docs/webhooks.md): `wrangler dev --test-scheduled` in front of the demo
 * origin, and a receiver of the test's own that verifies every delivery with the
 * `standardwebhooks` library, as a site's receiver would. A visitor's click, a signup and a
 * purchase cause the events; the receiver is down for the first `conversion.created`, and the
 * scheduled job (`/__scheduled`) delivers it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOriginServer, registerDemoWebhook } from "../../demo/origin.mjs";
import { BROWSER_UA, type Stack, startStack } from "./harness.ts";
import { navigate } from "./navigate.ts";

const LINK = "hooks-link";
const BUYER = `hook-buyer-${Date.now()}`;

// biome-ignore lint/suspicious/noExplicitAny: the test asserts on the shape.
type Message = { id: string; status: number; body: string; event: any };

/** A site's receiver: verifies each delivery, and answers 503 to the first conversion.created. */
function startReceiver() {
  const messages: Message[] = [];
  const waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  let secret = "";
  let failedOnce = false;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event: unknown;
      try {
        event = new Webhook(secret).verify(body, request.headers as Record<string, string>);
      } catch {
        response.writeHead(400).end("bad signature");
        return;
      }
      const down = (event as { type: string }).type === "conversion.created" && !failedOnce;
      if (down) failedOnce = true;
      const message = { id: String(request.headers["webhook-id"]), status: down ? 503 : 204, body, event };
      messages.push(message);
      response.writeHead(message.status).end();
      for (const waiter of [...waiters]) {
        if (waiter.test(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  });
  return {
    server,
    messages,
    setSecret: (value: string) => {
      secret = value;
    },
    /** The first delivery, already received or still to come, that passes `test`. */
    received(test: (m: Message) => boolean): Promise<Message> {
      const found = messages.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

let stack: Stack;
const receiver = startReceiver();
let receiverUrl = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks/reflinks`;
  stack = await startStack({
    links: [{ identifier: LINK, userId: "alice" }],
    vars: { COMMISSION: "percent:20" },
    testScheduled: true,
  });
});

afterAll(async () => {
  await stack?.stop();
  receiver.server.closeAllConnections();
  await new Promise((resolve) => receiver.server.close(resolve));
});

function api(path: string, init: { method?: string; json?: unknown } = {}) {
  return fetch(`${stack.workerUrl}/_reflinks${path}`, {
    method: init.method ?? "GET",
    headers: { Authorization: `Bearer ${stack.apiToken}`, "Content-Type": "application/json" },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}

let webhookId = "";

describe("webhooks end to end", () => {
  it("registers an endpoint; its secret verifies the first delivery (link.created)", async () => {
    const created = await api("/webhooks", {
      method: "POST",
      json: {
        url: receiverUrl,
        events: ["link.created", "referral.confirmed", "conversion.created", "hit.created"],
      },
    });
    expect(created.status).toBe(201);
    const webhook = await created.json();
    webhookId = webhook.id;
    receiver.setSecret(webhook.secret);

    const link = await api("/links", { method: "POST", json: { identifier: "hooks-made-here" } });
    expect(link.status).toBe(201);
    const linkJson = await link.json();
    const message = await receiver.received((m) => m.event.type === "link.created");
    expect(message.event).toEqual({ type: "link.created", timestamp: linkJson.created_at, data: linkJson });
  });

  it("a visitor's click, login and purchase: hit.created, referral.confirmed and conversion.created, verified", async () => {
    const click = await navigate(`${stack.workerUrl}/ref/${LINK}`, { headers: { "User-Agent": BROWSER_UA } });
    expect(click.status).toBe(302);
    const visitor = /reflinks_rk=([0-9a-f-]{36})/.exec(click.headers.get("set-cookie") ?? "")?.[1];
    expect(visitor).toBeDefined();
    // The hit is written after the redirect: wait for it before the login reconciles it.
    for (let tries = 0; ; tries++) {
      const hits = await (await api(`/links/${LINK}/hits`)).json();
      if (hits.hits.length > 0) break;
      if (tries > 100) throw new Error("the click's hit was never written");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const hit = await receiver.received((m) => m.event.type === "hit.created");
    expect(hit.event.data).toMatchObject({ link: LINK, anonymous_id: visitor, authenticated: false });
    const login = await api("/reconcile", {
      method: "POST",
      json: { user_id: BUYER, anonymous_id: visitor },
    });
    expect(await login.json()).toEqual({ updated: 1 });

    const purchase = await api("/conversions", {
      method: "POST",
      json: { user_id: BUYER, external_id: `in_${BUYER}`, amount: 1000, currency: "USD" },
    });
    expect(purchase.status).toBe(201);
    const { conversion } = await purchase.json();

    const confirmed = await receiver.received((m) => m.event.type === "referral.confirmed");
    expect(confirmed.event.data).toMatchObject({ user_id: BUYER, link: LINK, referrer_user_id: "alice" });
    // The receiver was down for the first attempt.
    const refused = await receiver.received((m) => m.event.type === "conversion.created");
    expect(refused.status).toBe(503);
    expect(refused.event.data).toEqual(conversion);
  });

  it("the scheduled job (/__scheduled) retries the refused delivery: the same event, delivered", async () => {
    const first = receiver.messages.find((m) => m.event.type === "conversion.created");
    const delivered = receiver.received((m) => m.event.type === "conversion.created" && m.status === 204);
    // The retry is due 5 s after the failure: run the job until it is made.
    let done = false;
    void delivered.then(() => {
      done = true;
    });
    const deadline = Date.now() + 60_000;
    while (!done && Date.now() < deadline) {
      const run = await fetch(`${stack.workerUrl}/__scheduled?cron=*+*+*+*+*`);
      expect(run.status).toBe(200);
      await run.text();
      await Promise.race([delivered, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    }
    const retried = await delivered;
    expect(retried.id).toBe(first?.id);
    expect(retried.body).toBe(first?.body);

    const log = await (await api(`/webhooks/${webhookId}/deliveries`)).json();
    const attempts = log.deliveries
      .filter((delivery: { event_id: string }) => delivery.event_id === retried.id)
      .map((delivery: { attempt: number; status_code: number }) => [delivery.attempt, delivery.status_code]);
    expect(attempts).toEqual([
      [2, 204],
      [1, 503],
    ]);
  });

  it("the demo origin (as npm start runs it) registers its receiver once, and shows the deliveries it verified", async () => {
    // It refuses the first delivery of one event type on purpose (npm start's: payout.created), so
    // that the README's step 5 shows a retry: here link.created, which this test can cause.
    const demo = createOriginServer({
      reflinksUrl: stack.workerUrl,
      apiToken: stack.apiToken,
      refuseFirst: "link.created",
    });
    await new Promise<void>((resolve) => demo.listen(0, "127.0.0.1", resolve));
    const demoUrl = `http://127.0.0.1:${(demo.address() as AddressInfo).port}`;
    try {
      const register = () =>
        registerDemoWebhook({
          reflinksUrl: stack.workerUrl,
          apiToken: stack.apiToken,
          receiverUrl: `${demoUrl}/webhooks/reflinks`,
        });
      await register();
      // A second start replaces the first registration: one demo endpoint, the new secret.
      demo.setWebhookSecret(await register());
      const { webhooks } = await (await api("/webhooks")).json();
      const demos = webhooks.filter((webhook: { url: string }) => webhook.url.endsWith("/webhooks/reflinks"));
      expect(demos).toHaveLength(1);
      expect(demos[0].events).toContain("hit.created");

      const link = await api("/links", { method: "POST", json: { identifier: "shown-by-the-demo" } });
      expect(link.status).toBe(201);
      let page = "";
      for (let tries = 0; !page.includes("shown-by-the-demo") && tries < 100; tries++) {
        if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100));
        page = await (await fetch(`${demoUrl}/webhooks`)).text();
      }
      expect(page).toContain("<code>link.created</code>");
      expect(page).toContain(`/ref/shown-by-the-demo`);
      expect(page).toContain("answered 503 on purpose: reflinks retries it 5 s later");

      // The retry is due 5 s after the refusal: the scheduled job delivers it once due.
      const deadline = Date.now() + 60_000;
      while (!page.includes("delivered again by reflinks's retry") && Date.now() < deadline) {
        const run = await fetch(`${stack.workerUrl}/__scheduled?cron=*+*+*+*+*`);
        expect(run.status).toBe(200);
        await run.text();
        page = await (await fetch(`${demoUrl}/webhooks`)).text();
        if (!page.includes("delivered again")) await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      expect(page).toContain("delivered again by reflinks's retry, 2 attempts in all");

      // A delivery it cannot verify is refused and counted, never shown.
      const forged = await fetch(`${demoUrl}/webhooks/reflinks`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "webhook-id": "msg_forged",
          "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
          "webhook-signature": "v1,AAAA",
        },
        body: JSON.stringify({ type: "payout.created", timestamp: "x", data: {} }),
      });
      expect(forged.status).toBe(400);
      page = await (await fetch(`${demoUrl}/webhooks`)).text();
      expect(page).toContain("1 rejected: bad signature");
      expect(page).not.toContain("msg_forged");
    } finally {
      demo.closeAllConnections();
      await new Promise((resolve) => demo.close(resolve));
    }
  });
});
