/**
 * What the proxy must not pass on to the origin (docs/routing.md#the-proxy): a client address the client chose,
 * hop-by-hop headers, a body on GET or HEAD, login report headers; and its error answers name a
 * request id that is also in the log. Each test looks at what the stub origin actually received.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { EchoedRequest } from "../support/echo";
import { BROWSER_UA, SITE, send } from "../support/worker";

/** What the origin received for `path` sent with these request headers (origin mode). */
async function received(path: string, headers: Record<string, string>, options = {}): Promise<EchoedRequest> {
  const response = await send(path, { headers, ...options });
  expect(response.status).toBe(200);
  return response.json<EchoedRequest>();
}

/** The same through route mode: no ORIGIN_URL, the request's own URL (the stub origin) is fetched. */
function receivedInRouteMode(path: string, headers: Record<string, string>): Promise<EchoedRequest> {
  return received(`${env.ORIGIN_URL}${path}`, headers, { bindings: { ORIGIN_URL: "" } });
}

/**
 * A GET or HEAD that carries a body, as the runtime hands one to the worker when a client sends
 * it over the wire. A Request built in JavaScript cannot have both (the constructor throws), so
 * this is a POST with a body whose `method` reads as asked, which is all the worker looks at.
 */
async function sendBodyWith(method: "GET" | "HEAD", path: string, body: string): Promise<Response> {
  const request = new Request(new URL(path, SITE), {
    method: "POST",
    body,
    headers: {
      "User-Agent": BROWSER_UA,
      "Content-Type": "text/plain",
      "Content-Length": String(new TextEncoder().encode(body).length),
    },
  });
  Object.defineProperty(request, "method", { value: method });
  expect(request.method).toBe(method);
  const ctx = createExecutionContext();
  const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("client addresses (origin mode)", () => {
  it("X-Forwarded-For is exactly the address Cloudflare saw, replacing the client's", async () => {
    const echo = await received("/xff", { "X-Forwarded-For": "6.6.6.6", "CF-Connecting-IP": "203.0.113.5" });
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.5");
  });

  it("without CF-Connecting-IP, the client's X-Forwarded-For is removed, not passed on", async () => {
    const echo = await received("/xff", { "X-Forwarded-For": "6.6.6.6, 7.7.7.7" });
    expect(echo.headers["x-forwarded-for"]).toBeUndefined();
    expect(echo.headers["x-forwarded-host"]).toBe("shop.example");
  });

  it("X-Real-IP, True-Client-IP, Client-IP and Forwarded from the client are removed", async () => {
    const echo = await received("/addresses", {
      "CF-Connecting-IP": "203.0.113.5",
      "X-Real-IP": "6.6.6.6",
      "True-Client-IP": "6.6.6.7",
      "Client-IP": "6.6.6.8",
      Forwarded: "for=6.6.6.9;proto=https",
    });
    expect(echo.headers["x-real-ip"]).toBeUndefined();
    expect(echo.headers["true-client-ip"]).toBeUndefined();
    expect(echo.headers["client-ip"]).toBeUndefined();
    expect(echo.headers.forwarded).toBeUndefined();
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.5");
    expect(JSON.stringify(echo.headers)).not.toContain("6.6.6.");
  });
});

describe("hop-by-hop headers", () => {
  it("Connection and every header it names are removed, never the worker's own", async () => {
    const echo = await received("/connection", {
      Connection: "close, X-Secret , x-forwarded-for,X-Reflinks-Hop",
      "X-Secret": "s3cret",
      "X-Kept": "kept",
      "CF-Connecting-IP": "203.0.113.5",
    });
    expect(echo.headers["x-secret"]).toBeUndefined();
    expect(String(echo.headers.connection)).not.toMatch(/secret/i);
    expect(echo.headers["x-kept"]).toBe("kept");
    // Named by the client's Connection, yet set by the worker after it: they stay.
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.5");
    expect(echo.headers["x-reflinks-hop"]).toBe("1");

    // A Connection value that names no valid header name is no error.
    const odd = await received("/connection", { Connection: "a b, (c), X-Secret", "X-Secret": "s3cret" });
    expect(odd.headers["x-secret"]).toBeUndefined();
  });

  it("Keep-Alive, TE, Trailer, Proxy-Authorization and any Proxy-* header are removed", async () => {
    const echo = await received("/hop", {
      "Keep-Alive": "timeout=5",
      TE: "trailers",
      Trailer: "X-Checksum",
      "Proxy-Authorization": "Basic dXNlcjpwYXNz",
      "Proxy-Foo": "bar",
      "X-Kept": "kept",
    });
    for (const name of ["keep-alive", "te", "trailer", "proxy-authorization", "proxy-foo"]) {
      expect(echo.headers[name], name).toBeUndefined();
    }
    expect(echo.headers["x-kept"]).toBe("kept");
  });

  it("an h2c Upgrade is removed with what its Connection names", async () => {
    const echo = await received("/h2c", {
      Upgrade: "h2c",
      Connection: "Upgrade, HTTP2-Settings",
      "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA",
    });
    expect(echo.headers.upgrade).toBeUndefined();
    expect(echo.headers["http2-settings"]).toBeUndefined();
  });

  it("a WebSocket upgrade still goes through, with Connection: keep-alive, Upgrade as Firefox sends it", async () => {
    const response = await send("/socket", {
      headers: { Upgrade: "websocket", Connection: "keep-alive, Upgrade", "Proxy-Authorization": "Basic x" },
    });
    expect(response.status).toBe(101);
    const socket = response.webSocket;
    if (!socket) throw new Error("no WebSocket on the 101 response");
    socket.accept();
    const reply = new Promise<string>((resolve) =>
      socket.addEventListener("message", (event) => resolve(String(event.data))),
    );
    socket.send("hi");
    expect(await reply).toBe("echo:hi");
    socket.close();
  });

  it("in route mode too, hop-by-hop headers and the login headers are removed", async () => {
    const echo = await receivedInRouteMode("/route-hop", {
      Connection: "close, X-Secret",
      "X-Secret": "s3cret",
      "Proxy-Authorization": "Basic dXNlcjpwYXNz",
      "Proxy-Foo": "bar",
      "Reflinks-User": "admin",
      "Reflinks-User-Signature": "0".repeat(64),
      "X-Kept": "kept",
    });
    expect(echo.url).toBe("/route-hop");
    for (const name of [
      "x-secret",
      "proxy-authorization",
      "proxy-foo",
      "reflinks-user",
      "reflinks-user-signature",
    ]) {
      expect(echo.headers[name], name).toBeUndefined();
    }
    expect(echo.headers["x-kept"]).toBe("kept");
    expect(echo.headers["x-reflinks-hop"]).toBe("1");
  });
});

describe("request bodies", () => {
  it("a GET with a body goes on without it, instead of failing", async () => {
    const response = await sendBodyWith("GET", "/get-with-body?x=1", "a body a GET should not have");
    expect(response.status).toBe(200);
    const echo = await response.json<EchoedRequest>();
    expect(echo.method).toBe("GET");
    expect(echo.url).toBe("/get-with-body?x=1");
    expect(echo.bodyBytes).toBe(0);
    expect(echo.headers["content-length"]).toBeUndefined();
    expect(echo.headers["transfer-encoding"]).toBeUndefined();
  });

  it("a HEAD with a body goes on without it, instead of failing", async () => {
    const response = await sendBodyWith("HEAD", "/head-with-body", "a body a HEAD should not have");
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Origin")).toBe("stub");
    await response.body?.cancel();
  });

  it("a POST body still arrives whole, with its Content-Length", async () => {
    const body = "field=value&".repeat(5000);
    const echo = await received(
      "/post",
      { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(body.length) },
      { method: "POST", body },
    );
    expect(echo.method).toBe("POST");
    expect(echo.bodyBytes).toBe(body.length);
    expect(echo.headers["content-length"]).toBe(String(body.length));
    expect(echo.body).toBe(body.slice(0, 4096));
  });
});

describe("login report headers", () => {
  it("a client's own Reflinks-User and Reflinks-User-Signature never reach the origin", async () => {
    const echo = await received("/account", {
      "Reflinks-User": "admin",
      "Reflinks-User-Signature": "0".repeat(64),
    });
    expect(echo.headers["reflinks-user"]).toBeUndefined();
    expect(echo.headers["reflinks-user-signature"]).toBeUndefined();
  });
});

describe("loops and request ids", () => {
  it("a request that came back to the worker gets a 508 that says to set ORIGIN_URL", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send("/", {
      headers: { "X-Reflinks-Hop": "1", "cf-ray": "8f0000000000loop-LHR" },
    });
    expect(response.status).toBe(508);
    const text = await response.text();
    expect(text).toContain("Loop Detected");
    expect(text).toContain("ORIGIN_URL");
    expect(text).toContain(".dev.vars");
    expect(text).toContain("request id: 8f0000000000loop-LHR");
  });

  it("ORIGIN_URL naming the worker's own host gets a 508 that names ORIGIN_URL", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send("/", { bindings: { ORIGIN_URL: SITE } });
    expect(response.status).toBe(508);
    expect(await response.text()).toMatch(/ORIGIN_URL[\s\S]*\nrequest id: \S+\n$/);
  });

  it("a 502 names the request id that its log line carries", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send("/", { bindings: { ORIGIN_URL: "http://127.0.0.1:9" } });
    expect(response.status).toBe(502);
    const id = /\nrequest id: (\S+)\n$/.exec(await response.text())?.[1];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const lines = warn.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ event: "origin_unreachable", request_id: id }));
  });

  it("with a cf-ray header, that is the request id, in the body and in the log", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send("/", {
      headers: { "cf-ray": "8f1234567890abcd-CDG" },
      bindings: { ORIGIN_URL: "http://127.0.0.1:9" },
    });
    expect(response.status).toBe(502);
    expect(await response.text()).toBe("Bad Gateway\nrequest id: 8f1234567890abcd-CDG\n");
    const lines = warn.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({ event: "origin_unreachable", request_id: "8f1234567890abcd-CDG" }),
    );
  });

  it("a 504 names the request id too", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send("/hang", {
      headers: { "cf-ray": "8f00000000000504-AMS" },
      bindings: { ORIGIN_TIMEOUT_SECONDS: "1" },
    });
    expect(response.status).toBe(504);
    expect(await response.text()).toBe("Gateway Timeout\nrequest id: 8f00000000000504-AMS\n");
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)))).toContainEqual(
      expect.objectContaining({ event: "origin_timeout", request_id: "8f00000000000504-AMS" }),
    );
  });
});
