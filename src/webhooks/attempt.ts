/**
 * One delivery attempt: a signed `POST` to the endpoint, bounded in every way a receiver could
 * stretch it. A receiver that hangs, redirects, or answers a huge body costs one attempt of at
 * most the timeout and a few KiB read, nothing more: redirects are not followed
 * (`redirect: "manual"`: a 3xx is a failed attempt), at most {@link MAX_BODY_READ} bytes of the
 * answer are read and the rest cancelled, and the whole attempt (headers and that prefix) shares
 * one deadline.
 */
import { signatureHeader } from "./signature";

/** 10 s, as Standard Webhooks recommends; `WEBHOOK_TIMEOUT_MS` overrides it (tests). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Enough of an error answer to show in the delivery log. */
export const MAX_BODY_READ = 1024;
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

export function timeoutOf(bindings: { WEBHOOK_TIMEOUT_MS?: string }): number {
  const value = Number(bindings.WEBHOOK_TIMEOUT_MS);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_TIMEOUT_MS;
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
    const prefix = await Promise.race([readPrefix(response), deadline]);
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      statusCode: response.status,
      error: ok ? null : `HTTP ${response.status}${prefix ? `: ${prefix.slice(0, MAX_ERROR_CHARS)}` : ""}`,
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

/** At most {@link MAX_BODY_READ} bytes of the body, as text; the rest is cancelled unread. */
async function readPrefix(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_READ) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(size, MAX_BODY_READ));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes).trim();
}
