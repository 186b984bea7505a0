/**
 * src/lib/keys.ts: the one place secret keys are derived and imported. The derivation is checked
 * against RFC 5869's definition of HKDF written out here with plain HMAC, and against WebCrypto's
 * `deriveKey` (how the dashboard's form keys were made before), so that tokens, cookies and IP
 * hashes made before keys.ts still verify after it.
 */
import { describe, expect, it } from "vitest";
import { derivedBits, derivedHmacKey, hmacKey, hmacKeyOfBytes } from "../../src/lib/keys";

const encoder = new TextEncoder();
const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function hmac(key: BufferSource, data: BufferSource): Promise<ArrayBuffer> {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return crypto.subtle.sign("HMAC", imported, data);
}

/** RFC 5869 §2.2–2.3 with an empty salt (HashLen zeros) and L = 32: one block, T(1). */
async function hkdfByHand(secret: string, info: string): Promise<ArrayBuffer> {
  const prk = await hmac(new Uint8Array(32), encoder.encode(secret));
  return hmac(prk, new Uint8Array([...encoder.encode(info), 1]));
}

describe("derivedBits", () => {
  it("is RFC 5869's HKDF-SHA-256 with no salt, 32 bytes", async () => {
    for (const [secret, info] of [
      ["test-api-token", "reflinks ip hash"],
      ["ünïcödé secret", "reflinks identity cookie"],
    ] as const) {
      expect(hex(await derivedBits(secret, info))).toBe(hex(await hkdfByHand(secret, info)));
    }
  });

  it("gives each purpose its own key, and each secret", async () => {
    const a = hex(await derivedBits("secret", "reflinks ip hash"));
    expect(hex(await derivedBits("secret", "reflinks identity cookie"))).not.toBe(a);
    expect(hex(await derivedBits("secret2", "reflinks ip hash"))).not.toBe(a);
  });

  it("is derived once per isolate, secret and purpose", () => {
    expect(derivedBits("cached", "p")).toBe(derivedBits("cached", "p"));
  });
});

describe("derivedHmacKey", () => {
  it("signs as the key WebCrypto's deriveKey makes for the same secret and purpose (the form keys of before)", async () => {
    const info = "reflinks dashboard form";
    const material = await crypto.subtle.importKey("raw", encoder.encode("tok"), "HKDF", false, [
      "deriveKey",
    ]);
    const before = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(info) },
      material,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign"],
    );
    const data = encoder.encode("a form token's payload");
    expect(hex(await crypto.subtle.sign("HMAC", await derivedHmacKey("tok", info), data))).toBe(
      hex(await crypto.subtle.sign("HMAC", before, data)),
    );
  });
});

describe("hmacKey and hmacKeyOfBytes", () => {
  it("key HMAC-SHA-256 with the secret's UTF-8, or with the bytes given", async () => {
    const data = encoder.encode("value");
    expect(hex(await crypto.subtle.sign("HMAC", await hmacKey("token"), data))).toBe(
      hex(await hmac(encoder.encode("token"), data)),
    );
    const bytes = new Uint8Array([1, 2, 3, 250]);
    expect(
      hex(await crypto.subtle.sign("HMAC", await hmacKeyOfBytes("whsec_AQID+g==", () => bytes), data)),
    ).toBe(hex(await hmac(bytes, data)));
  });

  it("a raw key and a decoded one of the same text are different keys", async () => {
    expect(await hmacKey("same")).not.toBe(await hmacKeyOfBytes("same", () => new Uint8Array([9])));
  });
});
