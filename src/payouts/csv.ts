/**
 * CSV as RFC 4180 writes it: fields separated by commas, records ended by CRLF, a field holding a
 * comma, a double quote, CR or LF enclosed in double quotes with its double quotes doubled.
 */

/**
 * One field.
 *
 * @example csvCell('say "hi", then go') // '"say ""hi"", then go"'
 */
export function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Records, each ended by CRLF (RFC 4180 allows the last one without; every reader takes it with). */
export function csvDocument(records: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return records.map((record) => `${record.map(csvCell).join(",")}\r\n`).join("");
}
