/**
 * The JSON API (docs/api.md) under `/_reflinks`, spoken by the origin server.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { HonoEnv } from "../../app-env";
import { configOf } from "../../config";
import { database } from "../../db/client";
import { ApiError, errorResponse } from "../../errors";
import { errorMessage, log } from "../../lib/log";
import { requestIdOf } from "../../lib/request-id";
import { dashboard } from "../dashboard/dashboard";
import { requireApiToken } from "./auth";
import { MAX_BODY_BYTES } from "./input";
import { links } from "./links";
import { referrals } from "./referrals";
import { reports } from "./reports";

export const API_PREFIX = "/_reflinks";
/** The dashboard is opened by a browser, which can send the token only as Basic credentials. */
const DASHBOARD_PATH = `${API_PREFIX}/dashboard`;

export function createApiApp() {
  const app = new Hono<HonoEnv>().basePath(API_PREFIX);

  app.use(async (c, next) => {
    const config = configOf(c.env);
    // The worker entry answers a bad configuration before any app runs; this keeps types honest.
    if (config instanceof Error) throw new ApiError("misconfigured", config.message);
    c.set("config", config);
    c.set("db", database(c.env.DB));
    await next();
    c.header("Cache-Control", "no-store");
  });

  app.get("/health", async (c) => {
    try {
      await c.env.DB.prepare("SELECT 1").first();
    } catch (error) {
      log("error", "health_check_failed", { request_id: requestIdOf(c.req.raw), error: errorMessage(error) });
      throw new ApiError("unavailable", "The database does not answer.");
    }
    return c.json({ ok: true });
  });
  app.all("/health", (c) => {
    c.header("Allow", "GET, HEAD");
    throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here; use GET.`);
  });

  const apiAuth = requireApiToken();
  const dashboardAuth = requireApiToken({ basic: true });
  app.use((c, next) => {
    const path = c.req.path;
    const isDashboard = path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
    return (isDashboard ? dashboardAuth : apiAuth)(c, next);
  });
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => errorResponse(c, new ApiError("payload_too_large", "The body is over 64 KiB.")),
    }),
  );

  app.route("/links", links);
  app.route("/", referrals);
  app.route("/reports", reports);
  app.route("/dashboard", dashboard);

  app.notFound((c) => errorResponse(c, new ApiError("not_found", "No such API route.")));

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    log("error", "api_unhandled_error", {
      path: c.req.path,
      request_id: requestIdOf(c.req.raw),
      error: errorMessage(error),
    });
    return errorResponse(c, new ApiError("internal_error", "Internal error."));
  });

  return app;
}
