/** The docs' examples that are code the project runs, kept equal to that code. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("docs/money.md's Stripe example", () => {
  it("is the demo origin's own webhook handler, which the end-to-end story runs", () => {
    const doc = readFileSync("docs/money.md", "utf8");
    const start = doc.indexOf("export async function onStripeEvent");
    expect(start).toBeGreaterThan(-1);
    const handler = doc.slice(start, doc.indexOf("\n}\n", start) + 3);
    expect(handler).toContain("coupon");
    expect(readFileSync("demo/origin.mjs", "utf8")).toContain(handler);
  });
});
