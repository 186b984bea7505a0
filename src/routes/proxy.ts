/**
 * SPEC route 4: everything that is not ours goes to the origin as it came (method, headers, body
 * streamed both ways, redirects not followed) and comes back as the origin sent it.
 */
import type { Config } from "../config";
import { errorMessage, log } from "../lib/log";

/**
 * Marks requests this worker sends on. Seeing it on an incoming request means the origin (or
 * route-mode `fetch(request)`) led back to this worker: answering 508 breaks the loop at once
 * instead of letting it run until Cloudflare's subrequest limit.
 */
export const LOOP_HEADER = "X-Reflinks-Hop";

export async function proxyToOrigin(request: Request, url: URL, config: Config): Promise<Response> {
  if (request.headers.has(LOOP_HEADER)) return gatewayError(508, "Loop Detected");

  const headers = new Headers(request.headers);
  headers.set(LOOP_HEADER, "1");
  let target: string | null = null;
  if (config.originUrl && config.originBase) {
    if (config.originUrl.host === url.host) return gatewayError(508, "Loop Detected");
    target = `${config.originBase}${url.pathname}${url.search}`;
    setForwardedHeaders(headers, request, url);
  }

  const upstream = new AbortController();
  const timer = setTimeout(() => upstream.abort(ORIGIN_TIMED_OUT), config.originTimeoutMs);
  try {
    // Route mode (no ORIGIN_URL): fetch(request), which on a Cloudflare route reaches the origin.
    return await fetch(target ?? request, {
      method: request.method,
      headers,
      body: request.body && abortOnUploadError(request, request.body, upstream),
      redirect: "manual",
      signal: upstream.signal,
    });
  } catch (error) {
    // Path only: query strings can carry personal data (emails, tokens) that logs must not keep.
    const where = `${config.originBase ?? url.origin}${url.pathname}`;
    if (upstream.signal.reason === ORIGIN_TIMED_OUT) {
      log("warn", "origin_timeout", { url: where, timeout_ms: config.originTimeoutMs });
      return gatewayError(504, "Gateway Timeout");
    }
    if (upstream.signal.reason === UPLOAD_FAILED) {
      log("warn", "client_upload_failed", { url: where });
      return gatewayError(502, "Bad Gateway");
    }
    log("warn", "origin_unreachable", { url: where, error: errorMessage(error) });
    return gatewayError(502, "Bad Gateway");
  } finally {
    // Only the wait for response headers is limited: a long download must not be cut off.
    clearTimeout(timer);
  }
}

const ORIGIN_TIMED_OUT = "origin timed out";
const UPLOAD_FAILED = "client upload failed";

/**
 * The request body, streamed on; if the client's upload breaks off, the origin request is aborted.
 * Without this, the runtime ends the chunked upload as if it were complete, and the origin would
 * take a truncated file or form for the whole one. A body of known length stays one (a
 * FixedLengthStream keeps `Content-Length`): many origins (WSGI servers, Django's among them)
 * cannot read a chunked upload.
 */
function abortOnUploadError(
  request: Request,
  body: ReadableStream,
  upstream: AbortController,
): ReadableStream {
  const length = request.headers.get("Content-Length");
  const { readable, writable } =
    length !== null && /^\d{1,15}$/.test(length)
      ? new FixedLengthStream(Number(length))
      : new TransformStream();
  body.pipeTo(writable).catch(() => upstream.abort(UPLOAD_FAILED));
  return readable;
}

function setForwardedHeaders(headers: Headers, request: Request, url: URL): void {
  headers.set("X-Forwarded-Host", url.host);
  headers.set("X-Forwarded-Proto", url.protocol.slice(0, -1));
  const clientIp = request.headers.get("CF-Connecting-IP");
  if (!clientIp) return;
  const chain = request.headers.get("X-Forwarded-For");
  // Cloudflare may already have put the client at the end of the chain; do not name it twice.
  const last = chain?.split(",").at(-1)?.trim();
  headers.set("X-Forwarded-For", !chain ? clientIp : last === clientIp ? chain : `${chain}, ${clientIp}`);
}

function gatewayError(status: 502 | 504 | 508, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}
