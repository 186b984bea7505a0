/**
 * `GET /_reflinks/health` on a database that was never migrated, or is behind the code: not ok,
 * and the answer says what to run. Before, it answered `{"ok": true}` while every hit was lost
 * (`hit_write_failed … no such table`).
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXPECTED_MIGRATIONS } from "../../src/db/migrations";
import { apiJson } from "../support/api";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /_reflinks/health and the database's migrations", () => {
  it("expects every migration file of drizzle/, in order", () => {
    expect(EXPECTED_MIGRATIONS).toEqual(env.TEST_MIGRATIONS.map((migration) => migration.name));
  });

  it("never migrated: 503 not_migrated naming every migration and the command; logged", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const empty = env.MIGRATION_TEST_DB;
    const answer = await apiJson("/health", { token: null, bindings: { DB: empty } });
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe("not_migrated");
    expect(answer.body.error.message).toContain("was never migrated");
    expect(answer.body.error.message).toContain(
      `${EXPECTED_MIGRATIONS.length} of ${EXPECTED_MIGRATIONS.length}`,
    );
    expect(answer.body.error.message).toContain("npx wrangler d1 migrations apply DB --remote");
    expect(answer.headers.get("Cache-Control")).toBe("no-store");
    expect(error.mock.calls.flat().join("\n")).toContain("database_not_migrated");

    // Behind the code: all but the last migration applied.
    const last = env.TEST_MIGRATIONS.at(-1);
    await applyD1Migrations(empty, env.TEST_MIGRATIONS.slice(0, -1));
    const behind = await apiJson("/health", { token: null, bindings: { DB: empty } });
    expect(behind.status).toBe(503);
    expect(behind.body.error.code).toBe("not_migrated");
    expect(behind.body.error.message).toContain(`is not up to date: 1 of ${EXPECTED_MIGRATIONS.length}`);
    expect(behind.body.error.message).toContain(`(${last?.name})`);

    // Up to date: ok.
    await applyD1Migrations(empty, env.TEST_MIGRATIONS);
    const ok = await apiJson("/health", { token: null, bindings: { DB: empty } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true });
  });
});
