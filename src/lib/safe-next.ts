/**
 * The safe-`next` rule (docs/routing.md#safe-next), the defence against open redirects.
 *
 * Accepted: a path that starts with exactly one "/" (not "//", not "/\", which browsers read as
 * protocol-relative), or an absolute https URL on the request's host or an allowed host. Rejected
 * everywhere: control characters, whitespace, invisible format characters and backslashes, which
 * browsers strip or rewrite in ways that turn a harmless-looking path into another host.
 */
const UNSAFE_CHARACTER = /[\p{Cc}\p{Cf}\p{Z}\s\\]/u;

/**
 * Returns the redirect target for `next`, normalised and percent-encoded (so it is always a valid
 * `Location` value), or null when `next` is missing or unsafe.
 *
 * @example
 * safeNext("/pricing?plan=pro", new URL("https://example.com/ref/abc"), new Set()) // "/pricing?plan=pro"
 * safeNext("//evil.com", new URL("https://example.com/ref/abc"), new Set())        // null
 */
export function safeNext(
  next: string | null | undefined,
  requestUrl: URL,
  allowedHosts: ReadonlySet<string>,
): string | null {
  if (!next || UNSAFE_CHARACTER.test(next)) return null;

  if (next.startsWith("/")) {
    if (next.startsWith("//")) return null;
    const resolved = parse(next, requestUrl.origin);
    // Whatever the parser made of it must still be on this origin, and its path must not have
    // become protocol-relative: "/..//evil.com" resolves to the path "//evil.com".
    if (!resolved || resolved.origin !== requestUrl.origin) return null;
    if (!isPlainPath(resolved.pathname)) return null;
    return resolved.pathname + resolved.search + resolved.hash;
  }

  if (!/^https:\/\//i.test(next)) return null;
  const url = parse(next);
  if (url?.protocol !== "https:" || url.username || url.password) return null;
  const host = url.host.toLowerCase();
  if (host !== requestUrl.host.toLowerCase() && !allowedHosts.has(host)) return null;
  return url.href;
}

/** A path a browser cannot read as another host: one leading "/", not "//" or "/\\". */
export function isPlainPath(path: string): boolean {
  return path.startsWith("/") && path[1] !== "/" && path[1] !== "\\";
}

function parse(input: string, base?: string): URL | null {
  try {
    return new URL(input, base);
  } catch {
    return null;
  }
}

/**
 * Appends a raw query string to a redirect target, after the target's own and before any fragment.
 */
export function appendQuery(target: string, query: string): string {
  if (!query) return target;
  const hashAt = target.indexOf("#");
  const beforeHash = hashAt === -1 ? target : target.slice(0, hashAt);
  const hash = hashAt === -1 ? "" : target.slice(hashAt);
  const separator = !beforeHash.includes("?") ? "?" : /[?&]$/.test(beforeHash) ? "" : "&";
  return `${beforeHash}${separator}${query}${hash}`;
}
