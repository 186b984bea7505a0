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
  return !isBotAgent(headers.get("User-Agent") ?? "");
}

/**
 * How many User-Agent verdicts an isolate remembers, and the longest User-Agent it remembers one
 * for: at most about 0.5 MiB, however many made-up agents arrive (the memory is emptied when full).
 */
export const BOT_VERDICTS_MAX = 500;
const BOT_VERDICT_MAX_LENGTH = 512;
const botVerdicts = new Map<string, boolean>();

/**
 * `isbot`, remembered per User-Agent. Its pattern is one large regular expression with lookbehinds,
 * a few percent of a click's CPU (docs/performance.md), while most of a site's clicks come from
 * the few hundred User-Agents of current browsers, which then find their verdict here.
 */
export function isBotAgent(userAgent: string): boolean {
  let verdict = botVerdicts.get(userAgent);
  if (verdict === undefined) {
    verdict = isbot(userAgent);
    if (userAgent.length <= BOT_VERDICT_MAX_LENGTH) {
      if (botVerdicts.size >= BOT_VERDICTS_MAX) botVerdicts.clear();
      botVerdicts.set(userAgent, verdict);
    }
  }
  return verdict;
}

/** How many verdicts are remembered now (for tests). */
export function rememberedBotVerdicts(): number {
  return botVerdicts.size;
}
