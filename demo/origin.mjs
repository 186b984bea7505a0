// Demo origin site for reflinks: a fake product ("Acme Notes") that the worker sits in front of.
// Run it alone with `node demo/origin.mjs`; `npm start` runs it behind the worker.

import { createHmac, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import createClient from "openapi-fetch";
import { Webhook } from "standardwebhooks";

const MAX_BODY = 64 * 1024;
/** The Pro plan, in cents: conversions are integers in the currency's minor unit. */
const PRICE = { amount: 800, currency: "USD" };
const MAX_DOWNLOAD_MB = 1024;
const SESSION_COOKIE = "demo_session";
// Any id survives the Reflinks-User header (it is percent-encoded); short readable names suit a demo.
const USERNAME = /^[\p{L}\p{N}_.@-]{1,50}$/u;
const ZEROS = Buffer.alloc(64 * 1024);
const HTML = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" };
// Known paths answer 405 (not 404) to other methods.
const PATHS = new Set(
  "/ /pricing /cookies /signup /login /logout /account /purchase /receipt /refund /download /health /webhooks /webhooks/reflinks".split(
    " ",
  ),
);

const HOME = `<p>Notes that take themselves. Try it:</p>
<ul><li><a href="/pricing">See pricing</a></li><li><a href="/signup">Sign up</a></li>
<li><a href="/cookies">Inspect your cookies</a> (look for <code>reflinks_rk</code>)</li></ul>`;
const PRICING = `<table><tr><th>Plan</th><th>Price</th></tr>
<tr><td>Free</td><td>$0</td></tr><tr><td>Pro</td><td>$8 / month</td></tr></table>
<p><a href="/signup">Start now</a></p>`;
const SIGNED_OUT = `<p>You are not signed in. <a href="/signup">Sign up</a> or
<a href="/login">log in</a>.</p>`;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const escapeHtml = (value) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );

/** "1 visit", "2 visits". */
const count = (n, singular, plural = `${singular}s`) => `${n} ${n === 1 ? singular : plural}`;

/** An amount in the currency's minor unit, shown once, in major units: "1.60 USD". */
const money = (cents, currency) => `${(cents / 100).toFixed(2)} ${escapeHtml(currency)}`;

/**
 * The referral the worker says brought this browser (docs/referred-visitor.md): the
 * `Reflinks-Referral` request header, when `Reflinks-Referral-Signature` is its hex HMAC-SHA256
 * keyed with the API token, decoded as `{link, referrer, reward, at}`; else null. The origin can
 * be reached without the worker, so an unsigned or forged header is ignored.
 *
 * @param {import("node:http").IncomingHttpHeaders} headers
 * @param {string} apiToken
 */
export function referralOf(headers, apiToken) {
  const value = headers["reflinks-referral"];
  const signature = headers["reflinks-referral-signature"];
  if (typeof value !== "string" || typeof signature !== "string" || !/^[0-9a-f]{64}$/.test(signature)) {
    return null;
  }
  const expected = createHmac("sha256", apiToken).update(value).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return null;
  const fields = {};
  for (const part of value.split("; ")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    try {
      fields[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
    } catch {
      return null;
    }
  }
  if (!fields.link || !fields.at) return null;
  return {
    link: fields.link,
    referrer: fields.referrer ?? null,
    reward: fields.reward ?? null,
    at: fields.at,
  };
}

/** "alice gave you 20% off", or null when the link promises the visitor nothing. */
function giftText(referral) {
  if (!referral?.reward) return null;
  return `${referral.referrer ?? "A friend"} gave you ${referral.reward}`;
}

/**
 * What the buyer pays: the price less the reward's discount when the reward reads "N%" (say
 * "20% off"); any other reward (a free month, a code) is shown as applied and changes no price.
 * Rounded half up to the cent, in integers.
 */
export function priceWith(reward) {
  const percent = /^\s*(\d{1,3})\s*%/.exec(reward ?? "");
  const off = percent ? Number(percent[1]) : 0;
  if (off > 100) return PRICE.amount;
  return Math.floor((PRICE.amount * (100 - off) + 50) / 100);
}

function layout(title, user, body) {
  const who = user
    ? `Signed in as <b>${escapeHtml(user)}</b>
       <form method="post" action="/logout" style="display:inline"><button>Log out</button></form>`
    : `<a href="/login">Log in</a> · <a href="/signup">Sign up</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Acme Notes</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}
nav{display:flex;gap:1rem;justify-content:space-between;border-bottom:1px solid #ddd;padding-bottom:.5rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
code,td{font-family:ui-monospace,monospace}
td{overflow-wrap:break-word}code{overflow-wrap:anywhere}
.gift{background:#eef9ee;border:1px solid #9c9;padding:.5rem 1rem}</style></head>
<body><nav><span><a href="/">Acme Notes</a> · <a href="/pricing">Pricing</a> · <a href="/cookies">Cookies</a> ·
<a href="/account">Account</a> · <a href="/webhooks">Webhooks</a></span><span>${who}</span></nav>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

function parseCookies(header) {
  const cookies = [];
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    cookies.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return cookies;
}

// Strict on purpose: URLSearchParams silently turns bad %-escapes into U+FFFD, hiding client bugs.
function parseForm(body) {
  const fields = new Map();
  for (const pair of body.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const [name, value] = eq === -1 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    try {
      const decode = (s) => decodeURIComponent(s.replace(/\+/g, " "));
      if (!fields.has(decode(name))) fields.set(decode(name), decode(value));
    } catch {
      throw new HttpError(400, "The form data is not valid URL encoding.");
    }
  }
  return fields;
}

async function readForm(req) {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "Send the form as application/x-www-form-urlencoded.");
  }
  if (Number(req.headers["content-length"]) > MAX_BODY) throw new HttpError(413, "Body too large.");
  // Not `for await`: breaking out of it destroys the socket before the 413 can be sent.
  const chunks = await new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) return parts.push(chunk);
      req.removeAllListeners("data").pause();
      reject(new HttpError(413, "Body too large."));
    });
    req.on("end", () => resolve(parts));
    req.on("error", reject);
  });
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, "The form data is not valid UTF-8.");
  }
  return parseForm(text);
}

/** A `next` the demo's login may redirect to: a path on this site, nothing else. */
function safeNext(next) {
  return typeof next === "string" && /^\/(?![/\\])[^\s\\]*$/.test(next) ? next : null;
}

function formPage(kind, user, error = "", username = "", next = null) {
  const title = kind === "signup" ? "Sign up" : "Log in";
  const other =
    kind === "signup"
      ? `Already have an account? <a href="/login">Log in</a>.`
      : `New here? <a href="/signup">Sign up</a>.`;
  return layout(
    title,
    user,
    `${error ? `<p style="color:#b00">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/${kind}${next ? `?next=${encodeURIComponent(next)}` : ""}">
<label>Username <input name="username" value="${escapeHtml(username)}" required maxlength="50"
 pattern="[A-Za-z0-9_.@\\-]{1,50}" autofocus></label> <button>${title}</button></form>
<p>No password: this is a demo. ${other}</p>`,
  );
}

/**
 * A site's Stripe webhook, reporting payments and refunds to reflinks (docs/money.md; the demo's
 * purchase and refund buttons send it what Stripe would). Stripe's amounts are integers in the
 * minor unit already, and each id makes its call safe to retry. `promotionCodeOf(invoice)`: the
 * promotion code the buyer typed, or null (docs/money.md shows it for Stripe).
 */
export async function onStripeEvent(
  event,
  { reflinksUrl, apiToken, findUserByStripeCustomer, promotionCodeOf },
) {
  const reflinks = (path, body) =>
    fetch(`${reflinksUrl}/_reflinks${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  // 200 or 201: recorded, once. 404: the buyer was not referred, or (a refund) there is no
  // conversion to reverse. Anything else: throw, and Stripe retries.
  const check = (res) => {
    if (![200, 201, 404].includes(res.status)) throw new Error(`reflinks answered ${res.status}`);
  };
  if (event.type === "invoice.paid") {
    const invoice = event.data.object;
    if (invoice.amount_paid === 0) return; // a free invoice (a trial, a 100% coupon) earns nothing
    const user = await findUserByStripeCustomer(invoice.customer);
    // A code typed at checkout credits its link's owner (docs/api.md#coupons); unknown: ignored.
    const coupon = await promotionCodeOf(invoice);
    const res = await reflinks("/conversions", {
      user_id: String(user.id),
      external_id: invoice.id,
      amount: invoice.amount_paid,
      currency: invoice.currency.toUpperCase(),
      signed_up_at: user.createdAt.toISOString(),
      ...(coupon ? { coupon } : {}),
    });
    check(res);
  } else if (event.type === "charge.refunded") {
    const charge = event.data.object;
    for (const refund of charge.refunds.data) {
      check(
        await reflinks(`/conversions/${charge.invoice}/reverse`, {
          reversal_id: refund.id,
          amount: refund.amount,
        }),
      );
    }
  }
}

/** Every event type: the demo shows them all, hits included (a real site picks what it needs). */
const DEMO_WEBHOOK_EVENTS = [
  "referral.confirmed",
  "conversion.created",
  "conversion.approved",
  "conversion.reversed",
  "payout.created",
  "link.created",
  "hit.created",
];
const WEBHOOK_PATH = "/webhooks/reflinks";
const WEBHOOKS_SHOWN = 10;

/**
 * Registers the demo's webhook receiver (`receiverUrl`, this server's `/webhooks/reflinks`) with
 * the worker, replacing any earlier demo registration: the secret is shown only when an endpoint
 * is created, and a restarted demo no longer knows the old one's. Answers the new secret.
 */
export async function registerDemoWebhook({ reflinksUrl, apiToken, receiverUrl }) {
  const api = async (path, init = {}) => {
    const res = await fetch(`${reflinksUrl}/_reflinks${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${apiToken}`, "Content-Type": "application/json" },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`reflinks answered ${res.status} to ${init.method ?? "GET"} ${path}`);
    return res.status === 204 ? null : res.json();
  };
  const isDemoReceiver = (url) => {
    const parsed = new URL(url);
    return parsed.pathname === WEBHOOK_PATH && ["127.0.0.1", "localhost"].includes(parsed.hostname);
  };
  const { webhooks } = await api("/webhooks");
  for (const old of webhooks.filter((webhook) => isDemoReceiver(webhook.url))) {
    await api(`/webhooks/${old.id}`, { method: "DELETE" });
  }
  const created = await api("/webhooks", {
    method: "POST",
    body: JSON.stringify({ url: receiverUrl, events: DEMO_WEBHOOK_EVENTS }),
  });
  return created.secret;
}

/**
 * @param {{ reflinksUrl?: string, apiToken?: string, accounts?: string[], portalPath?: string, refuseFirst?: string | null }} [options] where the
 *   worker's API is and its token (default: the REFLINKS_URL and REFLINKS_API_TOKEN environment
 *   variables), the usernames that have an account from the start (`npm start` makes `alice`,
 *   the demo link's owner, one: she logs in to see what she earned), and the webhook event type
 *   whose first delivery the receiver answers 503, to show a retry (default `payout.created`;
 *   null: none).
 */
export function createOriginServer(options = {}) {
  const reflinksUrl = options.reflinksUrl ?? process.env.REFLINKS_URL ?? "http://127.0.0.1:8787";
  const apiToken = options.apiToken ?? process.env.REFLINKS_API_TOKEN ?? "demo-token";
  const started = new Date().toISOString();
  // username -> when the account was created (ISO-8601)
  const users = new Map((options.accounts ?? []).map((username) => [username, started]));
  // The worker's referrer's page (PORTAL_PATH), linked from the account page.
  const portalPath = options.portalPath ?? "/_reflinks/me";
  const sessions = new Map(); // session token -> username
  const orders = new Map(); // order id -> { user, amount, reward, coupon, refunded }
  // The reflinks webhook: its secret (set once registered), the last deliveries, newest first.
  let webhookSecret = null;
  const deliveries = []; // { id, type, timestamp, summary, times, refused }
  let rejected = 0;
  // The demo's stand-in for a site that is briefly down, so that a retry can be seen: the first
  // delivery of each event of this type is answered 503 (README, step 5).
  const refuseFirst = options.refuseFirst === undefined ? "payout.created" : options.refuseFirst;

  /**
   * The receiver: verified with the Standard Webhooks library over the raw body, deduped on
   * `webhook-id` (delivery is at least once: a repeat is counted, not processed again).
   */
  async function receiveWebhook(req, res) {
    if (!webhookSecret) throw new HttpError(503, "No webhook secret yet: npm start registers one.");
    const body = (await readBody(req)).toString("utf8");
    let event;
    try {
      event = new Webhook(webhookSecret).verify(body, req.headers);
    } catch {
      rejected++;
      return res.writeHead(400, { "Content-Type": "text/plain" }).end("bad signature");
    }
    const id = req.headers["webhook-id"];
    const seen = deliveries.find((delivery) => delivery.id === id);
    if (seen) seen.times++;
    else {
      deliveries.unshift({
        id,
        type: event.type,
        timestamp: event.timestamp,
        summary: summarize(event),
        times: 1,
        refused: event.type === refuseFirst,
      });
      deliveries.length = Math.min(deliveries.length, WEBHOOKS_SHOWN);
      if (event.type === refuseFirst) {
        return res
          .writeHead(503, { "Content-Type": "text/plain", "Retry-After": "5" })
          .end("The demo refuses the first delivery of this event on purpose, to show a retry.");
      }
    }
    res.writeHead(204).end();
  }

  /** How a delivery went, beside its id: a refused first attempt shows the retry is awaited or made. */
  function deliveryNote(delivery) {
    if (delivery.refused) {
      return delivery.times > 1
        ? ` (answered 503 on purpose the first time; delivered again by reflinks's retry, ${delivery.times} attempts in all)`
        : " (answered 503 on purpose: reflinks retries it 5 s later, when its scheduled job runs)";
    }
    return delivery.times > 1 ? ` (received ${delivery.times} times)` : "";
  }

  function webhooksPage() {
    const rows = deliveries
      .map(
        (d) =>
          `<tr><td>${escapeHtml(d.timestamp)}</td><td><code>${escapeHtml(d.type)}</code></td><td>${escapeHtml(d.summary)}</td>` +
          `<td><code>${escapeHtml(d.id)}</code>${deliveryNote(d)}</td></tr>`,
      )
      .join("");
    return `<p>The last ${WEBHOOKS_SHOWN} webhooks reflinks sent this site, each verified with the
<code>standardwebhooks</code> library${rejected ? ` (${rejected} rejected: bad signature)` : ""}.</p>
${rows ? `<table><tr><th>When</th><th>Type</th><th>What</th><th>webhook-id</th></tr>${rows}</table>` : "<p>None yet: click a referral link, sign up or buy.</p>"}`;
  }

  // The API client, typed from the worker's OpenAPI document (README "Typed calls from Node"):
  // integrations/node/reflinks-api.d.ts is what `npx openapi-typescript` makes of GET
  // /_reflinks/openapi.json (`npm run openapi` writes it).
  /** @type {import("openapi-fetch").Client<import("../integrations/node/reflinks-api.js").paths>} */
  const reflinks = createClient({ baseUrl: reflinksUrl, headers: { Authorization: `Bearer ${apiToken}` } });
  const timeout = () => AbortSignal.timeout(10_000);

  /** A failed call the page cannot go on without: the visitor sees a 502 naming the request. */
  function apiFailure(response, error) {
    return new HttpError(
      502,
      `reflinks answered ${response.status}: ${error?.error.message ?? ""} (request ${error?.error.request_id ?? "?"})`,
    );
  }

  /** The conversion reflinks recorded for an order; null when the buyer was not referred. */
  async function conversionOf(orderId) {
    const { data, error, response } = await reflinks.GET("/_reflinks/conversions/{external_id}", {
      params: { path: { external_id: orderId } },
      signal: timeout(),
    });
    if (error?.error.code === "not_found") return null;
    if (!data) throw apiFailure(response, error);
    return data;
  }

  /** Stands in for Stripe: sends the webhook the event Stripe would send for this order. */
  async function stripeSends(type, object) {
    await onStripeEvent(
      { type, data: { object } },
      {
        reflinksUrl,
        apiToken,
        findUserByStripeCustomer: async (customer) => {
          const id = customer.replace(/^cus_/, "");
          return { id, createdAt: new Date(users.get(id)) };
        },
        // Stripe would need the invoice's discounts expanded; the demo knows what was typed.
        promotionCodeOf: async (invoice) => orders.get(invoice.id)?.coupon ?? null,
      },
    );
  }

  /** What the purchase's page says: what was paid, with what, and whom it credited. */
  async function receipt(orderId, order) {
    const conversion = await conversionOf(orderId);
    const paid = `<p><b>Thank you!</b> Order <code>${escapeHtml(orderId)}</code>: ${money(order.amount, PRICE.currency)}${
      order.reward ? ` (${escapeHtml(order.reward)} applied)` : ""
    }${order.coupon ? `, coupon <code>${escapeHtml(order.coupon)}</code>` : ""}.</p>`;
    if (!conversion) {
      return `${paid}<p>No referral to credit: you did not arrive through a referral link.</p>`;
    }
    return `${paid}<p>This purchase earned <b>${escapeHtml(conversion.referrer_user_id ?? "(no owner)")}</b>
a commission of ${money(conversion.commission, conversion.currency)}, ${escapeHtml(conversion.status)}
(link <code>${escapeHtml(conversion.link ?? "deleted")}</code>).</p>`;
  }

  async function accountPage(user, referral, notice = "") {
    if (!user) return SIGNED_OUT;
    const {
      data: me,
      error,
      response,
    } = await reflinks.GET("/_reflinks/users/{user_id}", {
      params: { path: { user_id: user } },
      signal: timeout(),
    });
    if (!me) throw apiFailure(response, error);
    const earnings = me.earnings.length
      ? `<table><tr><th>Currency</th><th>Pending</th><th>Approved</th><th>Paid</th></tr>${me.earnings
          .map(
            (row) =>
              `<tr><td>${escapeHtml(row.currency)}</td><td>${money(row.pending, row.currency)}</td>` +
              `<td>${money(row.approved, row.currency)}</td><td>${money(row.paid, row.currency)}</td></tr>`,
          )
          .join("")}</table>`
      : "<p>No one you referred has purchased yet.</p>";
    const links = me.links
      .map(
        (link) =>
          `<li><code>${escapeHtml(link.url)}</code>: ${count(link.stats.hits, "visit")}, ${count(link.stats.confirmed, "referral")}</li>`,
      )
      .join("");
    const mine = [...orders.entries()].filter(([, order]) => order.user === user);
    const history = mine.length
      ? `<ul>${mine
          .map(
            ([id, order]) =>
              `<li>Order <a href="/receipt?order=${encodeURIComponent(id)}"><code>${escapeHtml(id)}</code></a>: ${money(order.amount, PRICE.currency)}${
                order.refunded
                  ? " (refunded)"
                  : ` <form method="post" action="/refund" style="display:inline"><input type="hidden" name="order" value="${escapeHtml(id)}"><button>Refund</button></form>`
              }</li>`,
          )
          .join("")}</ul>`
      : "<p>No orders yet.</p>";
    const gift = giftText(referral);
    const price = priceWith(referral?.reward);
    const applied = gift
      ? `<p class="gift">${escapeHtml(gift)}: applied${
          price === PRICE.amount
            ? ""
            : `, you pay ${money(price, PRICE.currency)} instead of ${money(PRICE.amount, PRICE.currency)}`
        }.</p>`
      : "";
    return `${notice}<p>You are signed in as <b>${escapeHtml(user)}</b>.</p>
<h2>Checkout: Pro, ${money(price, PRICE.currency)}</h2>${applied}
<form method="post" action="/purchase"><label>Coupon code (optional) <input name="coupon" maxlength="40"></label>
<button>Complete purchase</button></form>
<h2>Your orders</h2>${history}
<h2>Your referral links</h2>${links ? `<ul>${links}</ul>` : "<p>None.</p>"}
<p><a href="${escapeHtml(portalPath)}">Your referral page</a>: your links with QR codes, what they brought, your earnings and payouts.</p>
<h2>Your referral earnings</h2>${earnings}`;
  }

  function send(res, status, html, headers = {}) {
    res.writeHead(status, { ...HTML, ...headers }).end(html);
  }

  function redirect(res, location, headers = {}) {
    res.writeHead(303, { Location: location, "Cache-Control": "no-store", ...headers });
    res.end();
  }

  function sessionCookie(req, value, maxAge) {
    // Behind the worker on https the browser only sees https, so the cookie can be Secure there.
    const secure = req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
    const age = maxAge === undefined ? "" : `; Max-Age=${maxAge}`;
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax${age}${secure}`;
  }

  /**
   * How the origin tells the worker who this browser is: the user id percent-encoded, signed with
   * the API token so that nobody else can say it. Sent on every response to a signed-in user (and
   * an empty value on logout); the worker removes both headers before the browser sees them.
   */
  function reflinksUser(username) {
    const value = encodeURIComponent(username);
    const signature = createHmac("sha256", apiToken).update(value).digest("hex");
    return { "Reflinks-User": value, "Reflinks-User-Signature": signature };
  }

  function signIn(req, res, username, next = null) {
    const token = crypto.randomUUID();
    sessions.set(token, username);
    redirect(res, next ?? "/account", { "Set-Cookie": sessionCookie(req, token), ...reflinksUser(username) });
  }

  async function handle(req, res) {
    let url;
    try {
      url = new URL(req.url.startsWith("/") ? `http://origin${req.url}` : req.url);
    } catch {
      throw new HttpError(400, "Bad request URL.");
    }
    const token = parseCookies(req.headers.cookie).find(([n]) => n === SESSION_COOKIE)?.[1];
    const user = token ? sessions.get(token) : undefined;
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = `${method} ${url.pathname}`;
    const page = (title, body) => send(res, 200, layout(title, user, body));
    if (user) for (const [name, value] of Object.entries(reflinksUser(user))) res.setHeader(name, value);

    switch (route) {
      case "GET /": {
        const gift = giftText(referralOf(req.headers, apiToken));
        return page("Acme Notes", `${gift ? `<p class="gift">${escapeHtml(gift)}.</p>` : ""}${HOME}`);
      }
      case "GET /pricing": {
        const gift = giftText(referralOf(req.headers, apiToken));
        return page("Pricing", `${gift ? `<p class="gift">${escapeHtml(gift)}.</p>` : ""}${PRICING}`);
      }
      case "GET /cookies": {
        const rows = parseCookies(req.headers.cookie)
          .map(([n, v]) => `<tr><td>${escapeHtml(n)}</td><td>${escapeHtml(v)}</td></tr>`)
          .join("");
        const fwd = ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-for"]
          .map((h) => `<tr><td>${h}</td><td>${escapeHtml(req.headers[h] ?? "(not set)")}</td></tr>`)
          .join("");
        return page(
          "Cookies",
          `<h2>Cookies this request carried</h2>
${rows ? `<table><tr><th>Name</th><th>Value</th></tr>${rows}</table>` : "<p>None.</p>"}
<h2>Forwarding headers</h2><table><tr><th>Header</th><th>Value</th></tr>${fwd}</table>`,
        );
      }
      case "GET /signup":
      case "GET /login":
        return send(
          res,
          200,
          formPage(url.pathname.slice(1), user, "", "", safeNext(url.searchParams.get("next"))),
        );
      case "POST /signup":
      case "POST /login": {
        const kind = url.pathname.slice(1);
        const next = safeNext(url.searchParams.get("next"));
        const username = (await readForm(req)).get("username")?.trim() ?? "";
        if (!USERNAME.test(username)) {
          const error = "Username: 1–50 letters, digits, or . _ @ -";
          return send(res, 400, formPage(kind, user, error, username, next));
        }
        if (kind === "signup" && users.has(username)) {
          return send(res, 409, formPage(kind, user, "That username is taken.", username, next));
        }
        if (kind === "login" && !users.has(username)) {
          return send(res, 401, formPage(kind, user, "No such user: sign up first.", username, next));
        }
        if (kind === "signup") users.set(username, new Date().toISOString());
        return signIn(req, res, username, next);
      }
      case "POST /logout":
        if (token) sessions.delete(token);
        // An empty Reflinks-User tells the worker the browser signed out.
        return redirect(res, "/", { "Set-Cookie": sessionCookie(req, "", 0), ...reflinksUser("") });
      case "GET /account":
        return page("Account", await accountPage(user, referralOf(req.headers, apiToken)));
      case "POST /purchase": {
        if (!user) return send(res, 401, layout("Account", user, SIGNED_OUT));
        // The button posts a form; a client posting nothing buys without a coupon.
        const form = req.headers["content-type"] ? await readForm(req) : new Map();
        const coupon = form.get("coupon")?.trim() || null;
        const reward = referralOf(req.headers, apiToken)?.reward ?? null;
        const orderId = `order_${crypto.randomUUID()}`;
        const amount = priceWith(reward);
        orders.set(orderId, { user, amount, reward, coupon, refunded: false });
        await stripeSends("invoice.paid", {
          id: orderId,
          customer: `cus_${user}`,
          amount_paid: amount,
          currency: PRICE.currency.toLowerCase(),
        });
        // Post/Redirect/Get: a reload shows the receipt again, and buys nothing twice.
        return redirect(res, `/receipt?order=${encodeURIComponent(orderId)}`);
      }
      case "GET /receipt": {
        const orderId = url.searchParams.get("order") ?? "";
        const order = orders.get(orderId);
        if (!user || !order || order.user !== user) throw new HttpError(404, "No such order of yours.");
        return page(
          "Account",
          await accountPage(user, referralOf(req.headers, apiToken), await receipt(orderId, order)),
        );
      }
      case "POST /refund": {
        const orderId = (await readForm(req)).get("order") ?? "";
        const order = orders.get(orderId);
        if (!user || !order || order.user !== user) throw new HttpError(404, "No such order of yours.");
        await stripeSends("charge.refunded", {
          invoice: orderId,
          refunds: { data: [{ id: `re_${orderId}`, amount: order.amount }] },
        });
        order.refunded = true;
        const conversion = await conversionOf(orderId);
        const notice = conversion
          ? `<p>Refunded. The referrer's commission on this order is now ${money(conversion.commission, conversion.currency)} (${escapeHtml(conversion.status)}).</p>`
          : "<p>Refunded.</p>";
        return page("Account", await accountPage(user, referralOf(req.headers, apiToken), notice));
      }
      case "GET /download": {
        const raw = url.searchParams.get("mb") ?? "1";
        const mb = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
        if (!(mb <= MAX_DOWNLOAD_MB)) {
          throw new HttpError(400, `mb must be an integer from 0 to ${MAX_DOWNLOAD_MB}.`);
        }
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        if (req.method === "HEAD") return res.end();
        // Respect backpressure so a slow client never makes us hold the whole file in memory.
        let left = mb * 16; // 64 KiB chunks
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            left--;
            if (!res.write(ZEROS)) return res.once("drain", pump);
          }
          if (!res.destroyed) res.end();
        };
        return pump();
      }
      case `POST ${WEBHOOK_PATH}`:
        return receiveWebhook(req, res);
      case "GET /webhooks":
        return page("Webhooks", webhooksPage());
      case "GET /health":
        return res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
      default:
        if (PATHS.has(url.pathname)) throw new HttpError(405, `${req.method} is not allowed here.`);
        throw new HttpError(404, `Nothing at ${url.pathname}.`);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) console.error("demo origin:", err);
      if (res.headersSent) return res.destroy();
      // An unread oversized body would otherwise keep the connection busy: close it after answering.
      const headers = status === 413 ? { Connection: "close" } : {};
      const body = `<p>${escapeHtml(status === 500 ? "Something went wrong." : err.message)}</p>`;
      send(res, status, layout(`Error ${status}`, undefined, body), headers);
    });
  });
  return Object.assign(server, {
    /** Where the worker's webhooks are verified from: the secret POST /_reflinks/webhooks answered. */
    setWebhookSecret(/** @type {string} */ secret) {
      webhookSecret = secret;
    },
  });
}

/** One line about an event's object, for the webhooks page. */
function summarize({ type, data }) {
  if (type === "conversion.reversed")
    return `${data.reversal.amount} ${data.conversion.currency} of ${data.conversion.external_id}`;
  if (type.startsWith("conversion."))
    return `${data.amount} ${data.currency} by ${data.user_id}, commission ${data.commission} (${data.status})`;
  if (type === "referral.confirmed")
    return `${data.user_id} referred by ${data.referrer_user_id ?? "nobody"} (${data.event})`;
  if (type === "payout.created") return `${data.amount} ${data.currency} to ${data.referrer_user_id}`;
  if (type === "link.created") return data.url;
  if (type === "hit.created") return `a click on ${data.link}`;
  return "";
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) parts.push(chunk);
    });
    req.on("end", () =>
      size > MAX_BODY ? reject(new HttpError(413, "Body too large.")) : resolve(Buffer.concat(parts)),
    );
    req.on("error", reject);
  });
}

function isMain() {
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const raw = process.env.DEMO_ORIGIN_PORT ?? "8000";
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    console.error(`DEMO_ORIGIN_PORT must be a port number (0-65535), got "${raw}".`);
    process.exit(1);
  }
  const server = createOriginServer();
  server.on("error", (err) => {
    console.error(`Demo origin could not listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, "127.0.0.1", () => {
    const { port: listening } = /** @type {import("node:net").AddressInfo} */ (server.address());
    console.log(`Demo origin listening on http://127.0.0.1:${listening}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
