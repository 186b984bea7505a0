/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/, "Signature scheme"):
 * `v1,` + base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the
 * bytes the secret's base64 (after `whsec_`) decodes to. Receivers check it with any Standard
 * Webhooks library; the tests do so with the `standardwebhooks` npm package, not with this code.
 */
import { fromBase64, toBase64 } from "../lib/base64";
import { hmacKeyOfBytes } from "../lib/keys";

const SECRET_PREFIX = "whsec_";
/** The key is the bytes the secret's base64 decodes to, imported once per isolate and secret. */
function signingKey(secret: string): Promise<CryptoKey> {
  return hmacKeyOfBytes(secret, () =>
    fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret),
  );
}

/** The `webhook-signature` header of one attempt. */
export async function signatureHeader(
  secret: string,
  eventId: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const signed = new TextEncoder().encode(`${eventId}.${timestampSeconds}.${body}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await signingKey(secret), signed));
  return `v1,${toBase64(mac)}`;
}
