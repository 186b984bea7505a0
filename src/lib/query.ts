/**
 * The raw query string (without "?") minus every parameter named in `names`. The other parameters
 * are kept exactly as sent, in order, so the origin sees what the visitor's URL said.
 */
export function queryWithout(search: string, names: readonly string[]): string {
  const query = search.startsWith("?") ? search.slice(1) : search;
  if (!query) return "";
  return query
    .split("&")
    .filter((part) => part !== "" && !names.includes(paramName(part)))
    .join("&");
}

function paramName(part: string): string {
  const at = part.indexOf("=");
  const raw = at === -1 ? part : part.slice(0, at);
  // Most names are plain: nothing to decode, no exception to guard against.
  if (!raw.includes("%") && !raw.includes("+")) return raw;
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return raw;
  }
}
