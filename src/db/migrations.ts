/**
 * Which migrations this build expects (drizzle/meta/_journal.json, which drizzle-kit writes with
 * every migration) and which of them a database lacks, so that `/_reflinks/health` can say that a
 * database was never migrated, or is behind the code, instead of answering ok while every hit
 * fails with "no such table". Wrangler records each applied file's name in `d1_migrations`.
 */
import journal from "../../drizzle/meta/_journal.json";

/** The migration files of this build, in order: `0000_init.sql`, … */
export const EXPECTED_MIGRATIONS: readonly string[] = journal.entries.map((entry) => `${entry.tag}.sql`);

/** What to run to bring a database up to date (`--local` for `wrangler dev`). */
export const MIGRATE_COMMAND = "npx wrangler d1 migrations apply DB --remote (or --local for wrangler dev)";

/**
 * The expected migrations the database has not applied, in order; every one of them when it was
 * never migrated (no `d1_migrations` table). Throws when D1 itself fails.
 */
export async function missingMigrations(db: D1Database): Promise<string[]> {
  let applied: Set<string>;
  try {
    const { results } = await db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>();
    applied = new Set(results.map((row) => row.name));
  } catch (error) {
    if (/no such table/i.test(String((error as Error)?.message ?? error))) return [...EXPECTED_MIGRATIONS];
    throw error;
  }
  return EXPECTED_MIGRATIONS.filter((name) => !applied.has(name));
}
