/**
 * A stand-in for the user's origin site, run in Node beside the Workers runtime (pool-workers has
 * no fetchMock). It echoes what it received as JSON, and a few paths misbehave on purpose.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { EchoedRequest } from "../support/echo.ts";

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Just enough of RFC 6455 to prove an upgrade passes the proxy: the handshake, then each short
 * masked text frame from the client is answered with "echo:" and its text.
 */
function acceptWebSocket(request: IncomingMessage, socket: Duplex): void {
  const key = request.headers["sec-websocket-key"];
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  socket.on("data", (frame: Buffer) => {
    const opcode = (frame[0] ?? 0) & 0x0f;
    const length = (frame[1] ?? 0) & 0x7f;
    if (opcode === 0x8) return socket.end();
    if (opcode !== 0x1 || length > 125) return;
    const mask = frame.subarray(2, 6);
    const text = Buffer.from(frame.subarray(6, 6 + length).map((byte, i) => byte ^ (mask[i % 4] ?? 0)));
    const reply = Buffer.from(`echo:${text.toString("utf8")}`);
    socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
  });
  socket.on("error", () => socket.destroy());
}

/**
 * The request target as a URL. It is appended to the base rather than resolved against it: a
 * target such as `//@%09?x` is a path to an origin, not a protocol-relative URL (which would not
 * even parse).
 */
function requestTarget(request: IncomingMessage): URL {
  try {
    return new URL(`http://origin.test${request.url ?? "/"}`);
  } catch {
    return new URL("http://origin.test/unparsable-target");
  }
}

/** The token vitest.config.ts binds as `API_TOKEN`: the origin signs its login reports with it. */
export const STUB_API_TOKEN = "test-api-token";

/** `Reflinks-User-Signature` for a header value, as an origin computes it. */
export function loginSignature(value: string, token = STUB_API_TOKEN): string {
  return createHmac("sha256", token).update(value).digest("hex");
}

/** What a webhook receiver box got: each request's headers and raw body, and its huge answer's fate. */
interface ReceiverBox {
  requests: { headers: IncomingMessage["headers"]; body: string }[];
  /** Bytes of the 100 MB answer written before the worker hung up, and whether it all went. */
  hugeBytesSent: number;
  hugeFinished: boolean;
}

const HUGE_BODY_BYTES = 100 * 1024 * 1024;
const receiverBoxes = new Map<string, ReceiverBox>();

/**
 * Webhook receivers for the worker's delivery tests: `/webhook-receiver/<box>/<behaviour>` keeps
 * every request in `<box>` (GET `/webhook-receiver/<box>/received` lists them) and answers by
 * `<behaviour>`: `ok` (204), `fail-N` (500 to the box's first N requests, then 200),
 * `status-N` (always N), `redirect` (307 to the box's `ok`), `hang` (never answers), `huge`
 * (200 and a 100 MB body, written only as fast as it is read) or `huge-N` (the same with status N).
 */
async function webhookReceiver(request: IncomingMessage, response: ServerResponse, url: URL) {
  const [, , name = "", behaviour = ""] = url.pathname.split("/");
  const box = receiverBoxes.get(name) ?? { requests: [], hugeBytesSent: 0, hugeFinished: false };
  receiverBoxes.set(name, box);
  if (behaviour === "received") {
    response.writeHead(200, { "Content-Type": "application/json" });
    return response.end(JSON.stringify(box));
  }
  const body = (await readBody(request)).toString("utf8");
  box.requests.push({ headers: request.headers, body });
  const failures = /^fail-(\d+)$/.exec(behaviour);
  const status = /^status-(\d{3})$/.exec(behaviour);
  if (behaviour === "ok") return response.writeHead(204).end();
  if (failures) {
    const failing = box.requests.length <= Number(failures[1]);
    return response.writeHead(failing ? 500 : 200).end(failing ? "receiver down" : "ok");
  }
  if (status) return response.writeHead(Number(status[1])).end(`status ${status[1]}`);
  if (behaviour === "redirect") {
    return response.writeHead(307, { Location: `/webhook-receiver/${name}/ok` }).end();
  }
  if (behaviour === "hang") return; // never answers
  const huge = /^huge(?:-(\d{3}))?$/.exec(behaviour);
  if (huge) {
    response.writeHead(Number(huge[1] ?? 200), { "Content-Type": "application/octet-stream" });
    const chunk = Buffer.alloc(64 * 1024, 120);
    response.on("close", () => {
      box.hugeFinished = response.writableFinished;
    });
    while (box.hugeBytesSent < HUGE_BODY_BYTES && !response.destroyed) {
      box.hugeBytesSent += chunk.length;
      if (!response.write(chunk)) {
        await new Promise((resolve) => {
          response.once("drain", resolve);
          response.once("close", resolve);
        });
      }
    }
    return response.end();
  }
  response.writeHead(404).end();
}

export function createStubOrigin(): Server {
  const server = createServer(async (request, response) => {
    const url = requestTarget(request);
    try {
      if (url.pathname.startsWith("/webhook-receiver/")) return await webhookReceiver(request, response, url);
      switch (url.pathname) {
        case "/hang":
          return; // never answers: the worker must give up with 504
        case "/slow-body": {
          // Headers at once, then the body over ?ms= milliseconds: longer than the origin timeout.
          const ms = Number(url.searchParams.get("ms") ?? "1500");
          response.writeHead(200, { "Content-Type": "text/plain" });
          response.write("first ");
          setTimeout(() => response.end("last"), ms);
          return;
        }
        case "/close-mid-body":
          response.writeHead(200, { "Content-Type": "text/plain" });
          response.write("partial ");
          setTimeout(() => response.socket?.destroy(), 20);
          return;
        case "/login-as": {
          // An origin reporting a login the zero-code way: the user id percent-encoded, signed
          // with the API token. ?sign=none leaves the signature out, ?sign=bad forges one,
          // ?raw=1 sends the value without encoding it (an old integration).
          const user = url.searchParams.get("user") ?? "";
          const value = url.searchParams.has("raw") ? user : encodeURIComponent(user);
          const sign = url.searchParams.get("sign");
          response.writeHead(303, {
            Location: "/account",
            "Reflinks-User": value,
            ...(sign === "none"
              ? {}
              : { "Reflinks-User-Signature": sign === "bad" ? "0".repeat(64) : loginSignature(value) }),
            // A careless origin: the worker must not let a shared cache keep a login answer.
            "Cache-Control": "public, max-age=600",
            "Set-Cookie": ["session=new; Path=/; HttpOnly", "flash=welcome; Path=/"],
            // ?cache=HIT: the answer as a cache in front of the origin would replay it.
            ...(url.searchParams.has("cache")
              ? { "CF-Cache-Status": url.searchParams.get("cache") ?? "", Age: "120" }
              : {}),
          });
          return response.end();
        }
        case "/hdr":
          // A page with a header injection bug: it sets any response header from its query string.
          response.writeHead(200, {
            "Content-Type": "text/plain",
            [url.searchParams.get("name") ?? "X-Empty"]: url.searchParams.get("value") ?? "",
          });
          return response.end("reflected");
        case "/redirect":
          response.writeHead(301, { Location: "/elsewhere" });
          return response.end();
        case "/cookies":
          response.setHeader("Set-Cookie", [
            "session=abc; Path=/; HttpOnly",
            "theme=dark; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
            "csrf=x1y2; Path=/; SameSite=Strict",
          ]);
          response.writeHead(200, { "Content-Type": "text/plain", "X-Custom": "kept" });
          return response.end("cookies set");
        case "/download": {
          const megabytes = Number(url.searchParams.get("mb") ?? "1");
          response.writeHead(200, {
            "Content-Type": "application/octet-stream",
            "Content-Length": String(megabytes * 1024 * 1024),
          });
          const chunk = Buffer.alloc(64 * 1024, 7);
          for (let sent = 0; sent < megabytes * 16; sent++) {
            if (!response.write(chunk)) await new Promise((resolve) => response.once("drain", resolve));
          }
          return response.end();
        }
      }
      const body = await readBody(request);
      const echo: EchoedRequest = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        bodyBytes: body.length,
        body: body.subarray(0, 4096).toString("utf8"),
      };
      response.writeHead(url.pathname === "/missing" ? 404 : 200, {
        "Content-Type": "application/json",
        "X-Origin": "stub",
      });
      response.end(request.method === "HEAD" ? undefined : JSON.stringify(echo));
    } catch {
      response.destroy();
    }
  });
  server.on("upgrade", acceptWebSocket);
  return server;
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}
