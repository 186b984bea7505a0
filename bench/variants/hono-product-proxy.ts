/**
 * A bench variant: baseline (d)'s one-route Hono app, with the product's own proxy
 * (`proxyToOrigin`: header hardening, loop check, origin timeout) in place of its bare `fetch`,
 * and no login report. Against (d) and the product it tells the proxy's cost from the front's and
 * the rest of the bundle's (docs/performance.md#the-page-view-tail).
 */
import { Hono } from "hono";
import type { AppBindings } from "../../src/bindings";
import { ConfigError, configOf } from "../../src/config";
import { proxyToOrigin } from "../../src/routes/proxy";

const app = new Hono<{ Bindings: AppBindings }>();
app.all("*", (c) => {
  const config = configOf(c.env);
  if (config instanceof ConfigError) return new Response(config.message, { status: 500 });
  return proxyToOrigin(c.req.raw, new URL(c.req.url), config);
});

export default app;
