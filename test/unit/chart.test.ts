/** The dashboard chart's axes: whole-number ticks for counts, and the newest day always named. */
import { describe, expect, it } from "vitest";
import { niceCeiling, xLabelIndexes, yTicks } from "../../src/routes/dashboard/chart";

describe("the y axis", () => {
  it("has only whole numbers, for every top the chart can have", () => {
    for (let most = 0; most <= 5000; most++) {
      const top = niceCeiling(Math.max(1, most));
      const ticks = yTicks(top);
      expect(ticks.every(Number.isInteger), `top ${top}`).toBe(true);
      expect(ticks[0]).toBe(0);
      expect(ticks.at(-1)).toBe(top);
    }
    // The chart: three hits at most drew "0, 1.5, 3".
    expect(yTicks(niceCeiling(3))).toEqual([0, 1, 2, 3]);
    expect(yTicks(niceCeiling(7))).toEqual([0, 4, 8]);
  });
});

describe("the x axis", () => {
  it("names the last day, whatever the number of days, and at most six", () => {
    for (let count = 1; count <= 366; count++) {
      const indexes = xLabelIndexes(count);
      expect(indexes.at(-1), `${count} days`).toBe(count - 1);
      expect(indexes.length).toBeLessThanOrEqual(6);
      expect(new Set(indexes).size).toBe(indexes.length);
    }
    // 30 days (the default period): Nov 1 … Nov 30 names Nov 30, not only up to Nov 26.
    expect(xLabelIndexes(30)).toEqual([4, 9, 14, 19, 24, 29]);
  });
});
