/** Random identifiers and secrets of webhook endpoints. */
import { toBase64, toBase64url } from "../lib/base64";

/** `wh_` and 16 random bytes, base64url: an endpoint's id, safe in a URL path. */
export function newWebhookId(): string {
  return `wh_${toBase64url(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/**
 * `whsec_` and the base64 of 32 random bytes: the Standard Webhooks secret format, which every
 * Standard Webhooks library takes as it is (the bytes after the prefix are the HMAC key).
 */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}
