/**
 * One delivery attempt: a signed `POST` to the endpoint, bounded in every way a receiver could
 * stretch it. A receiver that hangs, redirects, or answers a huge body costs one attempt of at
 * most the timeout and nothing read: redirects are not followed (`redirect: "manual"`: a 3xx is a
 * failed attempt), the answer's body is cancelled unread as soon as its status is known (only the
 * status code counts, and only it is kept in the delivery log: a receiver's error page is not
 * ours to store), and the whole attempt shares one deadline.
 */
import { ConfigError, configOf } from "../config";
import { signatureHeader } from "./signature";

/**
 * 10 s, the product contract's (docs/webhooks.md): `WEBHOOK_TIMEOUT_MS`'s default (src/config.ts,
 * which bounds it). Standard Webhooks recommends "somewhere between 15 and 30s" (its spec,
 * "Request timeouts"); we keep 10 s so that a scheduled run's rounds of attempts, and the lease
 * that covers them (./delivery.ts), stay short. A receiver should answer at once and do its work
 * after. While the configuration is bad (logged, and the API says which variable), deliveries go
 * on with this default.
 */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Enough of a network error's message for the delivery log. */
const MAX_ERROR_CHARS = 256;

export interface Endpoint {
  url: string;
  secret: string;
}

export interface AttemptOutcome {
  ok: boolean;
  /** Null when no answer came. */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One attempt's deadline under the worker's configuration (`bindings`: its environment). */
export function timeoutOf(bindings: object): number {
  const config = configOf(bindings);
  return config instanceof ConfigError ? DEFAULT_TIMEOUT_MS : config.webhookTimeoutMs;
}

export async function attemptDelivery(
  endpoint: Endpoint,
  event: { id: string; payload: string },
  timeoutMs: number,
): Promise<AttemptOutcome> {
  const started = Date.now();
  const timestamp = Math.floor(started / 1000);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const signature = await signatureHeader(endpoint.secret, event.id, timestamp, event.payload);
    const response = await Promise.race([
      fetch(endpoint.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "reflinks-webhooks",
          "webhook-id": event.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signature,
        },
        body: event.payload,
        redirect: "manual",
        signal: controller.signal,
      }),
      deadline,
    ]);
    // Cancelling the body tells the runtime that none of it will be read, so the connection is
    // released (or closed) now rather than when the stream is collected. The status is already
    // known: a body that fails to cancel does not change the outcome.
    await Promise.race([response.body?.cancel().catch(() => undefined), deadline]);
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      statusCode: response.status,
      error: ok ? null : `HTTP ${response.status}`,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    return {
      ok: false,
      statusCode: null,
      error: (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_CHARS),
      durationMs: Date.now() - started,
    };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    controller.abort(); // whatever is still open of this attempt
  }
}
