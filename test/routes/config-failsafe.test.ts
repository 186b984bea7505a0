/**
 * A bad setting never takes the site down (docs/configuration.md#bad-values): the API names the
 * variable, every other request reaches the origin unchanged, and only an unusable ORIGIN_URL
 * stops page views.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { createLink, hitsOf } from "../support/db";
import type { EchoedRequest } from "../support/echo";
import { BROWSER_UA, SITE, send, uniqueIdentifier } from "../support/worker";

afterEach(() => vi.restoreAllMocks());

interface ErrorBody {
  error: { code: string; message: string; request_id: string };
}

describe("a bad referral setting (ATTRIBUTION = middle)", () => {
  const bindings = { ATTRIBUTION: "middle" };

  it("the API, health included, answers 500 misconfigured naming the variable", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const path of ["/_reflinks/health", "/_reflinks/links", "/_reflinks/confirm"]) {
      const response = await send(path, {
        bindings,
        headers: { Authorization: `Bearer ${env.API_TOKEN}` },
      });
      expect(response.status, path).toBe(500);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      const body = await response.json<ErrorBody>();
      expect(body.error).toEqual({
        code: "misconfigured",
        message: "reflinks is misconfigured: ATTRIBUTION must be first or last",
        request_id: expect.any(String),
      });
    }
  });

  it("page views reach the origin unchanged", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await send("/pricing?plan=pro", { bindings });
    expect(response.status).toBe(200);
    const echo = await response.json<EchoedRequest>();
    expect(echo.url).toBe("/pricing?plan=pro");
  });

  it("referral URLs go to the origin as they are: no hit, no redirect, no cookie", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const link = await createLink(uniqueIdentifier());
    for (const path of [`/ref/${link.identifier}?next=/pricing`, `/pricing?ref=${link.identifier}`]) {
      const response = await send(path, { bindings });
      expect(response.status, path).toBe(200);
      expect(response.headers.getSetCookie(), path).toEqual([]);
      expect((await response.json<EchoedRequest>()).url).toBe(path);
    }
    expect(await hitsOf(link.id)).toEqual([]);
  });

  it("a login header from the origin is removed and not acted on", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await send("/login-as?user=alice", { bindings });
    expect(response.status).toBe(303);
    expect(response.headers.has("Reflinks-User")).toBe(false);
    expect(response.headers.has("Reflinks-User-Signature")).toBe(false);
    expect(response.headers.getSetCookie().join("\n")).not.toMatch(/reflinks_/);
  });

  it("is logged at error level once per isolate, naming the variable", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    // One environment object, as a deployed isolate has, across several requests.
    const isolateEnv = { ...env, ATTRIBUTION: "middle" };
    for (const path of ["/", "/pricing", "/_reflinks/health"]) {
      const request = new Request(new URL(path, SITE), {
        headers: { "User-Agent": BROWSER_UA },
      }) as Request<unknown, IncomingRequestCfProperties>;
      const ctx = createExecutionContext();
      await worker.fetch(request, isolateEnv, ctx);
      await waitOnExecutionContext(ctx);
    }
    const lines = error.mock.calls.flat().filter((line) => String(line).includes('"misconfigured"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(String(lines[0]))).toMatchObject({
      level: "error",
      event: "misconfigured",
      variable: "ATTRIBUTION",
    });
  });
});

describe("other bad settings keep page views up too", () => {
  for (const [variable, value] of [
    ["REF_PATH", "ref"],
    ["COOKIE_MAX_AGE", "a year"],
    ["ORIGIN_TIMEOUT_SECONDS", "soon"],
    ["STORE_IP", "some"],
  ] as const) {
    it(`${variable} = ${JSON.stringify(value)}: the API names it, the page is proxied`, async () => {
      vi.spyOn(console, "error").mockImplementation(() => {});
      const bindings = { [variable]: value };
      const api = await send("/_reflinks/health", { bindings });
      expect(api.status).toBe(500);
      expect((await api.json<ErrorBody>()).error.message).toContain(variable);
      const page = await send("/about", { bindings });
      expect(page.status).toBe(200);
      expect((await page.json<EchoedRequest>()).url).toBe("/about");
    });
  }
});

describe("an unusable ORIGIN_URL", () => {
  it("is the one setting that stops page views: 500 naming ORIGIN_URL, on every path", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const bindings = { ORIGIN_URL: "origin.example.com" };
    for (const path of ["/", "/ref/abc", "/?ref=abc", "/_reflinks/health"]) {
      const response = await send(path, { bindings });
      expect(response.status, path).toBe(500);
      const body = await response.json<ErrorBody>();
      expect(body.error.code).toBe("misconfigured");
      expect(body.error.message).toMatch(/^reflinks is misconfigured: ORIGIN_URL must be an absolute/);
    }
  });

  it("with another bad setting too, page views still name ORIGIN_URL", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const bindings = { ORIGIN_URL: "ftp://origin.example.com", ATTRIBUTION: "middle" };
    const response = await send("/pricing", { bindings });
    expect(response.status).toBe(500);
    expect((await response.json<ErrorBody>()).error.message).toContain("ORIGIN_URL");
  });
});
