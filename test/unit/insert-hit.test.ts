import { getTableColumns } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { INSERT_HIT_SQL } from "../../src/db/queries/hits";
import { referralHits } from "../../src/db/schema";

describe("the hot-path hit insert", () => {
  it("names every column of referral_hits, in the schema's order, with one placeholder each", () => {
    const columns = Object.values(getTableColumns(referralHits)).map((column) => column.name);
    const listed = /\(([^)]*)\) VALUES/
      .exec(INSERT_HIT_SQL)?.[1]
      ?.split(",")
      .map((name) => name.trim());
    expect(listed).toEqual(columns);
    expect(INSERT_HIT_SQL.match(/\?/g)).toHaveLength(columns.length);
  });
});
