import { isbot } from "isbot";

/**
 * Whether a request to a referral URL is a person's visit worth a hit. HEAD requests, browser
 * prefetches and bots (link unfurlers, crawlers: `isbot`'s maintained list) follow the same
 * redirect but leave no hit and get no cookie, so that previews in chat apps inflate nothing.
 */
export function isTrackableVisit(request: Request): boolean {
  if (request.method !== "GET") return false;
  const purpose = request.headers.get("Sec-Purpose") ?? request.headers.get("Purpose") ?? "";
  if (purpose.toLowerCase().includes("prefetch")) return false;
  return !isbot(request.headers.get("User-Agent") ?? "");
}
