/**
 * Amounts in payout files: minor units (integers, as stored) written as major units with the
 * currency's own number of decimals, by placing the integer's digits, never by dividing a float.
 */
import { minorDigits } from "../db/queries/report-sql";

/**
 * `amount` minor units of `currency` in major units, `.` before the decimals, no grouping.
 *
 * @example majorUnits(1500, "EUR") // "15.00"
 * @example majorUnits(123, "JPY") // "123"
 * @example majorUnits(1n, "KWD") // "0.001"
 */
export function majorUnits(amount: number | bigint, currency: string): string {
  if (typeof amount === "number" && !Number.isSafeInteger(amount)) {
    throw new RangeError(`${amount} is not a whole number of minor units`);
  }
  const whole = BigInt(amount);
  const digits = minorDigits(currency);
  const sign = whole < 0n ? "-" : "";
  const text = (whole < 0n ? -whole : whole).toString().padStart(digits + 1, "0");
  if (digits === 0) return `${sign}${text}`;
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
