/** The docs' examples that are code the project runs, kept equal to that code. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("docs/integrations.md's Stripe example", () => {
  it("is the demo origin's own webhook handler, which the end-to-end story runs", () => {
    const readme = readFileSync("docs/integrations.md", "utf8");
    const start = readme.indexOf("export async function onStripeEvent");
    expect(start).toBeGreaterThan(-1);
    const handler = readme.slice(start, readme.indexOf("\n}\n", start) + 3);
    expect(readFileSync("demo/origin.mjs", "utf8")).toContain(handler);
  });
});
