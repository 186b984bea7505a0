/**
 * A bench variant: baseline (d), the one-route Hono proxy, plus an AbortController whose signal
 * `fetch` is given, with no timer; against bench/variants/hono-timer.ts it tells the timer's cost
 * from the signal's (docs/performance.md#the-page-view-tail).
 */
import { Hono } from "hono";

const app = new Hono<{ Bindings: { ORIGIN_URL: string } }>();
app.all("*", (c) => {
  const url = new URL(c.req.url);
  const upstream = new AbortController();
  return fetch(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, {
    method: c.req.raw.method,
    headers: c.req.raw.headers,
    redirect: "manual",
    signal: upstream.signal,
  });
});

export default app;
