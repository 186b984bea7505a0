/**
 * The worker's secret keys, derived and imported once per isolate: WebCrypto's imports and HKDF
 * derivations are the costly part of a signature, and a request should pay only for the HMAC.
 * Each key is cached by what it is made of; the caches stay small (one API token, one signing
 * secret, a few webhook secrets) and are cleared past {@link MAX_CACHED} to stay that way.
 */

const MAX_CACHED = 100;

function memo<T>(cache: Map<string, Promise<T>>, id: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(id);
  if (!value) {
    if (cache.size >= MAX_CACHED) cache.clear();
    value = make();
    cache.set(id, value);
  }
  return value;
}

const derived = new Map<string, Promise<ArrayBuffer>>();
const hmacKeys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

/**
 * 32 bytes derived from `secret` for one purpose (`info`, e.g. "reflinks ip hash") with
 * HKDF-SHA-256 and no salt: a key of its own per purpose, so that one secret serves several.
 */
export function derivedBits(secret: string, info: string): Promise<ArrayBuffer> {
  return memo(derived, `${info}\0${secret}`, async () => {
    const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
      "deriveBits",
    ]);
    return crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(info) },
      material,
      256,
    );
  });
}

/** An HMAC-SHA-256 key of the bytes `id` stands for (`bytes()` makes them the first time). */
function hmacKeyOf(id: string, bytes: () => Promise<BufferSource> | BufferSource): Promise<CryptoKey> {
  return memo(hmacKeys, id, async () =>
    crypto.subtle.importKey("raw", await bytes(), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]),
  );
}

/** The HMAC-SHA-256 key whose bytes are `secret`'s UTF-8. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  return hmacKeyOf(`raw\0${secret}`, () => encoder.encode(secret));
}

/** The HMAC-SHA-256 key of raw `bytes`, cached under `id` (what the bytes were decoded from). */
export function hmacKeyOfBytes(id: string, bytes: () => BufferSource): Promise<CryptoKey> {
  return hmacKeyOf(`bytes\0${id}`, bytes);
}

/** The HMAC-SHA-256 key {@link derivedBits} makes of `secret` for `info`. */
export function derivedHmacKey(secret: string, info: string): Promise<CryptoKey> {
  return hmacKeyOf(`hkdf\0${info}\0${secret}`, () => derivedBits(secret, info));
}
