/** src/lib/days.ts: timestamps and calendar days, days apart, in UTC. */
import { describe, expect, it } from "vitest";
import { addDays, DAY_MS, shiftDays } from "../../src/lib/days";

describe("day arithmetic", () => {
  it("moves a timestamp by whole days, forward and back, from a Date or an ISO string", () => {
    expect(shiftDays("2026-12-08T01:02:03.004Z", 30)).toBe("2027-01-07T01:02:03.004Z");
    expect(shiftDays(new Date("2026-03-01T00:00:00.000Z"), -1)).toBe("2026-02-28T00:00:00.000Z");
    expect(shiftDays("2024-03-01T12:00:00.000Z", -1)).toBe("2024-02-29T12:00:00.000Z");
    expect(shiftDays("2026-12-08T00:00:00.000Z", 0)).toBe("2026-12-08T00:00:00.000Z");
  });

  it("moves a calendar day across months and years; UTC has no daylight saving time to skip", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-03-29", 1)).toBe("2026-03-30");
    expect(addDays("2026-01-01", -365)).toBe("2025-01-01");
    expect(DAY_MS).toBe(24 * 60 * 60 * 1000);
  });
});
