/**
 * The OpenAPI document (src/routes/api/openapi.json): made from the route table, valid OpenAPI
 * 3.1 by a maintained validator, and the one docs/api.md's tables describe.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const document = JSON.parse(readFileSync("src/routes/api/openapi.json", "utf8"));
const METHODS = ["get", "post", "patch", "delete", "put"];

/** Every operation of the document as `METHOD /path`. */
const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>)
  .flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  )
  .sort();

/** The lines of a Markdown section, from its heading to the next heading of the same level. */
function section(file: string, heading: string): string[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`${file} has no "${heading}"`);
  const level = heading.split(" ")[0] ?? "";
  const end = lines.findIndex((line, at) => at > start && new RegExp(`^#{1,${level.length}} `).test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** `status code` pairs of an error table: rows `| 404 | \`not_found\` | … |`. */
function errorRows(lines: string[]): string[] {
  return lines
    .map((line) => /^\| (\d{3}) \| `([a-z_]+)` \|/.exec(line))
    .filter((match) => match !== null)
    .map((match) => `${match[1]} ${match[2]}`)
    .sort();
}

/** The error codes the document declares, each with the statuses it is answered with. */
function documentedErrors(): string[] {
  const codes: string[] = document.components.schemas.Error.properties.error.properties.code.enum;
  const statusOf = new Map<string, string>();
  for (const item of Object.values(document.paths as Record<string, Record<string, { responses: object }>>)) {
    for (const operation of Object.values(item)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const description = (response as { description: string }).description;
        for (const code of description.replace(/^Error: /, "").split(", ")) {
          if (codes.includes(code)) statusOf.set(code, status);
        }
      }
    }
  }
  return codes.map((code) => `${statusOf.get(code) ?? "?"} ${code}`).sort();
}

describe("the OpenAPI document", () => {
  it("is what `npm run openapi` makes from the route table, and so are the Node types (the demo is checked against them)", async () => {
    const { stdout } = await run("node", ["scripts/openapi.mjs", "--check"]);
    expect(stdout).toMatch(/match the route table/);
  });

  it("is valid OpenAPI 3.1, by @seriousme/openapi-schema-validator", async () => {
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
  });

  it("describes every route, /health and itself included, each error with the status it comes with", () => {
    expect(operations).toEqual(
      [
        "DELETE /_reflinks/links/{identifier}",
        "DELETE /_reflinks/links/{identifier}/coupons/{code}",
        "POST /_reflinks/links/{identifier}/coupons",
        "GET /_reflinks/conversions",
        "GET /_reflinks/conversions/{external_id}",
        "GET /_reflinks/payouts",
        "GET /_reflinks/payouts/due",
        "GET /_reflinks/users/{user_id}",
        "GET /_reflinks/users/{user_id}/export",
        "DELETE /_reflinks/users/{user_id}",
        "POST /_reflinks/users/{user_id}/portal-link",
        "POST /_reflinks/conversions",
        "POST /_reflinks/conversions/{external_id}/reverse",
        "POST /_reflinks/payouts",
        "GET /_reflinks/payout-runs",
        "GET /_reflinks/payout-runs/{id}",
        "GET /_reflinks/payout-runs/{id}/file",
        "POST /_reflinks/payout-runs",
        "PUT /_reflinks/users/{user_id}/payout-method",
        "GET /_reflinks/referrals",
        "POST /_reflinks/referrals/{id}/release",
        "POST /_reflinks/referrals/{id}/reject",
        "POST /_reflinks/users/{user_id}/ban",
        "GET /_reflinks/dashboard",
        "GET /_reflinks/health",
        "GET /_reflinks/links",
        "GET /_reflinks/links/{identifier}",
        "GET /_reflinks/links/{identifier}/hits",
        "GET /_reflinks/links/{identifier}/qr.svg",
        "GET /_reflinks/openapi.json",
        "GET /_reflinks/reports/daily",
        "GET /_reflinks/reports/earnings",
        "GET /_reflinks/reports/links",
        "GET /_reflinks/reports/revenue",
        "PATCH /_reflinks/links/{identifier}",
        "POST /_reflinks/confirm",
        "POST /_reflinks/links",
        "POST /_reflinks/reconcile",
        "DELETE /_reflinks/webhooks/{id}",
        "GET /_reflinks/webhooks",
        "GET /_reflinks/webhooks/{id}/deliveries",
        "POST /_reflinks/webhooks",
        "POST /_reflinks/webhooks/{id}/deliveries/{delivery_id}/retry",
      ].sort(),
    );
    expect(documentedErrors()).not.toContain(expect.stringMatching(/^\?/));
  });
});

describe("the docs agree with the document", () => {
  it("docs/api.md's table of every route lists exactly the document's routes", () => {
    const listed = section("docs/api.md", "## Every route")
      .map((line) => /^\| `(GET|POST|PATCH|DELETE|PUT) (\/[^`?\s]*)/.exec(line))
      .filter((match) => match !== null)
      .map((match) => `${match[1]} /_reflinks${match[2]?.replace(/:([a-z_]+)/g, "{$1}")}`)
      .sort();
    expect(listed).toEqual(operations);
  });

  it("docs/api.md's error table lists exactly the document's error codes and statuses", () => {
    expect(errorRows(section("docs/api.md", "## Errors"))).toEqual(documentedErrors());
  });
});
