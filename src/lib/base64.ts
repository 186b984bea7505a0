/**
 * Base64 (RFC 4648 §4) and base64url without padding (§5), of bytes: the one codec of webhook
 * secrets and signatures, cursors, form tokens, sign-in tokens and CSP hashes. The runtime's own
 * `btoa`/`atob` work on "binary strings" (one char per byte): these wrap them, so that no caller
 * spreads bytes into a string or forgets a replacement.
 */

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function toBase64url(bytes: ArrayBuffer | Uint8Array): string {
  return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The bytes of `text` (base64, padded or not); throws on anything else, as `atob` does. */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** The bytes of `text` (base64url without padding), or null when it is not that. */
export function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    return fromBase64(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
}
