/**
 * `paid_click` (docs/fraud.md#the-rules-fraud_rules): which ad network's click id a referral URL carries. A
 * referrer who buys ads on the site's own brand and sends the clicks through their link earns on
 * customers the site would have had anyway.
 */

/** The click ids of Google (three kinds), Meta, Microsoft, TikTok, LinkedIn and X, in that order. */
export const PAID_CLICK_PARAMS = [
  "gclid",
  "gbraid",
  "wbraid",
  "gad_source",
  "fbclid",
  "msclkid",
  "ttclid",
  "li_fat_id",
  "twclid",
] as const;

/**
 * The first name of {@link PAID_CLICK_PARAMS} in `search` (a query string, `?` or not), else in
 * `next`'s query (a path or URL); null when neither has one. Cheap when there is no query.
 *
 * @example
 * paidClickOf("?utm_source=x&fbclid=abc", "/pricing") // "fbclid"
 * paidClickOf("", "/pricing?gclid=1")                  // "gclid"
 */
export function paidClickOf(search: string, next: string | null): string | null {
  return firstIn(search) ?? (next ? firstIn(queryOf(next)) : null);
}

function queryOf(next: string): string {
  const start = next.indexOf("?");
  if (start < 0) return "";
  const end = next.indexOf("#", start);
  return end < 0 ? next.slice(start) : next.slice(start, end);
}

function firstIn(search: string): string | null {
  if (search.length < 2) return null;
  const params = new URLSearchParams(search);
  for (const name of PAID_CLICK_PARAMS) if (params.has(name)) return name;
  return null;
}
