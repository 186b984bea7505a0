const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A random link identifier of URL-safe characters from `crypto`: 10 characters of a 64-letter
 * alphabet are 60 bits, so guessing live links is hopeless. 64 divides 256, so `byte & 63` is
 * uniform.
 */
export function randomIdentifier(length = 10): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let identifier = "";
  for (const byte of bytes) identifier += ALPHABET[byte & 63];
  return identifier;
}
