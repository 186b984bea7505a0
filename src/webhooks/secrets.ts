/** Random identifiers and secrets of webhook endpoints. */

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** `wh_` and 16 random bytes, base64url: an endpoint's id, safe in a URL path. */
export function newWebhookId(): string {
  const text = base64(crypto.getRandomValues(new Uint8Array(16)));
  return `wh_${text.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}

/**
 * `whsec_` and the base64 of 32 random bytes: the Standard Webhooks secret format, which every
 * Standard Webhooks library takes as it is (the bytes after the prefix are the HMAC key).
 */
export function newWebhookSecret(): string {
  return `whsec_${base64(crypto.getRandomValues(new Uint8Array(32)))}`;
}
