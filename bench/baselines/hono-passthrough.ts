// Baseline (d): the simplest Hono proxy one could write, built with this project's own `hono`:
// one app, one route, `fetch` to the origin. Bundled by the bench (wrangler deploy --dry-run).
import { Hono } from "hono";

const app = new Hono<{ Bindings: { ORIGIN_URL: string } }>();
app.all("*", (c) => {
  const url = new URL(c.req.url);
  return fetch(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, c.req.raw);
});

export default app;
