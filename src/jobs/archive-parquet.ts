/**
 * The archive's file format (docs/scaling.md#the-archive): one day of hits as Apache Parquet, and
 * the check that reads it back. Loaded with `import()` by the scheduled job only, so that the
 * Parquet writer is never evaluated by an isolate that serves page views.
 */
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { ParquetWriter } from "hyparquet-writer/src/parquet-writer.js";

/** One archived hit: no user, anonymous id, IP, user agent or referer, by construction. */
export interface ArchivedHit {
  id: string;
  /** The link's identifier. */
  link: string;
  created_at: string;
  authenticated: number;
  duplicate: number;
  consented: number;
  country: string | null;
  /** The network's ASN and the ad click id's name (docs/fraud.md): no person in either. */
  asn: number | null;
  paid_click: string | null;
  confirmed_at: string | null;
}

const text = (name: string, required: boolean) => ({
  name,
  type: "BYTE_ARRAY" as const,
  converted_type: "UTF8" as const,
  repetition_type: required ? ("REQUIRED" as const) : ("OPTIONAL" as const),
});
const timestamp = (name: string, required: boolean) => ({
  name,
  type: "INT64" as const,
  // UTC milliseconds: what D1's ISO-8601 text holds, as a timestamp type every reader knows.
  logical_type: { type: "TIMESTAMP" as const, isAdjustedToUTC: true, unit: "MILLIS" as const },
  converted_type: "TIMESTAMP_MILLIS" as const,
  repetition_type: required ? ("REQUIRED" as const) : ("OPTIONAL" as const),
});
const flag = (name: string) => ({ name, type: "BOOLEAN" as const, repetition_type: "REQUIRED" as const });

/** The columns, in this order. */
export const ARCHIVE_SCHEMA = [
  { name: "root", num_children: 10 },
  text("id", true),
  text("link", true),
  timestamp("created_at", true),
  flag("authenticated"),
  flag("duplicate"),
  flag("consented"),
  text("country", false),
  { name: "asn", type: "INT64" as const, repetition_type: "OPTIONAL" as const },
  text("paid_click", false),
  timestamp("confirmed_at", false),
];

const millis = (iso: string | null) => (iso === null ? null : BigInt(Date.parse(iso)));

/** The hits as one Parquet file (one row group per 100,000 rows, Snappy-compressed pages). */
export function writeArchive(hits: ArchivedHit[]): ArrayBuffer {
  const writer = new ByteWriter();
  const file = new ParquetWriter({ writer, schema: ARCHIVE_SCHEMA });
  file.write({
    columnData: [
      { name: "id", data: hits.map((h) => h.id) },
      { name: "link", data: hits.map((h) => h.link) },
      { name: "created_at", data: hits.map((h) => millis(h.created_at)) },
      { name: "authenticated", data: hits.map((h) => h.authenticated === 1) },
      { name: "duplicate", data: hits.map((h) => h.duplicate === 1) },
      { name: "consented", data: hits.map((h) => h.consented === 1) },
      { name: "country", data: hits.map((h) => h.country) },
      { name: "asn", data: hits.map((h) => (h.asn === null ? null : BigInt(h.asn))) },
      { name: "paid_click", data: hits.map((h) => h.paid_click) },
      { name: "confirmed_at", data: hits.map((h) => millis(h.confirmed_at)) },
    ],
    rowGroupSize: 100_000,
  });
  file.finish();
  return writer.getBuffer();
}

/** The hit ids a stored file holds, read back from its pages (not only its footer's row count). */
export async function readArchiveIds(file: ArrayBuffer): Promise<string[]> {
  const rows = Number(parquetMetadata(file).num_rows);
  const ids = (await parquetReadObjects({ file, columns: ["id"] })).map((row) => String(row.id));
  if (ids.length !== rows) throw new Error(`archive holds ${ids.length} ids, its footer says ${rows} rows`);
  return ids;
}
