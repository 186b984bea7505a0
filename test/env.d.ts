import type { D1Migration } from "cloudflare:test";

// Test-only bindings (and the optional ones the tests set), declared by augmenting the generated Env.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** An empty D1 database, migrated step by step by the migration upgrade test. */
      MIGRATION_TEST_DB: D1Database;
      /** Runs per property test (optional; default 200). */
      FC_RUNS?: string;
      /** An R2 bucket the archive tests pass as `ARCHIVE`. */
      TEST_ARCHIVE: R2Bucket;
      TEST_HITS_QUEUE: Queue<import("../src/hits/save-hit").QueuedHit>;
      ORIGIN_URL?: string;
      ORIGIN_TIMEOUT_SECONDS?: string;
      API_TOKEN?: string;
      SIGNING_SECRET?: string;
    }
  }
}
