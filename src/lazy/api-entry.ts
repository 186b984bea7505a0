/**
 * The API and the dashboard as a lazily loaded module: the entry scripts/build-lazy.mjs bundles
 * into src/lazy/api.js, which src/worker.ts imports on the isolate's first API request.
 */
import { createApiApp as create } from "../routes/api";
import { type ApiHost, setHost } from "./host";

export type { ApiHost };

/** The API app, its stateful functions borrowed from the main module (./host.ts). */
export function createApiApp(host: ApiHost) {
  setHost(host);
  return create();
}
