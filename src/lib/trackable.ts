import { isbot } from "isbot";

/**
 * Whether a request to a referral URL is a person's visit worth a hit
 * (docs/routing.md#what-records-a-hit). HEAD requests, browser prefetches, bots (link unfurlers,
 * crawlers: `isbot`'s maintained list) and anything the browser marks as not a top-level
 * navigation (an `<img>`, an `<iframe>` or a script's `fetch` on another site, which would record
 * a hit on every page view there) follow the same redirect but leave no hit and get no cookie.
 */
export function isTrackableVisit(request: Request): boolean {
  if (request.method !== "GET") return false;
  const headers = request.headers;
  const purpose = headers.get("Sec-Purpose") ?? headers.get("Purpose");
  if (purpose?.toLowerCase().includes("prefetch")) return false;
  // Browsers without Fetch Metadata send neither header: they still count.
  const dest = headers.get("Sec-Fetch-Dest");
  if (dest !== null && dest !== "document") return false;
  const mode = headers.get("Sec-Fetch-Mode");
  if (mode !== null && mode !== "navigate") return false;
  return !isbot(headers.get("User-Agent") ?? "");
}
