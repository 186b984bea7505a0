/**
 * The commission rule (docs/money.md#commission) as JavaScript computes it when a conversion is
 * made, and as SQL computes it when a reversal changes what is left: the two must agree to the
 * minor unit on every amount up to 2^53 - 1, and both must round half up.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commissionSql } from "../../src/db/queries/conversions";
import {
  addCalendarMonths,
  type CommissionRule,
  commissionOn,
  formatCommissionRule,
  parseCommissionRule,
} from "../../src/lib/commission";

const RUNS = Number(env.FC_RUNS ?? 0) || 200;

async function inSql(rule: CommissionRule, left: number): Promise<unknown> {
  // D1 binds a JS number as REAL: the CAST stands for the INTEGER column the code computes on.
  const row = await env.DB.prepare(
    `SELECT v, typeof(v) AS t FROM (SELECT ${commissionSql(rule, "x.left")} AS v
      FROM (SELECT CAST(?1 AS INTEGER) AS left) x)`,
  )
    .bind(left)
    .first<{ v: unknown; t: string }>();
  expect(row?.t, `${formatCommissionRule(rule)} of ${left} is not an SQL integer`).toBe("integer");
  return row?.v;
}

/** The exact answer, from the decimal definition: amount × N / 100, rounded half up. */
function reference(basisPoints: bigint, amount: bigint): bigint {
  const scaled = amount * basisPoints; // in 1/10000 of a minor unit
  const whole = scaled / 10_000n;
  return scaled % 10_000n >= 5_000n ? whole + 1n : whole;
}

const amounts = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(0, 1, 5, 9_999, 10_000, 10_001, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1),
);
const basisPoints = fc.oneof(
  fc.integer({ min: 0, max: 10_000 }),
  fc.constantFrom(0, 1, 1250, 3333, 5000, 9999, 10_000),
);

describe("commission: JavaScript and SQL agree, exactly, rounded half up", () => {
  it("percent: commissionOn = the decimal definition = commissionSql, up to 2^53 - 1", async () => {
    await fc.assert(
      fc.asyncProperty(amounts, basisPoints, async (amount, bp) => {
        const rule = { kind: "percent", basisPoints: BigInt(bp) } as const;
        const expected = Number(reference(BigInt(bp), BigInt(amount)));
        expect(commissionOn(rule, amount)).toBe(expected);
        expect(await inSql(rule, amount)).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it("fixed and none: the amount while anything is left, 0 at 0", async () => {
    for (const [rule, left, expected] of [
      [{ kind: "fixed", amount: 500 }, 1, 500],
      [{ kind: "fixed", amount: 500 }, 0, 0],
      [{ kind: "fixed", amount: 999_999_999_999_999 }, 10, 999_999_999_999_999],
      [{ kind: "none" }, 1000, 0],
    ] as const) {
      expect(commissionOn(rule, left)).toBe(expected);
      expect(await inSql(rule, left)).toBe(expected);
    }
  });

  it("rules read and written: percent:12.5, percent:0.05, percent:100, fixed:500; nonsense is null", () => {
    for (const text of [
      "percent:12.5",
      "percent:0.05",
      "percent:100",
      "percent:12.34",
      "percent:0",
      "fixed:500",
    ]) {
      expect(formatCommissionRule(parseCommissionRule(text) as CommissionRule)).toBe(text);
    }
    expect(parseCommissionRule("percent:12.50")).toEqual({ kind: "percent", basisPoints: 1250n });
    for (const text of [
      "percent:100.01",
      "percent:101",
      "percent:1.234",
      "percent:-1",
      "fixed:1.5",
      "fixed:",
      "12%",
    ]) {
      expect(parseCommissionRule(text), text).toBeNull();
    }
  });

  it("calendar months: Jan 31 + 1 month is the end of February; 12 months is the same day next year", () => {
    expect(addCalendarMonths("2025-01-31T10:00:00.000Z", 1)).toBe("2025-02-28T10:00:00.000Z");
    expect(addCalendarMonths("2024-01-31T10:00:00.000Z", 1)).toBe("2024-02-29T10:00:00.000Z");
    expect(addCalendarMonths("2025-03-15T00:00:00.000Z", 12)).toBe("2026-03-15T00:00:00.000Z");
    expect(addCalendarMonths("2025-11-30T23:59:59.999Z", 3)).toBe("2026-02-28T23:59:59.999Z");
  });
});
