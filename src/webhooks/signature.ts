/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/, "Signature scheme"):
 * `v1,` + base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the
 * bytes the secret's base64 (after `whsec_`) decodes to. Receivers check it with any Standard
 * Webhooks library; the tests do so with the `standardwebhooks` npm package, not with this code.
 */
import { fromBase64, toBase64 } from "../lib/base64";

const SECRET_PREFIX = "whsec_";
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    const bytes = fromBase64(encoded);
    key = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    // A handful of endpoints at most: the cache stays small, and it is per isolate.
    if (keys.size > 100) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** The `webhook-signature` header of one attempt. */
export async function signatureHeader(
  secret: string,
  eventId: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const signed = new TextEncoder().encode(`${eventId}.${timestampSeconds}.${body}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), signed));
  return `v1,${toBase64(mac)}`;
}
