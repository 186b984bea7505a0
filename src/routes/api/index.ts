/**
 * The JSON API (docs/api.md) under `/_reflinks`, spoken by the origin server. Every route is
 * registered from the one table in ./contract.ts, with the handler of the same name.
 */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
// hono/tiny: PatternRouter tries the routes one by one, fine for an API of thirty routes, and is
// 2.5 KiB gzipped lighter than the default preset's two routers (the bench's bundle budget).
import { Hono } from "hono/tiny";
import type { HonoEnv } from "../../app-env";
import { configOf } from "../../config";
import { database } from "../../db/client";
import { EXPECTED_MIGRATIONS, MIGRATE_COMMAND, missingMigrations } from "../../db/migrations";
import { ApiError, errorResponse } from "../../errors";
import { errorMessage, log } from "../../lib/log";
import { requestIdOf } from "../../lib/request-id";
import { sendWrittenEvents } from "../../webhooks/first-attempt";
import { dashboard } from "../dashboard/dashboard";
import { requireApiToken } from "./auth";
import { API_ROUTES, type ApiRoute, methodsOf, type RouteName } from "./contract";
import { fraudHandlers } from "./fraud";
import type { ApiHandler, ApiHandlers } from "./handler";
import { MAX_BODY_BYTES, readInput } from "./input";
import { linkHandlers } from "./links";
import { moneyHandlers } from "./money";
import openApiDocument from "./openapi.json";
import { payoutRunHandlers } from "./payout-runs";
import { API_PREFIX } from "./prefix";
import { referralHandlers } from "./referrals";
import { reportHandlers } from "./reports";
import { userHandlers } from "./users";
import { webhookHandlers } from "./webhooks";

export { API_PREFIX };

const HANDLERS: ApiHandlers = {
  async health(c) {
    let missing: string[];
    try {
      missing = await missingMigrations(c.env.DB);
    } catch (error) {
      log("error", "health_check_failed", { request_id: requestIdOf(c.req.raw), error: errorMessage(error) });
      throw new ApiError("unavailable", "The database does not answer.");
    }
    if (missing.length > 0) {
      log("error", "database_not_migrated", { request_id: requestIdOf(c.req.raw), missing });
      const which =
        missing.length === EXPECTED_MIGRATIONS.length ? "was never migrated" : "is not up to date";
      throw new ApiError(
        "not_migrated",
        `The database ${which}: ${missing.length} of ${EXPECTED_MIGRATIONS.length} migrations are missing ` +
          `(${missing.join(", ")}), so nothing can be recorded. Run: ${MIGRATE_COMMAND}.`,
      );
    }
    return c.json({ ok: true });
  },
  openapi: (c) => c.json(openApiDocument),
  ...linkHandlers,
  ...referralHandlers,
  ...fraudHandlers,
  ...reportHandlers,
  ...moneyHandlers,
  ...payoutRunHandlers,
  ...userHandlers,
  ...webhookHandlers,
};

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
  app.use(sendWrittenEvents);

  const routes = Object.entries(API_ROUTES) as [RouteName, ApiRoute][];
  const register = (name: RouteName, route: ApiRoute) => {
    if (name === "dashboard") app.route(route.path, dashboard);
    else app.on(route.method.toUpperCase(), route.path, withInput(route, HANDLERS[name]));
  };

  // Routes without a token first, then the token check, then everything else.
  for (const [name, route] of routes) if (route.auth === "none") register(name, route);
  const bearer = requireApiToken();
  const basic = requireApiToken({ basic: true });
  const dashboardPath = `${API_PREFIX}${API_ROUTES.dashboard.path}`;
  app.use((c, next) => {
    const path = c.req.path;
    const isDashboard = path === dashboardPath || path.startsWith(`${dashboardPath}/`);
    return (isDashboard ? basic : bearer)(c, next);
  });
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => errorResponse(c, new ApiError("payload_too_large", "The body is over 64 KiB.")),
    }),
  );
  for (const [name, route] of routes) if (route.auth !== "none") register(name, route);

  // The one 405 handler: a path the table knows, asked with a method it does not list.
  app.all("*", (c) => {
    const methods = methodsOf(c.req.path.slice(API_PREFIX.length));
    if (methods.length === 0) throw new ApiError("not_found", "No such API route.");
    const allow = allowHeader(methods);
    c.header("Allow", allow);
    throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here; use ${allow}.`);
  });

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

/**
 * The handler, given the request's input once it passes the route's schemas (./input.ts): every
 * route validates the same way, and an id in a path follows the rules of the same id in a body
 * (a text id: src/lib/text-id.ts), whichever handler reads it.
 */
function withInput<N extends RouteName>(route: ApiRoute, handler: ApiHandler<N>) {
  return async (c: Context<HonoEnv>) => handler(c, (await readInput(c, route)) as never);
}

const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** `Allow` for a path's methods, in one order: every GET also answers HEAD. */
function allowHeader(methods: readonly string[]): string {
  const upper = new Set(methods.map((method) => method.toUpperCase()));
  if (upper.has("GET")) upper.add("HEAD");
  return METHOD_ORDER.filter((method) => upper.has(method)).join(", ");
}
