/**
 * A request as a browser's top-level navigation sends it, over node:http. Node's own `fetch`
 * cannot be used for referral clicks: it always sends `Sec-Fetch-Mode: cors`, which marks a
 * script's request, and the worker records no hit for those (docs/routing.md#what-records-a-hit).
 */
import http from "node:http";

export const NAVIGATION_HEADERS = {
  "Sec-Fetch-Dest": "document",
  "Sec-Fetch-Mode": "navigate",
  "Sec-Fetch-Site": "none",
  Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
} as const;

export interface NavigateInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** GETs (or POSTs a form to) `url` without following redirects; answers a fetch `Response`. */
export function navigate(url: string, init: NavigateInit = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: init.method ?? "GET",
        headers: {
          ...NAVIGATION_HEADERS,
          ...init.headers,
          ...(init.body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(init.body)) }),
        },
        // A fresh connection each time, as concurrent browsers would open them.
        agent: false,
        timeout: init.timeoutMs ?? 15_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const one of Array.isArray(value) ? value : [value ?? ""]) headers.append(name, one);
          }
          const status = response.statusCode ?? 0;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status, headers }));
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer from ${url} in time`)));
    request.on("error", reject);
    request.end(init.body);
  });
}
