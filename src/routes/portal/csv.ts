/**
 * `PORTAL_PATH/commissions.csv` (docs/referrer-page.md#what-the-page-shows): RFC 4180, CRLF line
 * ends, a header line, every field that holds a comma, a quote or a line break quoted with its
 * quotes doubled. Amounts are decimal in the currency's unit (`25.00` EUR, `1500` JPY), exact.
 */
import { formatMinor } from "../../db/queries/report-sql";

export interface CommissionLine {
  createdAt: string;
  link: string | null;
  amount: number;
  currency: string;
  commission: number;
  status: string;
}

const HEADER = ["date", "link", "payment_amount", "currency", "commission", "status"];

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const decimal = (amount: number, currency: string) => formatMinor(amount, currency).replaceAll(",", "");

export function commissionsCsv(lines: CommissionLine[]): string {
  const rows = lines.map((line) => [
    line.createdAt,
    line.link ?? "",
    decimal(line.amount, line.currency),
    line.currency,
    decimal(line.commission, line.currency),
    line.status,
  ]);
  return [HEADER, ...rows].map((row) => `${row.map(field).join(",")}\r\n`).join("");
}
