// reflinks for Node sites. Plain JavaScript (types in index.d.ts), so that `npm install
// <path to this folder>` works with no build step.
import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

export { WebhookVerificationError };

/** Answers worth another try: the worker or D1 was briefly unavailable. */
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** The `Reflinks-User` value and its signature for `userId` (`null`: a logout, the empty value). */
export function signUser(userId, apiToken) {
  if (!apiToken) throw new Error("reflinks: apiToken is required to sign the login header");
  const value = userId == null || userId === "" ? "" : encodeURIComponent(String(userId));
  return { value, signature: createHmac("sha256", apiToken).update(value).digest("hex") };
}

/** The two headers to add to a response (for fetch-based frameworks: `new Response(body, { headers })`). */
export function userHeaders(userId, apiToken) {
  const { value, signature } = signUser(userId, apiToken);
  return { "Reflinks-User": value, "Reflinks-User-Signature": signature };
}

/**
 * The referral the worker's `Reflinks-Referral` request header names (docs/referred-visitor.md):
 * `{link, referrer, reward, at}` (values percent-decoded; `referrer`, `reward` null when left out)
 * when `signature` is the hex HMAC-SHA256 of `value` keyed with `apiToken`, compared in constant
 * time; else null. The site may be reachable without the worker: an unverified header is anyone's.
 */
export function verifyReferral(value, signature, apiToken) {
  if (typeof value !== "string" || typeof signature !== "string" || !apiToken) return null;
  if (!/^[0-9a-f]{64}$/.test(signature)) return null;
  const expected = createHmac("sha256", apiToken).update(value).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return null;
  const fields = new Map();
  for (const part of value.split("; ")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    try {
      fields.set(part.slice(0, eq), decodeURIComponent(part.slice(eq + 1)));
    } catch {
      return null;
    }
  }
  if (!fields.get("link") || !fields.get("at")) return null;
  return {
    link: fields.get("link"),
    referrer: fields.get("referrer") ?? null,
    reward: fields.get("reward") ?? null,
    at: fields.get("at"),
  };
}

/**
 * Express (or any Node `http`) middleware: every response to a signed-in user carries the signed
 * `Reflinks-User` header, and a response that signed the user out carries the empty value.
 * `getUser(req, res)` returns the signed-in user's id, or null/undefined; it is asked when the
 * request arrives and again just before the response's headers go out, so a login or logout made
 * by the route handler is seen. It also sets `req.reflinksReferral`: the verified referral of the
 * request's `Reflinks-Referral` header ({@link verifyReferral}), or null.
 */
export function reflinksUser({ apiToken, getUser }) {
  signUser(null, apiToken); // fail at startup, not on the first request
  if (typeof getUser !== "function") throw new Error("reflinksUser: getUser(req, res) is required");
  return function reflinksUserMiddleware(req, res, next) {
    const value = req.headers["reflinks-referral"];
    const signature = req.headers["reflinks-referral-signature"];
    req.reflinksReferral = verifyReferral(value, signature, apiToken);
    const before = getUser(req, res) ?? null;
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadWithUser(...args) {
      res.writeHead = writeHead;
      const now = getUser(req, res) ?? null;
      if (now !== null || before !== null) {
        for (const [name, value] of Object.entries(userHeaders(now, apiToken))) res.setHeader(name, value);
      }
      return writeHead.apply(this, args);
    };
    next();
  };
}

export class ReflinksError extends Error {
  constructor(status, code, message) {
    super(`reflinks answered ${status} ${code}: ${message}`);
    this.name = "ReflinksError";
    this.status = status;
    this.code = code;
    this.apiMessage = message;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const userIdOf = (user) => String(typeof user === "object" && user !== null ? user.id : user);
const signedUpAt = (user) => {
  const at = user.createdAt;
  if (at === undefined || at === null)
    throw new Error("reflinks: user.createdAt (when the account was made) is required");
  return at instanceof Date ? at.toISOString() : String(at);
};

/**
 * A client for the reflinks API on `fetch`. Every call it makes is idempotent on the worker's side,
 * so a network error, a timeout (`timeoutMs` per attempt), 429 or a 5xx is retried `retries`
 * times, `backoffMs` apart, doubling.
 */
export function createReflinksClient({
  baseUrl,
  apiToken,
  timeoutMs = 10_000,
  retries = 2,
  backoffMs = 500,
  fetch: fetchImpl = fetch,
}) {
  if (!baseUrl || !apiToken) throw new Error("reflinks: baseUrl and apiToken are required");
  const root = `${String(baseUrl).replace(/\/+$/, "")}/_reflinks`;

  async function request(method, path, { body, query } = {}) {
    const url = new URL(root + path);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value != null) url.searchParams.set(name, String(value));
    const headers = { Authorization: `Bearer ${apiToken}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await fetchImpl(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        if (attempt >= retries) throw error;
        await sleep(backoffMs * 2 ** attempt);
        continue;
      }
      const text = await response.text();
      if (response.ok) return { status: response.status, data: text ? JSON.parse(text) : null };
      if (RETRY_STATUSES.has(response.status) && attempt < retries) {
        await sleep(backoffMs * 2 ** attempt);
        continue;
      }
      let code = "http_error";
      let message = text.slice(0, 200);
      try {
        ({ code, message } = JSON.parse(text).error);
      } catch {
        // not the API's error shape (a proxy's page): keep the text
      }
      throw new ReflinksError(response.status, code, message);
    }
  }
  const orNull = (code) => async (promise) => {
    try {
      return (await promise).data;
    } catch (error) {
      if (error instanceof ReflinksError && error.code === code) return null;
      throw error;
    }
  };
  const notReferred = orNull("no_referral");

  return {
    request,
    confirm: (user, event = "signup") =>
      notReferred(
        request("POST", "/confirm", {
          body: { user_id: userIdOf(user), event, signed_up_at: signedUpAt(user) },
        }),
      ),
    conversion: (user, externalId, amount, currency, event = "signup") =>
      notReferred(
        request("POST", "/conversions", {
          body: {
            user_id: userIdOf(user),
            external_id: String(externalId),
            amount,
            currency,
            event,
            signed_up_at: signedUpAt(user),
          },
        }),
      ),
    reverse: (externalId, reversalId, amount) =>
      orNull("not_found")(
        request("POST", `/conversions/${encodeURIComponent(String(externalId))}/reverse`, {
          body:
            amount === undefined
              ? { reversal_id: String(reversalId) }
              : { reversal_id: String(reversalId), amount },
        }),
      ),
    userSummary: async (user) => (await request("GET", `/users/${encodeURIComponent(userIdOf(user))}`)).data,
    report: async ({ from, to } = {}) =>
      (await request("GET", "/reports/links", { query: { from, to } })).data.rows,
  };
}

/**
 * Verifies a delivery with the `standardwebhooks` library and returns its parsed body (`{type,
 * timestamp, data}`); throws `WebhookVerificationError` for a bad signature or a timestamp more
 * than 5 minutes away. `body` is the raw request body, exactly as received.
 */
export function verifyWebhook(secret, body, headers) {
  const get = (name) => (typeof headers.get === "function" ? headers.get(name) : headers[name]);
  const plain = {
    "webhook-id": get("webhook-id") ?? "",
    "webhook-timestamp": get("webhook-timestamp") ?? "",
    "webhook-signature": get("webhook-signature") ?? "",
  };
  return new Webhook(secret).verify(
    typeof body === "string" ? body : Buffer.from(body).toString("utf8"),
    plain,
  );
}

/**
 * An Express route handler for deliveries: verifies, then awaits `onEvent(event, { webhookId })`
 * and answers 204; 400 when verification fails; a rejected `onEvent` is passed to `next`, so the
 * answer is an error and reflinks retries later. Reads the raw body itself: mount it before any
 * JSON body parser, or give it `express.raw({ type: "application/json" })`.
 */
export function reflinksWebhook({ secret, onEvent }) {
  if (!secret) throw new Error("reflinksWebhook: secret is required");
  return async function reflinksWebhookHandler(req, res, next) {
    try {
      let body = req.body;
      if (!Buffer.isBuffer(body) && typeof body !== "string") {
        if (body !== undefined && req.readableEnded) {
          throw new Error(
            "reflinksWebhook: a body parser read the body first; mount express.raw() for this route",
          );
        }
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        body = Buffer.concat(chunks);
      }
      let event;
      try {
        event = verifyWebhook(secret, body, req.headers);
      } catch (error) {
        if (error instanceof WebhookVerificationError) {
          res.writeHead(400, { "Content-Type": "text/plain" }).end("invalid webhook");
          return;
        }
        throw error;
      }
      await onEvent(event, { webhookId: String(req.headers["webhook-id"]) });
      res.writeHead(204).end();
    } catch (error) {
      next(error);
    }
  };
}
