import { getTableColumns } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { insertHitSql } from "../../src/db/queries/hits";
import { referralHits } from "../../src/db/schema";

describe("the hot-path hit insert", () => {
  it.each(["anonymous", "user", null] as const)(
    "names every column of referral_hits, in the schema's order (dedupe by %s)",
    (key) => {
      const sql = insertHitSql(key);
      const columns = Object.values(getTableColumns(referralHits)).map((column) => column.name);
      const listed = /^INSERT INTO referral_hits \(([^)]*)\) SELECT/
        .exec(sql)?.[1]
        ?.split(",")
        .map((name) => name.trim());
      expect(listed).toEqual(columns);
      // Each column's value, then the window's two bounds: 21 numbered parameters, each used.
      const used = new Set([...sql.matchAll(/\?(\d+)/g)].map((match) => Number(match[1])));
      expect([...used].sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    },
  );
});
