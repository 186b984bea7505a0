import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { EchoedRequest } from "../support/echo";
import { SITE, send } from "../support/worker";

const originHost = new URL(env.ORIGIN_URL ?? "http://missing").host;

describe("the origin proxy", () => {
  it("passes method, path, query, headers and body through, with X-Forwarded-*", async () => {
    const body = JSON.stringify({ hello: "world", big: "x".repeat(100_000) });
    const response = await send("/api/items?b=2&a=1&a=3", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Trace": "t-1",
        Cookie: "session=s1; theme=dark",
        "CF-Connecting-IP": "203.0.113.9",
        // As a browser sends it (a Request built here would not carry it by itself).
        "Content-Length": String(new TextEncoder().encode(body).length),
      },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Origin")).toBe("stub");
    const echo = await response.json<EchoedRequest>();
    expect(echo.method).toBe("POST");
    expect(echo.url).toBe("/api/items?b=2&a=1&a=3");
    expect(echo.bodyBytes).toBe(new TextEncoder().encode(body).length);
    // Still a body of known length: origins that cannot read a chunked upload get what they need.
    expect(echo.headers["content-length"]).toBe(String(echo.bodyBytes));
    expect(echo.headers["transfer-encoding"]).toBeUndefined();
    expect(echo.headers["x-trace"]).toBe("t-1");
    expect(echo.headers.cookie).toBe("session=s1; theme=dark");
    expect(echo.headers.host).toBe(originHost);
    expect(echo.headers["x-forwarded-host"]).toBe("shop.example");
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.9");
  });

  it("passes an odd path through as it is: //@%09 with a query of ?ref= that is not ref=", async () => {
    // Found by the property test: the origin must get exactly this target, not a parse of it.
    const response = await send(`${SITE}//@%09??ref=someone`);
    expect(response.status).toBe(200);
    const echo = await response.json<EchoedRequest>();
    expect(echo.url).toBe("//@%09??ref=someone");
    expect(response.headers.get("Set-Cookie")).toBeNull();
  });

  it("keeps every Set-Cookie separate and every other header", async () => {
    const response = await send("/cookies");
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual([
      "session=abc; Path=/; HttpOnly",
      "theme=dark; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
      "csrf=x1y2; Path=/; SameSite=Strict",
    ]);
    expect(response.headers.get("X-Custom")).toBe("kept");
    expect(await response.text()).toBe("cookies set");
  });

  it("does not follow the origin's redirects", async () => {
    const response = await send("/redirect");
    expect(response.status).toBe(301);
    expect(response.headers.get("Location")).toBe("/elsewhere");
    await response.body?.cancel();
  });

  it("passes the origin's errors and HEAD requests as they are", async () => {
    const missing = await send("/missing");
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
    const head = await send("/anything", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("X-Origin")).toBe("stub");
    expect(await head.text()).toBe("");
  });

  it("streams a large download without changing a byte", async () => {
    const response = await send("/download?mb=8");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Length")).toBe(String(8 * 1024 * 1024));
    const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let bytes = 0;
    let allSevens = true;
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      bytes += chunk.value.length;
      allSevens &&= chunk.value.every((byte) => byte === 7);
    }
    expect(bytes).toBe(8 * 1024 * 1024);
    expect(allSevens).toBe(true);
  });

  it("mounts the origin below ORIGIN_URL's own path", async () => {
    const response = await send("/page?x=1", { bindings: { ORIGIN_URL: `${env.ORIGIN_URL}/base/` } });
    expect((await response.json<EchoedRequest>()).url).toBe("/base/page?x=1");
  });

  it("touches no D1 at all on an ordinary request", async () => {
    const untouchable = new Proxy(env.DB, {
      get() {
        throw new Error("the proxy path must not use D1");
      },
    });
    const response = await send("/pricing?plan=pro&utm_source=x", { bindings: { DB: untouchable } });
    expect(response.status).toBe(200);
    expect((await response.json<EchoedRequest>()).url).toBe("/pricing?plan=pro&utm_source=x");
  });
});

describe("when the origin fails", () => {
  it("answers 502 when the origin refuses connections", async () => {
    const response = await send("/", { bindings: { ORIGIN_URL: "http://127.0.0.1:9" } });
    expect(response.status).toBe(502);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.text()).toMatch(/Bad Gateway/);
  });

  it("answers 504 when the origin sends no headers in time", async () => {
    const response = await send("/hang", { bindings: { ORIGIN_TIMEOUT_SECONDS: "1" } });
    expect(response.status).toBe(504);
    expect(await response.text()).toMatch(/Gateway Timeout/);
  });

  it("limits only the wait for headers: a body that takes longer than the timeout arrives whole", async () => {
    const response = await send("/slow-body?ms=1500", { bindings: { ORIGIN_TIMEOUT_SECONDS: "1" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("first last");
  });

  it("answers 508 when ORIGIN_URL points back at the worker", async () => {
    const response = await send("/", { bindings: { ORIGIN_URL: "https://shop.example" } });
    expect(response.status).toBe(508);
    await response.body?.cancel();
  });

  it("answers 508 when a request comes back from this worker", async () => {
    const response = await send("/", { headers: { "X-Reflinks-Hop": "1" } });
    expect(response.status).toBe(508);
    await response.body?.cancel();
  });

  it("passes on what the origin sent before it closed mid-body, then ends the stream with an error", async () => {
    const response = await send("/close-mid-body");
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});

describe("special requests", () => {
  it("passes a WebSocket upgrade through", async () => {
    const response = await send("/socket", { headers: { Upgrade: "websocket" } });
    expect(response.status).toBe(101);
    const socket = response.webSocket;
    if (!socket) throw new Error("no WebSocket on the 101 response");
    socket.accept();
    const reply = new Promise<string>((resolve) =>
      socket.addEventListener("message", (event) => resolve(String(event.data))),
    );
    socket.send("hello");
    expect(await reply).toBe("echo:hello");
    socket.close();
  });

  it("in route mode (no ORIGIN_URL) passes the request on as it is, without X-Forwarded-*", async () => {
    // Without ORIGIN_URL the request's own URL is fetched; here it names the stub origin.
    const response = await send(`${env.ORIGIN_URL}/route-mode?x=1`, { bindings: { ORIGIN_URL: "" } });
    const echo = await response.json<EchoedRequest>();
    expect(echo.url).toBe("/route-mode?x=1");
    expect(echo.headers["x-forwarded-host"]).toBeUndefined();
    expect(echo.headers["x-reflinks-hop"]).toBe("1");
  });
});

describe("when the client fails", () => {
  it("a client that aborts mid-upload gets a gateway error, not an exception, and the worker carries on", async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 3) controller.enqueue(new Uint8Array(16 * 1024).fill(1));
        else controller.error(new Error("the client went away"));
      },
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send("/upload", {
      method: "POST",
      body,
      headers: { "Content-Type": "text/plain" },
    });
    warn.mockRestore();
    expect(response.status).toBe(502);
    await response.body?.cancel();

    const after = await send("/after-abort");
    expect(after.status).toBe(200);
    await after.body?.cancel();
  });
});
