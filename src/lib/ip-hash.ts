/**
 * `ip_hash` (docs/fraud.md#what-is-stored-and-for-how-long): the first 16 lower-case hex digits of an HMAC-SHA256
 * of the full client address, so that fraud rules can tell "the same network" without keeping the
 * address (`STORE_IP` may keep none of it). Keyed with a key derived from `API_TOKEN` (HKDF-SHA256,
 * as the identity cookie's, with its own info string), so a hash means nothing outside this
 * deployment and cannot be reversed by hashing the 2^32 IPv4 addresses.
 */
import { ipAddressBytes } from "./ip";
import { derivedHmacKey } from "./keys";

const HKDF_INFO = "reflinks ip hash";

/** A client address's hash, and whether the address may be evidence for a rule. */
export interface IpSignal {
  ipHash: string;
  /** Loopback, private or link-local (a local run, never a visitor behind Cloudflare). */
  ipPrivate: boolean;
}

/**
 * The hash of `address` (as `CF-Connecting-IP` gives it) under `token`; null without either.
 *
 * @example
 * await ipSignal("203.0.113.9", env.API_TOKEN) // { ipHash: "3f9c…" (16 hex), ipPrivate: false }
 */
export async function ipSignal(address: string | null, token: string | null): Promise<IpSignal | null> {
  const ip = address?.trim();
  if (!ip || !token) return null;
  const mac = await crypto.subtle.sign(
    "HMAC",
    await derivedHmacKey(token, HKDF_INFO),
    new TextEncoder().encode(ip),
  );
  let hex = "";
  for (const byte of new Uint8Array(mac, 0, 8)) hex += byte.toString(16).padStart(2, "0");
  return { ipHash: hex, ipPrivate: isLocalAddress(ip) };
}

/**
 * Loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7) and link-local
 * (169.254/16, fe80::/10) addresses, also as IPv4-mapped IPv6. Anything that is not an address at
 * all counts as local too: it can only come from a local run.
 */
export function isLocalAddress(ip: string): boolean {
  const bytes = ipAddressBytes(ip);
  if (!bytes) return true;
  const v4 =
    bytes.length === 4
      ? bytes
      : bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
        ? bytes.subarray(12)
        : null;
  if (v4) {
    const [a = 0, b = 0] = v4;
    return (
      a === 127 ||
      a === 10 ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  const [first = 0, second = 0] = bytes;
  const loopback = bytes.subarray(0, 15).every((b) => b === 0) && bytes[15] === 1;
  return loopback || (first & 0xfe) === 0xfc || (first === 0xfe && (second & 0xc0) === 0x80);
}
