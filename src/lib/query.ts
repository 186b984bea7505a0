/**
 * The raw query string (without "?") minus every parameter named in `names`. The other parameters
 * are kept exactly as sent, in order, so the origin sees what the visitor's URL said.
 */
export function queryWithout(search: string, names: readonly string[]): string {
  let kept = "";
  eachParam(search, (start, eq, amp) => {
    if (!names.includes(paramName(search.slice(start, eq)))) {
      const part = search.slice(start, amp);
      kept = kept === "" ? part : `${kept}&${part}`;
    }
    return false;
  });
  return kept;
}

/**
 * Calls `visit` with the bounds of each non-empty parameter of a query string (with or without
 * "?"): where its name starts, where the name ends ("=" or the parameter's end) and where the
 * parameter ends ("&" or the end), until `visit` returns true. One pass, no arrays: the next "="
 * is searched for again only once the scan has passed it.
 */
function eachParam(search: string, visit: (start: number, eq: number, amp: number) => boolean): void {
  const end = search.length;
  let start = search.charCodeAt(0) === 63 /* ? */ ? 1 : 0;
  let nextEq = -1;
  while (start < end) {
    let amp = search.indexOf("&", start);
    if (amp === -1) amp = end;
    if (amp > start) {
      if (nextEq !== end && nextEq < start) nextEq = indexOrEnd(search, "=", start);
      if (visit(start, Math.min(nextEq, amp), amp)) return;
    }
    start = amp + 1;
  }
}

function indexOrEnd(text: string, what: string, from: number): number {
  const at = text.indexOf(what, from);
  return at === -1 ? text.length : at;
}

function paramName(raw: string): string {
  // Most names are plain: nothing to decode, no exception to guard against.
  if (!raw.includes("%") && !raw.includes("+")) return raw;
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return raw;
  }
}

/**
 * The first value of the parameter `name` in a query string as `URL.search` gives it (with or
 * without "?"), exactly what `new URLSearchParams(search).get(name)` returns, or null. The common
 * case, a plain name and value (no `%`, no `+`), is read by string search, without building the
 * parameter list; anything that would need decoding before the answer is known (an encoded value,
 * or an encoded name earlier in the query that might decode to `name`) is left to URLSearchParams,
 * so decoding stays the standard's (`+` as space, lenient `%`, U+FFFD for bad UTF-8).
 */
export function queryParam(search: string, name: string): string | null {
  if (!isPlainName(name)) return new URLSearchParams(search).get(name);
  let found: string | null = null;
  let decode = false;
  eachParam(search, (start, eq, amp) => {
    if (eq - start === name.length && search.startsWith(name, start)) {
      found = eq === amp ? "" : search.slice(eq + 1, amp);
      decode = needsDecoding(found, 0, found.length);
      return true;
    }
    // Decoding never lengthens a name: only a longer encoded one can turn out to be `name`.
    decode = eq - start > name.length && needsDecoding(search, start, eq);
    return decode;
  });
  return decode ? new URLSearchParams(search).get(name) : found;
}

/** Names compared as they are: `REF_PARAM`'s characters (config.ts), the only ones a URL keeps raw. */
const PLAIN_NAME = /^[A-Za-z0-9._~-]+$/;
let lastPlainName = "";

function isPlainName(name: string): boolean {
  if (name === lastPlainName) return true;
  if (!PLAIN_NAME.test(name)) return false;
  lastPlainName = name;
  return true;
}

function needsDecoding(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */ || c === 43 /* + */) return true;
  }
  return false;
}

/**
 * The value of whichever of `names` comes first in the query string, as {@link queryParam} reads
 * it, or null when none is there (`REF_PARAM=ref,via`: `?via=alice&ref=bob` names alice). One name
 * is {@link queryParam} itself; with several, anything encoded is left to URLSearchParams.
 *
 * @example firstQueryParam("?a=1&via=x&ref=y", ["ref", "via"]) // "x"
 */
export function firstQueryParam(search: string, names: readonly string[]): string | null {
  if (names.length === 1) return queryParam(search, names[0] as string);
  let found: string | null = null;
  let decode = false;
  eachParam(search, (start, eq, amp) => {
    if (needsDecoding(search, start, eq)) {
      decode = true;
      return true;
    }
    const name = search.slice(start, eq);
    if (!names.includes(name)) return false;
    found = eq === amp ? "" : search.slice(eq + 1, amp);
    decode = needsDecoding(found, 0, found.length);
    return true;
  });
  if (!decode) return found;
  for (const [name, value] of new URLSearchParams(search)) if (names.includes(name)) return value;
  return null;
}
