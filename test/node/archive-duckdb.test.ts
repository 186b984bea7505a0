/**
 * The archive as a user reads it (docs/scaling.md#querying-the-archive): files written by the
 * worker's own writer (src/jobs/archive-parquet.ts), laid out as in R2, queried with DuckDB.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, expect, it } from "vitest";
import { type ArchivedHit, writeArchive } from "../../src/jobs/archive-parquet.ts";

const scratch = await mkdtemp(join(tmpdir(), "reflinks-archive-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

function hits(day: string, n: number, link: string): ArchivedHit[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${day}-${i}`,
    link,
    created_at: `${day}T${String(i % 24).padStart(2, "0")}:00:00.000Z`,
    authenticated: i % 5 === 0 ? 1 : 0,
    duplicate: i % 3 === 0 ? 1 : 0,
    consented: 1,
    country: i % 2 === 0 ? "FR" : null,
    asn: i % 2 === 0 ? 13335 : null,
    paid_click: i % 7 === 0 ? "gclid" : null,
    confirmed_at: null,
  }));
}

it("DuckDB reads every day's file with one glob, with typed columns and the hive day", async () => {
  const days = { "2026-01-01": 7, "2026-01-02": 120_001, "2026-01-03": 0 };
  for (const [day, n] of Object.entries(days)) {
    const dir = join(scratch, "hits", `day=${day}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "part-0.parquet"), new Uint8Array(writeArchive(hits(day, n, "alice-1"))));
  }
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  try {
    const glob = join(scratch, "hits/day=*/part-0.parquet");
    const count = await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${glob}')`);
    expect(count.getRowObjectsJson()).toEqual([{ n: "120008" }]);

    const byDay = await connection.runAndReadAll(
      `SELECT day::VARCHAR AS day, count(*) AS hits, count(*) FILTER (NOT duplicate) AS unique_hits,
         count(country) AS with_country, min(created_at)::VARCHAR AS first
       FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY day ORDER BY day`,
    );
    expect(byDay.getRowObjectsJson()).toEqual([
      { day: "2026-01-01", hits: "7", unique_hits: "4", with_country: "4", first: "2026-01-01 00:00:00+00" },
      {
        day: "2026-01-02",
        hits: "120001",
        unique_hits: "80000",
        with_country: "60001",
        first: "2026-01-02 00:00:00+00",
      },
    ]);
    const columns = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob}')`);
    expect(columns.getRowObjectsJson().map((row) => `${row.column_name} ${row.column_type}`)).toEqual([
      "id VARCHAR",
      "link VARCHAR",
      "created_at TIMESTAMP WITH TIME ZONE",
      "authenticated BOOLEAN",
      "duplicate BOOLEAN",
      "consented BOOLEAN",
      "country VARCHAR",
      "asn BIGINT",
      "paid_click VARCHAR",
      "confirmed_at TIMESTAMP WITH TIME ZONE",
      "day DATE",
    ]);
  } finally {
    connection.closeSync();
    db.closeSync();
  }
});
