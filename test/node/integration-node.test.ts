/**
 * The Node integration (integrations/node) against real Express and real sockets: the login header
 * middleware, the fetch client, the webhook handler fed deliveries signed by `standardwebhooks`.
 */
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import express, { type Request } from "express";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ConfirmResult,
  createReflinksClient,
  ReflinksError,
  reflinksUser,
  reflinksWebhook,
  signUser,
  userHeaders,
  verifyWebhook,
  WebhookVerificationError,
} from "../../integrations/node/index.js";

const TOKEN = "node-integration-token";
const sign = (value: string) => createHmac("sha256", TOKEN).update(value).digest("hex");

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type SessionRequest = Request & { userId?: string };

/** A site with a cookie "session" holding the user id, and the reflinks middleware after it. */
function site() {
  const app = express();
  app.use((req: SessionRequest, _res, next) => {
    const match = /(?:^|; )uid=([^;]+)/.exec(req.headers.cookie ?? "");
    if (match?.[1]) req.userId = decodeURIComponent(match[1]);
    next();
  });
  app.use(reflinksUser({ apiToken: TOKEN, getUser: (req: SessionRequest) => req.userId }));
  app.get("/", (req: SessionRequest, res) => {
    res.send(`Hello, ${req.userId ?? "nobody"}`);
  });
  app.post("/login/:id", (req: SessionRequest, res) => {
    req.userId = String(req.params.id);
    res.cookie("uid", req.userId).redirect(303, "/");
  });
  app.post("/logout", (req: SessionRequest, res) => {
    req.userId = undefined;
    res.clearCookie("uid").redirect(303, "/");
  });
  app.get("/referral", (req, res) => {
    res.json({ referral: req.reflinksReferral });
  });
  app.get("/stream", (_req, res) => {
    res.write("chunk");
    res.end();
  });
  return serve(app);
}

describe("reflinksUser, the Express middleware", () => {
  it("sends nothing to a signed-out visitor", async () => {
    const response = await fetch(await site());
    expect(await response.text()).toBe("Hello, nobody");
    expect(response.headers.has("reflinks-user")).toBe(false);
    expect(response.headers.has("reflinks-user-signature")).toBe(false);
  });

  it("names the user, signed, on the login response and every later response", async () => {
    const url = await site();
    const login = await fetch(`${url}/login/b%C3%B6b`, { method: "POST", redirect: "manual" });
    expect(login.status).toBe(303);
    expect(login.headers.get("reflinks-user")).toBe("b%C3%B6b");
    expect(login.headers.get("reflinks-user-signature")).toBe(sign("b%C3%B6b"));
    for (const path of ["/", "/stream"]) {
      const page = await fetch(`${url}${path}`, { headers: { Cookie: "uid=42" } });
      await page.text();
      expect(page.headers.get("reflinks-user")).toBe("42");
      expect(page.headers.get("reflinks-user-signature")).toBe(sign("42"));
    }
  });

  it("sends the empty value, signed, on the response that logged the user out", async () => {
    const url = await site();
    const logout = await fetch(`${url}/logout`, {
      method: "POST",
      headers: { Cookie: "uid=42" },
      redirect: "manual",
    });
    expect(logout.headers.get("reflinks-user")).toBe("");
    expect(logout.headers.get("reflinks-user-signature")).toBe(sign(""));
  });

  it("refuses to start without a token", () => {
    expect(() => reflinksUser({ apiToken: "", getUser: () => null })).toThrow(/apiToken/);
  });

  const REFERRAL = "link=alice-1; referrer=alice; reward=20%25%20off; at=2026-12-01T09%3A00%3A00.000Z";

  it("sets req.reflinksReferral from a Reflinks-Referral header signed with the token", async () => {
    const response = await fetch(`${await site()}/referral`, {
      headers: { "Reflinks-Referral": REFERRAL, "Reflinks-Referral-Signature": sign(REFERRAL) },
    });
    expect(await response.json()).toEqual({
      referral: { link: "alice-1", referrer: "alice", reward: "20% off", at: "2026-12-01T09:00:00.000Z" },
    });
  });

  it("sets req.reflinksReferral to null without a header or with a forged one", async () => {
    const url = await site();
    const forged = createHmac("sha256", "another-token").update(REFERRAL).digest("hex");
    const cases: Record<string, string>[] = [
      {},
      { "Reflinks-Referral": REFERRAL },
      { "Reflinks-Referral": REFERRAL, "Reflinks-Referral-Signature": forged },
      {
        "Reflinks-Referral": REFERRAL.replace("alice", "mallory"),
        "Reflinks-Referral-Signature": sign(REFERRAL),
      },
      { "Reflinks-Referral": REFERRAL, "Reflinks-Referral-Signature": sign(REFERRAL).toUpperCase() },
    ];
    for (const headers of cases) {
      const response = await fetch(`${url}/referral`, { headers });
      expect(await response.json()).toEqual({ referral: null });
    }
  });

  it("has plain headers for fetch-based frameworks", () => {
    expect(userHeaders(7, TOKEN)).toEqual({ "Reflinks-User": "7", "Reflinks-User-Signature": sign("7") });
    expect(signUser(null, TOKEN)).toEqual({ value: "", signature: sign("") });
    const response = new Response("ok", { headers: userHeaders("a b", TOKEN) });
    expect(response.headers.get("reflinks-user")).toBe("a%20b");
  });
});

interface Call {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

/** A stand-in for the API: answers from a script (the last answer repeats), records every call. */
async function stubApi(answers: Array<[number, unknown] | "hang">) {
  const calls: Call[] = [];
  const url = await serve(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    calls.push({
      method: req.method ?? "",
      url: req.url ?? "",
      authorization: req.headers.authorization,
      body: raw ? JSON.parse(raw) : null,
    });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer === "hang" || answer === undefined) return; // never answers
    res.writeHead(answer[0], { "Content-Type": "application/json" }).end(JSON.stringify(answer[1]));
  });
  return { url, calls };
}

const user = { id: 42, createdAt: new Date("2026-11-24T09:00:00Z") };
const referral = {
  id: 7,
  user_id: "42",
  event: "signup",
  link: "alice-1",
  referrer_user_id: "alice",
  hit_id: "h",
  created_at: "2026-11-24T10:00:00.000Z",
};

describe("createReflinksClient", () => {
  it("confirms with the user's id, the event and signed_up_at, typed from the OpenAPI document", async () => {
    const api = await stubApi([[201, { created: true, referral }]]);
    const reflinks = createReflinksClient({ baseUrl: `${api.url}/`, apiToken: "tok" });
    const result: ConfirmResult | null = await reflinks.confirm(user, "purchase");
    const id: number | undefined = result?.referral.id;
    expect(id).toBe(7);
    expect(api.calls).toEqual([
      {
        method: "POST",
        url: "/_reflinks/confirm",
        authorization: "Bearer tok",
        body: { user_id: "42", event: "purchase", signed_up_at: "2026-11-24T09:00:00.000Z" },
      },
    ]);
  });

  it("answers null for a user who was not referred", async () => {
    const api = await stubApi([[404, { error: { code: "no_referral", message: "no qualifying hit" } }]]);
    const reflinks = createReflinksClient({ baseUrl: api.url, apiToken: "tok" });
    expect(await reflinks.confirm(user)).toBeNull();
    expect(await reflinks.conversion(user, "in_1", 800, "USD")).toBeNull();
  });

  it("retries a 5xx and a timeout with the same body, and gives up after the last retry", async () => {
    const api = await stubApi([
      [503, { error: { code: "unavailable", message: "D1" } }],
      "hang",
      [200, { created: false, referral }],
    ]);
    const reflinks = createReflinksClient({
      baseUrl: api.url,
      apiToken: "tok",
      timeoutMs: 300,
      backoffMs: 5,
    });
    expect((await reflinks.confirm(user))?.created).toBe(false);
    expect(api.calls).toHaveLength(3);
    expect(new Set(api.calls.map((c) => JSON.stringify(c.body))).size).toBe(1);

    const down = await stubApi(["hang"]);
    const patient = createReflinksClient({
      baseUrl: down.url,
      apiToken: "tok",
      timeoutMs: 200,
      retries: 1,
      backoffMs: 5,
    });
    await expect(patient.userSummary(user)).rejects.toThrow();
    expect(down.calls).toHaveLength(2);
  });

  it("does not retry a 4xx, and names its code", async () => {
    const api = await stubApi([[409, { error: { code: "conflict", message: "external_id used" } }]]);
    const reflinks = createReflinksClient({ baseUrl: api.url, apiToken: "tok", backoffMs: 5 });
    const error = await reflinks.conversion(user, "in_1", 800, "USD").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReflinksError);
    expect(error).toMatchObject({ status: 409, code: "conflict" });
    expect(api.calls).toHaveLength(1);
  });

  it("calls the conversion, reversal, user and report routes", async () => {
    const api = await stubApi([[200, { rows: [] }]]);
    const reflinks = createReflinksClient({ baseUrl: api.url, apiToken: "tok" });
    await reflinks.conversion(user, "in/1", 800, "EUR");
    await reflinks.reverse("in/1", "re_1", 300);
    await reflinks.userSummary("böb");
    expect(await reflinks.report({ from: "2026-11-01" })).toEqual([]);
    expect(api.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "POST /_reflinks/conversions",
      "POST /_reflinks/conversions/in%2F1/reverse",
      "GET /_reflinks/users/b%C3%B6b",
      "GET /_reflinks/reports/links?from=2026-11-01",
    ]);
    expect(api.calls[0]?.body).toEqual({
      user_id: "42",
      external_id: "in/1",
      amount: 800,
      currency: "EUR",
      event: "signup",
      signed_up_at: "2026-11-24T09:00:00.000Z",
    });
    expect(api.calls[1]?.body).toEqual({ reversal_id: "re_1", amount: 300 });
  });
});

describe("reflinksWebhook and verifyWebhook, fed deliveries signed by standardwebhooks", () => {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const body = JSON.stringify({
    type: "referral.confirmed",
    timestamp: "2026-11-24T10:00:00.000Z",
    data: referral,
  });

  async function receiver(onEvent: (event: unknown, meta: { webhookId: string }) => unknown) {
    const app = express();
    app.post("/webhooks/reflinks", reflinksWebhook({ secret, onEvent }));
    app.use(express.json()); // a JSON parser for the rest of the site does not get in the way
    return serve(app);
  }
  const deliver = (url: string, id: string, at: Date, signature: string, payload = body) =>
    fetch(`${url}/webhooks/reflinks`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: payload,
    });

  it("passes a verified event to onEvent and answers 204", async () => {
    const events: unknown[] = [];
    const url = await receiver((event, meta) => events.push({ event, meta }));
    const now = new Date();
    const response = await deliver(url, "msg_1", now, new Webhook(secret).sign("msg_1", now, body));
    expect(response.status).toBe(204);
    expect(events).toEqual([{ event: JSON.parse(body), meta: { webhookId: "msg_1" } }]);
  });

  it("answers 400 to a tampered body, another secret and a stale timestamp, without calling onEvent", async () => {
    const events: unknown[] = [];
    const url = await receiver((event) => events.push(event));
    const now = new Date();
    const stale = new Date(Date.now() - 6 * 60 * 1000);
    const other = new Webhook(`whsec_${randomBytes(32).toString("base64")}`);
    const statuses = [
      (await deliver(url, "m", now, new Webhook(secret).sign("m", now, body), body.replace("7", "8"))).status,
      (await deliver(url, "m", now, other.sign("m", now, body))).status,
      (await deliver(url, "m", stale, new Webhook(secret).sign("m", stale, body))).status,
    ];
    expect(statuses).toEqual([400, 400, 400]);
    expect(events).toEqual([]);
  });

  it("answers an error when onEvent throws, so that reflinks retries", async () => {
    const url = await receiver(() => {
      throw new Error("database down");
    });
    const now = new Date();
    const response = await deliver(url, "msg_2", now, new Webhook(secret).sign("msg_2", now, body));
    expect(response.status).toBe(500);
  });

  it("takes the raw body from express.raw() when the site parses bodies first", async () => {
    const events: unknown[] = [];
    const app = express();
    app.post(
      "/webhooks/reflinks",
      express.raw({ type: "application/json" }),
      reflinksWebhook({ secret, onEvent: (event) => events.push(event) }),
    );
    const url = await serve(app);
    const now = new Date();
    const response = await deliver(url, "msg_3", now, new Webhook(secret).sign("msg_3", now, body));
    expect(response.status).toBe(204);
    expect(events).toEqual([JSON.parse(body)]);
  });

  it("verifyWebhook accepts a fetch Headers object and throws WebhookVerificationError", () => {
    const now = new Date();
    const headers = new Headers({
      "webhook-id": "m",
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign("m", now, body),
    });
    expect(verifyWebhook(secret, body, headers).type).toBe("referral.confirmed");
    expect(() => verifyWebhook(secret, `${body} `, headers)).toThrow(WebhookVerificationError);
  });
});

describe("installing reflinks-node", () => {
  it("npm install --install-links from the repository's path gives a site outside it the package and its dependency", () => {
    const site = mkdtempSync(path.join(tmpdir(), "reflinks-npm-"));
    try {
      writeFileSync(
        path.join(site, "package.json"),
        JSON.stringify({ name: "site", private: true, type: "module" }),
      );
      const npm = process.platform === "win32" ? "npm.cmd" : "npm";
      const install = spawnSync(
        npm,
        [
          "install",
          "--install-links",
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
          path.resolve("integrations/node"),
        ],
        { cwd: site, encoding: "utf8" },
      );
      expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
      writeFileSync(
        path.join(site, "check.mjs"),
        'import { userHeaders, verifyWebhook } from "reflinks-node";\n' +
          'console.log(JSON.stringify(userHeaders("böb", "t")), typeof verifyWebhook);\n',
      );
      const check = spawnSync(process.execPath, ["check.mjs"], { cwd: site, encoding: "utf8" });
      expect(check.status, check.stderr).toBe(0);
      expect(check.stdout).toContain('"Reflinks-User":"b%C3%B6b"');
      expect(check.stdout).toContain("function");
    } finally {
      rmSync(site, { recursive: true, force: true });
    }
  });
});
