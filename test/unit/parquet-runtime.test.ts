import { env } from "cloudflare:test";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { ParquetWriter } from "hyparquet-writer/src/parquet-writer.js";
import { expect, it } from "vitest";

// hyparquet-writer inside workerd (no Node APIs): a file written, stored in R2, read back.
it("writes a Parquet file in workerd that hyparquet reads back from R2", async () => {
  const writer = new ByteWriter();
  const pq = new ParquetWriter({
    writer,
    schema: [
      { name: "root", num_children: 2 },
      { name: "id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
      { name: "n", type: "INT32", repetition_type: "OPTIONAL" },
    ],
  });
  pq.write({
    columnData: [
      { name: "id", data: ["a", "b", "c"] },
      { name: "n", data: [1, null, 3] },
    ],
  });
  pq.finish();
  await env.TEST_ARCHIVE.put("smoke/part-0.parquet", writer.getBuffer());
  const object = await env.TEST_ARCHIVE.get("smoke/part-0.parquet");
  if (!object) throw new Error("the object was not stored");
  const file = await object.arrayBuffer();
  expect(Number(parquetMetadata(file).num_rows)).toBe(3);
  expect(await parquetReadObjects({ file })).toEqual([
    { id: "a", n: 1 },
    { id: "b", n: null },
    { id: "c", n: 3 },
  ]);
});
