import type { AppBindings } from "./bindings";
import type { Config } from "./config";
import type { Database } from "./db/client";

/** The one Hono environment of the API: bindings, and what middleware puts on the context. */
export interface HonoEnv {
  Bindings: AppBindings;
  Variables: {
    config: Config;
    db: Database;
  };
}
