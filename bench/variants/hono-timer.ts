/**
 * A bench variant: baseline (d), the one-route Hono proxy, plus the product's origin timeout (an
 * AbortController whose signal `fetch` is given, a timer set and cleared per request), so that its
 * runtime cost can be told from the rest (docs/performance.md#the-page-view-tail).
 */
import { Hono } from "hono";

function abort(controller: AbortController): void {
  controller.abort("origin timed out");
}

const app = new Hono<{ Bindings: { ORIGIN_URL: string } }>();
app.all("*", async (c) => {
  const url = new URL(c.req.url);
  const upstream = new AbortController();
  const timer = setTimeout(abort, 30_000, upstream);
  try {
    return await fetch(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, {
      method: c.req.raw.method,
      headers: c.req.raw.headers,
      redirect: "manual",
      signal: upstream.signal,
    });
  } finally {
    clearTimeout(timer);
  }
});

export default app;
