/** Types of report-sql.js (plain JavaScript, shared with `npm run report`). */

/** SQL text with numbered parameters `?1`, `?2`… and their values, in order. */
export interface ReportQuery {
  sql: string;
  params: (string | number)[];
}

/** Days `YYYY-MM-DD` (UTC), both included; either may be left open. */
export interface Period {
  from?: string;
  to?: string;
}

export function isDay(value: unknown): value is string;
export function nextDay(day: string): string | null;
export function linkReportQuery(options?: Period & { limit?: number; offset?: number }): ReportQuery;
export function dailyReportQuery(options?: Period & { linkId?: number }): ReportQuery;
export function totalsQuery(options?: Period & { linkId?: number }): ReportQuery;
export function revenueReportQuery(options?: Period & { identifiers?: readonly string[] }): ReportQuery;
export function revenueTotalsQuery(options?: Period & { linkId?: number }): ReportQuery;
export function dueQuery(options?: { currency?: string }): ReportQuery;
export function earningsReportQuery(options?: { limit?: number; offset?: number }): ReportQuery;
export function earningsTotalsQuery(): ReportQuery;
export function minorDigits(currency: string): number;
export function formatMinor(amount: number, currency: string): string;
export function sqlLiteral(value: string | number | null | undefined): string;
export function inlineParams(query: ReportQuery): string;
