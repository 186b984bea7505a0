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
