import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { createLink, hitsOf } from "../support/db";
import type { EchoedRequest } from "../support/echo";
import { BROWSER_UA, SITE, send, uniqueIdentifier } from "../support/worker";

/** Where the request went: the origin (its echo) or one of the worker's own routes. */
async function answeredBy(path: string): Promise<string> {
  const response = await send(path);
  if (response.status === 302) return "referral link";
  const type = response.headers.get("Content-Type") ?? "";
  if (type.startsWith("application/json")) {
    const body = await response.json<Partial<EchoedRequest> & { ok?: boolean; error?: unknown }>();
    if (body.url !== undefined) return `origin ${body.url}`;
    return "API";
  }
  await response.body?.cancel();
  return `status ${response.status}`;
}

describe("the front's routes (docs/routing.md#order-of-precedence)", () => {
  it.each([
    ["/_reflinks/health", "API"],
    ["/_reflinks", "API"],
    ["/_reflinksx/health", "origin /_reflinksx/health"],
    ["/_Reflinks/health", "origin /_Reflinks/health"],
    ["/ref/alice", "referral link"],
    ["/ref", "referral link"],
    ["/ref/", "referral link"],
    ["/ref/a/b", "referral link"],
    ["/refx", "origin /refx"],
    ["/ref-x/alice", "origin /ref-x/alice"],
    ["/REF/alice", "origin /REF/alice"],
    // The path as it came: an encoded letter is not the letter, so this is not a referral link.
    ["/%72ef/alice", "origin /%72ef/alice"],
    ["/_reflink%73/health", "origin /_reflink%73/health"],
  ])("%s goes to the %s", async (path, expected) => {
    expect(await answeredBy(path)).toBe(expected);
  });

  it("answers a custom REF_PATH, and proxies the default one then", async () => {
    const link = await createLink(uniqueIdentifier());
    const custom = await send(`/go/r/${link.identifier}`, { bindings: { REF_PATH: "/go/r/" } });
    expect(custom.status).toBe(302);
    expect(await hitsOf(link.id)).toHaveLength(1);
    const other = await send(`/ref/${link.identifier}`, { bindings: { REF_PATH: "/go/r/" } });
    expect((await other.json<EchoedRequest>()).url).toBe(`/ref/${link.identifier}`);
  });

  it("costs a request a logged 500 when one of its routes throws, never an unhandled exception", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const link = await createLink(uniqueIdentifier());
    // A click hands its hit to waitUntil: one that throws is nothing the route expects.
    const ctx = createExecutionContext();
    ctx.waitUntil = () => {
      throw new TypeError("waitUntil exploded");
    };
    const response = await worker.fetch(
      new Request(`${SITE}/ref/${link.identifier}`, { headers: { "User-Agent": BROWSER_UA } }),
      env,
      ctx,
    );
    expect(response.status).toBe(500);
    const body = await response.json<{ error: { code: string; request_id: string } }>();
    expect(body.error.code).toBe("internal_error");
    const logged = error.mock.calls.flat().join("\n");
    expect(logged).toMatch(/"event":"request_failed".*waitUntil exploded/);
    expect(logged).toContain(`"request_id":"${body.error.request_id}"`);
    error.mockRestore();
  });
});
