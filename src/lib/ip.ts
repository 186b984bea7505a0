import type { Config } from "../config";

/**
 * The visitor's IP address as `STORE_IP` allows it to be kept: whole, truncated to its network
 * (IPv4 /24, IPv6 /48: enough to review fraud, not enough to name a person), or not at all.
 */
export function storableIp(ip: string | null, mode: Config["storeIp"]): string | null {
  if (!ip || mode === "none") return null;
  const address = ip.trim();
  if (mode === "full") return address.slice(0, 64);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
    return `${address.split(".").slice(0, 3).join(".")}.0`;
  }
  if (address.includes(":")) return truncateIpv6(address);
  return null;
}

function truncateIpv6(address: string): string | null {
  const groups = expandIpv6(address);
  if (!groups) return null;
  return `${groups.slice(0, 3).join(":")}::`;
}

/** The eight 16-bit groups of an IPv6 address (without leading zeros), or null if it is not one. */
function expandIpv6(address: string): string[] | null {
  const halves = address.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return null;
  return groups.map((group) => group.replace(/^0+(?=.)/, ""));
}

/**
 * The 4 or 16 bytes of an IP address written as dotted-quad IPv4 or as IPv6 (an IPv4 tail such
 * as `::ffff:127.0.0.1` included, brackets not), or null if `text` is not one. Only the canonical
 * notations: a URL's host is already in one (the WHATWG URL parser turns `0x7f000001`, `2130706433`
 * and `127.1` into `127.0.0.1`), and anything else is not an address here.
 */
export function ipAddressBytes(text: string): Uint8Array | null {
  if (!text.includes(":")) return ipv4Bytes(text);
  let address = text;
  const tail = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (tail?.[1]) {
    const v4 = ipv4Bytes(tail[1]);
    if (!v4) return null;
    const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
    address = `${address.slice(0, -tail[1].length)}${hex(v4[0] ?? 0, v4[1] ?? 0)}:${hex(v4[2] ?? 0, v4[3] ?? 0)}`;
  }
  const groups = expandIpv6(address);
  if (!groups) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

function ipv4Bytes(text: string): Uint8Array | null {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return null;
  const parts = text.split(".").map(Number);
  return parts.every((part) => part <= 255) ? Uint8Array.from(parts) : null;
}

/**
 * IPv4 ranges that are not the public Internet (RFC 6890's special-purpose registry, the parts a
 * request could reach something through): this network, private (RFC 1918), shared address space
 * (RFC 6598: carrier-grade NAT, 100.64.0.0/10), loopback, link-local (the cloud metadata services
 * at 169.254.169.254), IETF protocol assignments, documentation, benchmarking, multicast and
 * reserved (with the broadcast address).
 */
const NON_PUBLIC_IPV4: readonly (readonly [number, number, number, number, number])[] = [
  [0, 0, 0, 0, 8],
  [10, 0, 0, 0, 8],
  [100, 64, 0, 0, 10],
  [127, 0, 0, 0, 8],
  [169, 254, 0, 0, 16],
  [172, 16, 0, 0, 12],
  [192, 0, 0, 0, 24],
  [192, 0, 2, 0, 24],
  [192, 168, 0, 0, 16],
  [198, 18, 0, 0, 15],
  [198, 51, 100, 0, 24],
  [203, 0, 113, 0, 24],
  [224, 0, 0, 0, 4],
  [240, 0, 0, 0, 4],
];

/** Whether the first `length` bits of `bytes` and `prefix` are the same. */
function inPrefix(bytes: Uint8Array, prefix: ArrayLike<number>, length: number): boolean {
  for (let bit = 0; bit < length; bit += 8) {
    const mask = (0xff << (8 - Math.min(8, length - bit))) & 0xff;
    const i = bit / 8;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * Whether an address (from {@link ipAddressBytes}) is on the public Internet: not loopback,
 * private, shared, link-local, unspecified, multicast or otherwise reserved. IPv6 is public only
 * inside global unicast (2000::/3, less documentation's 2001:db8::/32), which leaves out `::`,
 * `::1`, unique local fc00::/7, link-local fe80::/10 and multicast ff00::/8; an IPv6 address that
 * carries an IPv4 one (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64 64:ff9b::/96,
 * 6to4 2002::/16) is as public as that IPv4 address, since that is where a packet to it goes.
 */
export function isPublicIpAddress(bytes: Uint8Array): boolean {
  if (bytes.length === 4) {
    return !NON_PUBLIC_IPV4.some(([a, b, c, d, length]) => inPrefix(bytes, [a, b, c, d], length));
  }
  const zeros = (from: number, to: number) => bytes.subarray(from, to).every((byte) => byte === 0);
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return isPublicIpAddress(bytes.subarray(12));
  if (zeros(0, 12)) return isPublicIpAddress(bytes.subarray(12));
  if (inPrefix(bytes, [0x00, 0x64, 0xff, 0x9b], 32) && zeros(4, 12)) {
    return isPublicIpAddress(bytes.subarray(12));
  }
  if (inPrefix(bytes, [0x20, 0x02], 16)) return isPublicIpAddress(bytes.subarray(2, 6));
  if (inPrefix(bytes, [0x20, 0x01, 0x0d, 0xb8], 32)) return false;
  return inPrefix(bytes, [0x20], 3);
}
