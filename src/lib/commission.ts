/**
 * Commission rules (docs/money.md#commission): `percent:N` (0-100, up to two decimals) of a
 * payment, rounded half up to the minor unit, or `fixed:N` minor units per payment. Integer
 * arithmetic only (BigInt where a product could pass 2^53): no float touches money.
 */
import * as z from "zod/mini";
import { MAX_AMOUNT } from "./money";

export type CommissionRule =
  | { kind: "percent" /** hundredths of a percent: `percent:12.5` is 1250 */; basisPoints: bigint }
  | { kind: "fixed"; amount: number }
  | { kind: "none" };

const PERCENT = /^percent:(\d{1,3})(?:\.(\d{1,2}))?$/;
const FIXED = /^fixed:(\d{1,15})$/;

/** Parses `percent:N`, `fixed:N` or `none`; null when the text is none of them. */
export function parseCommissionRule(text: string): CommissionRule | null {
  if (text === "none") return { kind: "none" };
  const percent = PERCENT.exec(text);
  if (percent) {
    const basisPoints = BigInt(percent[1] ?? "0") * 100n + BigInt((percent[2] ?? "").padEnd(2, "0"));
    return basisPoints <= 10_000n ? { kind: "percent", basisPoints } : null;
  }
  const fixed = FIXED.exec(text);
  if (fixed) {
    const amount = Number(fixed[1]);
    return Number.isSafeInteger(amount) ? { kind: "fixed", amount } : null;
  }
  return null;
}

/** The rule as stored and shown: `percent:12.5`, `fixed:500`, `none`. */
export function formatCommissionRule(rule: CommissionRule): string {
  if (rule.kind === "none") return "none";
  if (rule.kind === "fixed") return `fixed:${rule.amount}`;
  const whole = rule.basisPoints / 100n;
  const cents = rule.basisPoints % 100n;
  return cents === 0n
    ? `percent:${whole}`
    : `percent:${whole}.${String(cents).padStart(2, "0").replace(/0$/, "")}`;
}

export const COMMISSION_RULE_MESSAGE =
  'must be "percent:N" (0-100, up to two decimals) or "fixed:N" (a whole number of minor units, at most 100000000000)';

/**
 * Whether `text` may be set as a rule (`COMMISSION`, a link's override): a rule, and a fixed amount
 * bounded as a payment is (src/lib/money.ts), so that a link's fixed commission cannot make the
 * sums every referrer shares inexact. Rules stored before the bound still parse
 * ({@link parseCommissionRule}).
 */
export function isSettableCommissionRule(text: string): boolean {
  const rule = text === "none" ? null : parseCommissionRule(text);
  return rule !== null && (rule.kind !== "fixed" || rule.amount <= MAX_AMOUNT);
}

export const commissionRuleSchema = z.pipe(
  z.string().check(z.refine(isSettableCommissionRule, COMMISSION_RULE_MESSAGE)),
  z.transform((text: string) => parseCommissionRule(text) as CommissionRule),
);

/**
 * The commission on `amount` (minor units) of what is left of a payment. `percent`: rounded half
 * up; `fixed`: the fixed amount while anything is left, 0 once it is wholly reversed.
 */
export function commissionOn(rule: CommissionRule, amount: number): number {
  if (amount <= 0 || rule.kind === "none") return 0;
  if (rule.kind === "fixed") return rule.amount;
  return Number((BigInt(amount) * rule.basisPoints + 5_000n) / 10_000n);
}

/** `iso` plus `months` calendar months (the day clamped to the month's last: Jan 31 + 1 = Feb 28/29). */
export function addCalendarMonths(iso: string, months: number): string {
  const date = new Date(iso);
  const day = date.getUTCDate();
  const target = new Date(date.getTime());
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString();
}
