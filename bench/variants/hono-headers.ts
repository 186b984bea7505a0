/**
 * A bench variant: baseline (d), the one-route Hono proxy, plus what the product's proxy does to
 * the request headers (a copy, the loop header set, `fetch` given them in an init), so that their
 * runtime cost can be told from the rest (docs/performance.md#the-page-view-tail).
 */
import { Hono } from "hono";

const app = new Hono<{ Bindings: { ORIGIN_URL: string } }>();
app.all("*", (c) => {
  const request = c.req.raw;
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.set("X-Reflinks-Hop", "1");
  return fetch(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, {
    method: request.method,
    headers,
    redirect: "manual",
  });
});

export default app;
