/**
 * src/lib/base64.ts, the one codec of webhook secrets and signatures, cursors, form tokens,
 * sign-in tokens and CSP hashes: RFC 4648's test vectors, every byte value, and what it refuses.
 */
import { describe, expect, it } from "vitest";
import { fromBase64, fromBase64url, toBase64, toBase64url } from "../../src/lib/base64";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("base64 and base64url", () => {
  it.each([
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ])("RFC 4648 §10: %j is %j", (text, encoded) => {
    expect(toBase64(bytes(text))).toBe(encoded);
    expect(fromBase64(encoded)).toEqual(bytes(text));
    // base64url drops the padding, and reads what it wrote.
    expect(toBase64url(bytes(text))).toBe(encoded.replace(/=+$/, ""));
    expect(fromBase64url(toBase64url(bytes(text)))).toEqual(bytes(text));
  });

  it("every byte value round-trips; base64url writes - and _ where base64 writes + and /", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromBase64(toBase64(all))).toEqual(all);
    expect(fromBase64url(toBase64url(all))).toEqual(all);
    expect(toBase64(Uint8Array.of(0xfb, 0xff))).toBe("+/8=");
    expect(toBase64url(Uint8Array.of(0xfb, 0xff))).toBe("-_8");
    // An ArrayBuffer (a digest) as well as a view of one.
    expect(toBase64(all.buffer)).toBe(toBase64(all));
  });

  it("base64url that is not base64url is null: other characters, padding, an impossible length", () => {
    expect(fromBase64url("+/8")).toBeNull();
    expect(fromBase64url("Zg==")).toBeNull();
    expect(fromBase64url("Z")).toBeNull();
    expect(() => fromBase64("not base64!")).toThrow();
  });
});
