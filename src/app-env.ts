import type { AppBindings } from "./bindings";
import type { Config } from "./config";
import type { Database } from "./db/client";
import type { WrittenEvents } from "./webhooks/outbox";

/** The one Hono environment of the API: bindings, and what middleware puts on the context. */
export interface HonoEnv {
  Bindings: AppBindings;
  Variables: {
    config: Config;
    db: Database;
    /** The webhook events the request's changes wrote (src/webhooks/first-attempt.ts). */
    events: WrittenEvents;
  };
}
