/**
 * An Express site with reflinks-node behind the worker under `wrangler dev`, over real HTTP: a
 * visitor clicks a link, signs up (the middleware's signed header signs the browser in at the
 * worker), buys (the client confirms the referral exactly once), logs out, and the site's webhook
 * route receives the worker's real, signed referral.confirmed delivery.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Request } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createReflinksClient,
  type ReflinksEvent,
  reflinksUser,
  reflinksWebhook,
} from "../../integrations/node/index.js";
import { freePort } from "../fixtures/django-site.ts";
import { BROWSER_UA, type Stack, startStack } from "./harness.ts";
import { navigate } from "./navigate.ts";

const LINK = "express-friend";
const REFERRER = "carol";
/** The account is made by the signup below (createdAt is set then). */
const USER = { id: `user-${Date.now()}`, createdAt: new Date(0) };

let stack: Stack;
let server: Server;
const received: Array<{ event: ReflinksEvent; webhookId: string }> = [];
const jar = new Map<string, string>();

type SiteRequest = Request & { userId?: string };

function site(apiToken: string, webhookSecret: string, workerUrl: string) {
  const reflinks = createReflinksClient({ baseUrl: workerUrl, apiToken });
  const app = express();
  app.post(
    "/webhooks/reflinks",
    reflinksWebhook({
      secret: webhookSecret,
      onEvent: (event, { webhookId }) => received.push({ event, webhookId }),
    }),
  );
  app.use((req: SiteRequest, _res, next) => {
    req.userId = /(?:^|; )session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
    next();
  });
  app.use(reflinksUser({ apiToken, getUser: (req: SiteRequest) => req.userId }));
  app.get("/", (req: SiteRequest, res) => {
    res.send(`Hello, ${req.userId ?? "nobody"}`);
  });
  app.post("/signup", (req: SiteRequest, res) => {
    USER.createdAt = new Date();
    req.userId = USER.id;
    res.cookie("session", USER.id).redirect(303, "/");
  });
  app.post("/logout", (req: SiteRequest, res) => {
    req.userId = undefined;
    res.clearCookie("session").redirect(303, "/");
  });
  app.post("/purchase", async (_req, res, next) => {
    try {
      res.json(await reflinks.confirm(USER, "purchase"));
    } catch (error) {
      next(error);
    }
  });
  return createServer(app);
}

beforeAll(async () => {
  const port = await freePort();
  stack = await startStack({
    originUrl: `http://127.0.0.1:${port}`,
    links: [{ identifier: LINK, userId: REFERRER }],
  });
  const created = await fetch(`${stack.workerUrl}/_reflinks/webhooks`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.apiToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      url: `http://127.0.0.1:${port}/webhooks/reflinks`,
      events: ["referral.confirmed"],
    }),
  });
  expect(created.status).toBe(201);
  const { secret } = (await created.json()) as { secret: string };
  server = site(stack.apiToken, secret, stack.workerUrl);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  expect((server.address() as AddressInfo).port).toBe(port);
});

afterAll(async () => {
  if (server?.listening) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await stack?.stop();
});

async function browse(pathname: string, method = "GET") {
  const headers: Record<string, string> = { "User-Agent": BROWSER_UA };
  if (jar.size > 0) headers.Cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
  const response = await navigate(`${stack.workerUrl}${pathname}`, { method, headers });
  for (const line of response.headers.getSetCookie()) {
    const [pair = ""] = line.split(";");
    const at = pair.indexOf("=");
    const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
    if (/Max-Age=0/i.test(line) || /Expires=Thu, 01 Jan 1970/i.test(line) || value === "") jar.delete(name);
    else jar.set(name, value);
  }
  return response;
}

describe("an Express site behind the worker, with reflinks-node", () => {
  it("1. a visitor clicks a link and gets the anonymous cookie", async () => {
    const response = await browse(`/?ref=${LINK}`);
    expect(response.status).toBe(302);
    expect(jar.get("reflinks_rk")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("2. signs up: the worker takes the signed header, gives the hit to the user and signs the browser in", async () => {
    const response = await browse("/signup", "POST");
    expect(response.status).toBe(303);
    expect(response.headers.has("reflinks-user")).toBe(false);
    expect(jar.has("reflinks_rk")).toBe(false);
    expect(jar.has("reflinks_uid")).toBe(true);
    expect(await (await browse("/")).text()).toBe(`Hello, ${USER.id}`);
  });

  it("3. buys: the client confirms the referral, exactly once", async () => {
    const first = (await (await browse("/purchase", "POST")).json()) as {
      created: boolean;
      referral: { id: number; link: string; referrer_user_id: string };
    };
    expect(first).toMatchObject({ created: true, referral: { link: LINK, referrer_user_id: REFERRER } });
    const again = (await (await browse("/purchase", "POST")).json()) as typeof first;
    expect(again.created).toBe(false);
    expect(again.referral.id).toBe(first.referral.id);
  });

  it("4. the webhook route receives the verified referral.confirmed delivery", async () => {
    const deadline = Date.now() + 60_000;
    // The first attempt is made right after the confirming response: wait for it to land.
    while (received.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toHaveLength(1);
    expect(received[0]?.event).toMatchObject({
      type: "referral.confirmed",
      data: { link: LINK, user_id: USER.id },
    });
    expect(received[0]?.webhookId).toBeTruthy();
  });

  it("5. logs out: the empty signed value makes the worker forget the browser", async () => {
    const response = await browse("/logout", "POST");
    expect(response.status).toBe(303);
    expect(jar.has("reflinks_uid")).toBe(false);
  });
});
