/**
 * The demo origin (demo/origin.mjs) as the referred visitor sees it (docs/referred-visitor.md):
 * its landing page trusts `Reflinks-Referral` only when the signature verifies, its checkout
 * applies the reward and passes a typed coupon to `POST /_reflinks/conversions`, and a purchase
 * answers 303 to its receipt (a reload buys nothing twice). The worker's API is a stub here.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOriginServer, priceWith, referralOf } from "../../demo/origin.mjs";

const TOKEN = "demo-test-token";
const VALUE = "link=demo; referrer=alice; reward=20%25%20off; at=2026-12-01T09%3A00%3A00.000Z";
const sign = (value: string, token = TOKEN) => createHmac("sha256", token).update(value).digest("hex");

/** What the stub API was sent: `POST /_reflinks/conversions` bodies. */
const conversions: Record<string, unknown>[] = [];
let api: http.Server;
let origin: ReturnType<typeof createOriginServer>;
let base = "";

const urlOf = (server: http.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const listen = (server: http.Server) =>
  new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

beforeAll(async () => {
  api = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const json = { "Content-Type": "application/json" };
      if (req.method === "POST" && req.url === "/_reflinks/conversions") {
        conversions.push(JSON.parse(body));
        return res.writeHead(404, json).end('{"error":{"code":"no_referral","message":"","request_id":"x"}}');
      }
      if (req.url?.startsWith("/_reflinks/users/")) {
        return res.writeHead(200, json).end('{"links":[],"earnings":[]}');
      }
      res.writeHead(404, json).end('{"error":{"code":"not_found","message":"","request_id":"x"}}');
    });
  });
  await listen(api);
  origin = createOriginServer({ reflinksUrl: urlOf(api), apiToken: TOKEN, accounts: ["bob"] });
  await listen(origin);
  base = urlOf(origin);
});

afterAll(async () => {
  origin.closeAllConnections();
  api.closeAllConnections();
  await new Promise((resolve) => origin.close(resolve));
  await new Promise((resolve) => api.close(resolve));
});

async function signedIn(): Promise<string> {
  const response = await fetch(`${base}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "username=bob",
    redirect: "manual",
  });
  expect(response.status).toBe(303);
  return (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
}

describe("the demo's landing page", () => {
  it("says who gave the visitor what, from a header signed with the API token", async () => {
    const page = await (
      await fetch(`${base}/`, {
        headers: { "Reflinks-Referral": VALUE, "Reflinks-Referral-Signature": sign(VALUE) },
      })
    ).text();
    expect(page).toContain("alice gave you 20% off");
  });

  it("ignores a header signed with another key, or changed after signing, or unsigned", async () => {
    const forged: Record<string, string>[] = [
      { "Reflinks-Referral": VALUE, "Reflinks-Referral-Signature": sign(VALUE, "not-the-token") },
      { "Reflinks-Referral": VALUE.replace("alice", "mallory"), "Reflinks-Referral-Signature": sign(VALUE) },
      { "Reflinks-Referral": VALUE },
      { "Reflinks-Referral": VALUE, "Reflinks-Referral-Signature": "00" },
    ];
    for (const headers of forged) {
      const page = await (await fetch(`${base}/`, { headers })).text();
      expect(page).not.toContain("gave you");
    }
  });

  it("decodes each value; a link without reward promises nothing", () => {
    expect(
      referralOf({ "reflinks-referral": VALUE, "reflinks-referral-signature": sign(VALUE) }, TOKEN),
    ).toEqual({ link: "demo", referrer: "alice", reward: "20% off", at: "2026-12-01T09:00:00.000Z" });
    const bare = "link=x; at=2026-12-01T09%3A00%3A00.000Z";
    expect(
      referralOf({ "reflinks-referral": bare, "reflinks-referral-signature": sign(bare) }, TOKEN),
    ).toEqual({
      link: "x",
      referrer: null,
      reward: null,
      at: "2026-12-01T09:00:00.000Z",
    });
  });
});

describe("the demo's checkout", () => {
  it("takes N% off the price; other rewards change nothing", () => {
    expect(priceWith("20% off")).toBe(640);
    expect(priceWith("12.5% off")).toBe(800);
    expect(priceWith("a free month")).toBe(800);
    expect(priceWith(null)).toBe(800);
    expect(priceWith("100%")).toBe(0);
  });

  it("applies the reward, passes the typed coupon, and answers 303 to a receipt", async () => {
    const cookie = await signedIn();
    const referral = { "Reflinks-Referral": VALUE, "Reflinks-Referral-Signature": sign(VALUE) };
    const account = await (
      await fetch(`${base}/account`, { headers: { Cookie: cookie, ...referral } })
    ).text();
    expect(account).toContain("alice gave you 20% off: applied, you pay 6.40 USD instead of 8.00 USD");

    const before = conversions.length;
    const bought = await fetch(`${base}/purchase`, {
      method: "POST",
      headers: { Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded", ...referral },
      body: "coupon=PODCAST20",
      redirect: "manual",
    });
    expect(bought.status).toBe(303);
    const location = bought.headers.get("Location") ?? "";
    expect(location).toMatch(/^\/receipt\?order=order_/);
    expect(conversions.slice(before)).toEqual([
      expect.objectContaining({ user_id: "bob", amount: 640, currency: "USD", coupon: "PODCAST20" }),
    ]);

    const receipt = await fetch(`${base}${location}`, { headers: { Cookie: cookie } });
    expect(receipt.status).toBe(200);
    const text = await receipt.text();
    expect(text).toContain("6.40 USD (20% off applied), coupon <code>PODCAST20</code>");
    expect(text).not.toContain("cents");
    // Reloading the receipt buys nothing.
    await (await fetch(`${base}${location}`, { headers: { Cookie: cookie } })).text();
    expect(conversions.length).toBe(before + 1);
  });

  it("sends no coupon when none was typed, and the full price without a verified referral", async () => {
    const cookie = await signedIn();
    const before = conversions.length;
    const bought = await fetch(`${base}/purchase`, {
      method: "POST",
      headers: { Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded" },
      body: "coupon=",
      redirect: "manual",
    });
    expect(bought.status).toBe(303);
    expect(conversions.slice(before)).toHaveLength(1);
    expect(conversions[before]).toMatchObject({ amount: 800 });
    expect(conversions[before]).not.toHaveProperty("coupon");
  });

  it("another user's receipt is 404", async () => {
    const response = await fetch(`${base}/receipt?order=order_nope`, {
      headers: { Cookie: await signedIn() },
    });
    expect(response.status).toBe(404);
    await response.text();
  });
});

describe("the demo's webhook receiver", () => {
  /** A Standard Webhooks delivery of `event`, signed with `secret` as reflinks signs it. */
  function deliver(secret: string, id: string, event: { type: string; timestamp: string; data: unknown }) {
    const body = JSON.stringify(event);
    const timestamp = new Date();
    const signature = new Webhook(secret).sign(id, timestamp, body);
    return fetch(`${base}/webhooks/reflinks`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body,
    });
  }

  it("refuses the first delivery of a payout.created on purpose (503) and takes the retry (README step 5)", async () => {
    const secret = `whsec_${Buffer.from("demo-origin-test-secret-32-bytes").toString("base64")}`;
    origin.setWebhookSecret(secret);
    const payout = {
      type: "payout.created",
      timestamp: "2026-12-08T01:00:00.000Z",
      data: { id: 7, referrer_user_id: "alice", amount: 160, currency: "USD" },
    };
    const first = await deliver(secret, "msg_payout_7", payout);
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("5");
    let page = await (await fetch(`${base}/webhooks`)).text();
    expect(page).toContain("answered 503 on purpose: reflinks retries it 5 s later");

    const retry = await deliver(secret, "msg_payout_7", payout);
    expect(retry.status).toBe(204);
    page = await (await fetch(`${base}/webhooks`)).text();
    expect(page).toContain("delivered again by reflinks's retry, 2 attempts in all");

    // Any other event is taken the first time.
    const link = await deliver(secret, "msg_link_1", {
      type: "link.created",
      timestamp: "2026-12-08T01:00:00.000Z",
      data: { identifier: "x" },
    });
    expect(link.status).toBe(204);
  });
});
