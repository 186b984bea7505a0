/**
 * The proxy (docs/routing.md#the-proxy): everything that is not ours goes to the origin as it came
 * (method, path, end-to-end headers, body streamed both ways, redirects not followed) and comes back
 * as the origin sent it.
 * What does not go on: hop-by-hop headers, a body on GET or HEAD, the login headers only the
 * origin may send, and (with ORIGIN_URL) any client address the client chose itself.
 */
import type { Config } from "../config";
import { errorMessage, log } from "../lib/log";
import { REFERRAL_HEADER, REFERRAL_SIGNATURE_HEADER, type ReferralHeaders } from "../lib/referral-context";
import { requestIdOf } from "../lib/request-id";
import { SIGNATURE_HEADER, USER_HEADER } from "./login-report";

/**
 * Marks requests this worker sends on. Seeing it on an incoming request means the origin (or
 * route-mode `fetch(request)`) led back to this worker: answering 508 breaks the loop at once
 * instead of letting it run until Cloudflare's subrequest limit.
 */
export const LOOP_HEADER = "X-Reflinks-Hop";

/**
 * `referral`: the `Reflinks-Referral` headers the request's `reflinks_ref` cookie stands for
 * (src/lib/referral-context.ts), set after the client's own are dropped.
 */
export async function proxyToOrigin(
  request: Request,
  url: URL,
  config: Config,
  referral: ReferralHeaders | null = null,
): Promise<Response> {
  let target: string | null = null;
  if (config.originUrl && config.originBase) {
    if (config.originUrl.host === url.host) return loopDetected(request, url, ORIGIN_IS_SELF);
    target = `${config.originBase}${url.pathname}${url.search}`;
  }
  const headers = new Headers(request.headers);
  // Before our own headers are set: a client's `Connection` must not be able to name them. The
  // same pass over the names finds our own loop header (one header lookup less per page view).
  if (dropRequestHeaders(headers, request.headers, target !== null)) {
    return loopDetected(request, url, LOOPED_BACK);
  }
  headers.set(LOOP_HEADER, "1");
  if (referral !== null) {
    headers.set(REFERRAL_HEADER, referral.value);
    headers.set(REFERRAL_SIGNATURE_HEADER, referral.signature);
  }
  if (target !== null) setForwardedHeaders(headers, request, url);

  const upstream = new AbortController();
  // No closure per request: the controller is the timer's argument.
  const timer = setTimeout(abortTimedOut, config.originTimeoutMs, upstream);
  try {
    // Route mode (no ORIGIN_URL): fetch(request), which on a Cloudflare route reaches the origin.
    return await fetch(target ?? request, {
      method: request.method,
      headers,
      body: request.body && forwardedBody(request, request.body, upstream),
      redirect: "manual",
      signal: upstream.signal,
    });
  } catch (error) {
    // Path only: query strings can carry personal data (emails, tokens) that logs must not keep.
    const where = `${config.originBase ?? url.origin}${url.pathname}`;
    const requestId = requestIdOf(request);
    if (upstream.signal.reason === ORIGIN_TIMED_OUT) {
      log("warn", "origin_timeout", {
        url: where,
        timeout_ms: config.originTimeoutMs,
        request_id: requestId,
      });
      return gatewayError(504, "Gateway Timeout", requestId);
    }
    if (upstream.signal.reason === UPLOAD_FAILED) {
      log("warn", "client_upload_failed", { url: where, request_id: requestId });
      return gatewayError(502, "Bad Gateway", requestId);
    }
    log("warn", "origin_unreachable", { url: where, error: errorMessage(error), request_id: requestId });
    return gatewayError(502, "Bad Gateway", requestId);
  } finally {
    // Only the wait for response headers is limited: a long download must not be cut off.
    clearTimeout(timer);
  }
}

const ORIGIN_TIMED_OUT = "origin timed out";
const UPLOAD_FAILED = "client upload failed";

function abortTimedOut(upstream: AbortController): void {
  upstream.abort(ORIGIN_TIMED_OUT);
}

/**
 * Request headers that never go on, by their lower-case names (as `Headers` lists them).
 * Hop-by-hop ones (RFC 9110 §7.6.1; `Connection` and `Upgrade` are handled apart, for WebSocket),
 * the login report headers (only the origin sends those, in its responses) and the referral
 * context headers (only the worker sends those, from a verified cookie).
 */
const DROPPED = new Set([
  "keep-alive",
  "te",
  "trailer",
  ...[USER_HEADER, SIGNATURE_HEADER, REFERRAL_HEADER, REFERRAL_SIGNATURE_HEADER].map((name) =>
    name.toLowerCase(),
  ),
]);
/**
 * With ORIGIN_URL, client addresses the client itself may have made up: the origin gets the
 * address Cloudflare saw instead, as `X-Forwarded-For`. Left alone in route mode, where Cloudflare
 * sets the origin's address headers itself.
 */
const CLIENT_ADDRESSES = new Set([
  "x-forwarded-for",
  "x-real-ip",
  "true-client-ip",
  "client-ip",
  "forwarded",
]);
const PROXY_PREFIX = "proxy-";

/** {@link LOOP_HEADER} as `Headers` lists it. */
const LOOP_HEADER_NAME = LOOP_HEADER.toLowerCase();

/**
 * Removes from `headers` (a copy of `incoming`) what must not reach the origin. One pass over the
 * names, deleting only what is there; `Connection` is parsed only when it names something else
 * than the usual `keep-alive` or `close`. Returns true, leaving `headers` as it is, when the
 * request carries {@link LOOP_HEADER}: the caller answers 508.
 */
function dropRequestHeaders(headers: Headers, incoming: Headers, originMode: boolean): boolean {
  let connection = false;
  let upgrade = false;
  for (const name of incoming.keys()) {
    if (DROPPED.has(name) || name.startsWith(PROXY_PREFIX) || (originMode && CLIENT_ADDRESSES.has(name))) {
      headers.delete(name);
    } else if (name === "connection") connection = true;
    else if (name === "upgrade") upgrade = true;
    else if (name === LOOP_HEADER_NAME) return true;
  }
  // A WebSocket upgrade needs both `Upgrade: websocket` and `Connection: Upgrade` to go on.
  const websocket = upgrade && incoming.get("Upgrade")?.toLowerCase() === "websocket";
  if (upgrade && !websocket) headers.delete("Upgrade");
  if (connection) dropConnectionHeaders(headers, incoming.get("Connection") ?? "", websocket);
  return false;
}

/** `Connection` and the headers it names (its comma-separated options), but a WebSocket's `Upgrade`. */
function dropConnectionHeaders(headers: Headers, value: string, websocket: boolean): void {
  const options = value.toLowerCase();
  if (options === "upgrade" && websocket) return;
  if (options !== "keep-alive" && options !== "close") {
    for (const option of options.split(",")) {
      const name = option.trim();
      if (!name || (websocket && name === "upgrade")) continue;
      try {
        headers.delete(name);
      } catch {
        // Not a header name (`Connection: a b`), so it names no header there is.
      }
    }
  }
  if (websocket) headers.set("Connection", "Upgrade");
  else headers.delete("Connection");
}

/**
 * The request body to send on: none for GET or HEAD (one there has no meaning, and `fetch` refuses
 * to send it), else the body streamed, so that a client's broken-off upload aborts the origin
 * request. Without that, the runtime ends the chunked upload as if it were complete, and the
 * origin would take a truncated file or form for the whole one. A body of known length stays one
 * (a FixedLengthStream keeps `Content-Length`): many origins (WSGI servers, Django's among them)
 * cannot read a chunked upload.
 */
function forwardedBody(
  request: Request,
  body: ReadableStream,
  upstream: AbortController,
): ReadableStream | null {
  if (request.method === "GET" || request.method === "HEAD") return null;
  const length = request.headers.get("Content-Length");
  const { readable, writable } =
    length !== null && /^\d{1,15}$/.test(length)
      ? new FixedLengthStream(Number(length))
      : new TransformStream();
  body.pipeTo(writable).catch(() => upstream.abort(UPLOAD_FAILED));
  return readable;
}

/** `X-Forwarded-*` for the origin; `X-Forwarded-For` is the address Cloudflare saw, alone. */
function setForwardedHeaders(headers: Headers, request: Request, url: URL): void {
  headers.set("X-Forwarded-Host", url.host);
  headers.set("X-Forwarded-Proto", url.protocol.slice(0, -1));
  const clientIp = request.headers.get("CF-Connecting-IP");
  // The client's own X-Forwarded-For, if any, is already gone (CLIENT_ADDRESSES).
  if (clientIp) headers.set("X-Forwarded-For", clientIp);
}

const LOOPED_BACK =
  "Loop Detected: this request came back to reflinks itself. Set ORIGIN_URL to your site's address " +
  "(in .dev.vars for wrangler dev, or [vars] in wrangler.toml), or deploy the worker on a route in " +
  "front of your site.";
const ORIGIN_IS_SELF =
  "Loop Detected: ORIGIN_URL names this worker's own host. Set ORIGIN_URL to your site's own " +
  "address (another host), or leave it unset and deploy the worker on a route in front of your site.";

function loopDetected(request: Request, url: URL, message: string): Response {
  const requestId = requestIdOf(request);
  log("warn", "loop_detected", { url: `${url.origin}${url.pathname}`, request_id: requestId });
  return gatewayError(508, message, requestId);
}

function gatewayError(status: 502 | 504 | 508, message: string, requestId: string): Response {
  return new Response(`${message}\nrequest id: ${requestId}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}
