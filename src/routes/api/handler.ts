/**
 * What a route's handler is given: the request's params, query, headers and body, each already
 * validated by the route's schemas in ./contract.ts (src/routes/api/index.ts reads them before the
 * handler runs), and typed by them. A new route is one entry in the table plus its handler.
 */
import type { Context } from "hono";
import type * as z from "zod/mini";
import type { HonoEnv } from "../../app-env";
import type { API_ROUTES, RouteName } from "./contract";

type Parsed<R, K extends "params" | "query" | "headers" | "body"> = R extends {
  [key in K]: infer S extends z.ZodMiniType;
}
  ? z.output<S>
  : undefined;

/** The input of route `N`: `undefined` where the route has no schema for that part. */
export interface RouteInput<N extends RouteName> {
  params: Parsed<(typeof API_ROUTES)[N], "params">;
  query: Parsed<(typeof API_ROUTES)[N], "query">;
  headers: Parsed<(typeof API_ROUTES)[N], "headers">;
  body: Parsed<(typeof API_ROUTES)[N], "body">;
}

export type ApiHandler<N extends RouteName> = (
  c: Context<HonoEnv>,
  input: RouteInput<N>,
) => Response | Promise<Response>;

/** The dashboard is a sub-app of its own (HTML errors, security headers): mounted, not a handler. */
export type ApiHandlers = { [N in Exclude<RouteName, "dashboard">]: ApiHandler<N> };
