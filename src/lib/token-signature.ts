/**
 * Hex HMAC-SHA256 under `API_TOKEN`: the signature of the login header the origin sends
 * (docs/routing.md#reporting-logins-with-a-response-header) and of the referral context the worker sends it
 * (docs/referred-visitor.md). The key is imported once per isolate and token (./keys.ts).
 */
import { hmacKey } from "./keys";

const HEX_SIGNATURE = /^[0-9a-f]{64}$/i;

/** The lower-case hex HMAC-SHA256 of `value` under `token`. */
export async function signWithToken(value: string, token: string): Promise<string> {
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", await hmacKey(token), new TextEncoder().encode(value)),
  );
  let hex = "";
  for (const byte of mac) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Whether `signature` (hex, either case) is the HMAC-SHA256 of `value` under `token`; constant-time. */
export async function isSignedWithToken(value: string, signature: string, token: string): Promise<boolean> {
  if (!HEX_SIGNATURE.test(signature)) return false;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(signature.slice(i * 2, i * 2 + 2), 16);
  return crypto.subtle.verify("HMAC", await hmacKey(token), bytes, new TextEncoder().encode(value));
}
