/**
 * What the lazily loaded API borrows from the main module: the functions whose module keeps state
 * that must have one home in an isolate. The API is uploaded as a module of its own
 * (scripts/build-lazy.mjs), bundled with its own copy of every module it imports; a copy of
 * src/hits/link-cache.ts there would hold a second, empty cache, and `forgetLink` after a link is
 * disabled would forget nothing the front remembers. So the API bundle's imports of these modules
 * are replaced by calls through this host, which the main module passes to `createApiApp`.
 *
 * Only functions, called at request time: the host is set before the app answers anything. A
 * module added to `SHARED` in scripts/build-lazy.mjs must have its imported functions here.
 */
import type { forgetLink } from "../hits/link-cache";
import type { requestIdOf } from "../lib/request-id";
import type { forgetHitWebhooks, hitEventStatements, hitEventsWritten } from "../webhooks/hit-events";

export interface ApiHost {
  /** src/hits/link-cache.ts: the front's cache of link lookups. */
  forgetLink: typeof forgetLink;
  /** src/webhooks/hit-events.ts: whether any endpoint wants `hit.created`, as the front remembers it. */
  forgetHitWebhooks: typeof forgetHitWebhooks;
  hitEventStatements: typeof hitEventStatements;
  hitEventsWritten: typeof hitEventsWritten;
  /** src/lib/request-id.ts: one id per request, whichever module logs it. */
  requestIdOf: typeof requestIdOf;
}

let current: ApiHost | undefined;

export function setHost(host: ApiHost): void {
  current = host;
}

/** The main module's functions; only the API bundle's stand-ins (build-lazy.mjs) call this. */
export function host(): ApiHost {
  if (current === undefined) throw new Error("the API bundle was used before createApiApp(host)");
  return current;
}
