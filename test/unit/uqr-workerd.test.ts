import { renderSVG } from "uqr";
import { expect, it } from "vitest";

it("uqr renders an SVG inside workerd", () => {
  const svg = renderSVG("https://shop.example/ref/demo");
  expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
});
