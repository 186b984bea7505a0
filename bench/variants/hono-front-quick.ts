/**
 * A bench variant (`npm run bench -- --variant bench/variants/hono-front-quick.ts`): the product's design
 * with one Hono app in front of everything, hono/quick (SmartRouter over LinearRouter and TrieRouter, quick to register), its catch-all calling the same dispatcher as
 * src/index.ts does. Measured against the plain dispatcher in README.md#performance.
 */
import { Hono } from "hono/quick";
import type { AppBindings } from "../../src/bindings";
import entry from "../../src/index";
import { handleRequest } from "../../src/worker";

const app = new Hono<{ Bindings: AppBindings }>();
app.all("*", (c) => handleRequest(c.req.raw, c.env, c.executionCtx as ExecutionContext));

export default { ...entry, fetch: app.fetch };
