import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { AppBindings } from "../../src/bindings";
import worker from "../../src/index";

export const SITE = "https://shop.example";
export const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export interface SendOptions extends Omit<RequestInit, "cf"> {
  /** What Cloudflare's edge would have put on `request.cf` (country, say). */
  cf?: Partial<IncomingRequestCfProperties>;
  /** Replaces some bindings (configuration, a failing DB) for this request only. */
  bindings?: Partial<AppBindings>;
}

/**
 * Sends a request through the worker's own entry, as a browser would (a browser User-Agent unless
 * one is given), and waits for its background work (`waitUntil`: hit writes) to finish.
 */
export async function send(path: string, options: SendOptions = {}): Promise<Response> {
  const { bindings, ...init } = options;
  const headers = new Headers(init.headers);
  if (!headers.has("User-Agent")) headers.set("User-Agent", BROWSER_UA);
  const request = new Request(new URL(path, SITE), {
    ...init,
    headers,
    redirect: "manual",
  }) as Request<unknown, IncomingRequestCfProperties>;
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, bindings ? { ...env, ...bindings } : env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

let counter = 0;
/** A link identifier no other test uses (storage is shared by the tests of one file). */
export function uniqueIdentifier(prefix = "link"): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}
