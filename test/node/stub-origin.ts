/**
 * A stand-in for the user's origin site, run in Node beside the Workers runtime (pool-workers has
 * no fetchMock). It echoes what it received as JSON, and a few paths misbehave on purpose.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EchoedRequest } from "../support/echo.ts";

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function createStubOrigin(): Server {
  return createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://origin.test");
    try {
      switch (url.pathname) {
        case "/hang":
          return; // never answers: the worker must give up with 504
        case "/close-mid-body":
          response.writeHead(200, { "Content-Type": "text/plain" });
          response.write("partial ");
          setTimeout(() => response.socket?.destroy(), 20);
          return;
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
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}
