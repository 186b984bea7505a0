import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// readD1Migrations reads top-level *.sql only: a drizzle-kit that writes folders would apply nothing.
if (env.TEST_MIGRATIONS.length === 0) throw new Error("no migrations were read from ./drizzle");
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
