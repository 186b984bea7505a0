/**
 * The worker's front: one Hono app in front of every request, its routes in the documented order
 * of precedence (docs/routing.md#order-of-precedence): the referrer's page (`PORTAL_PATH`), the
 * API, referral links, then everything else (referral parameters and the proxy). `REF_PATH` is a setting, so the app is built once per
 * configuration, on the isolate's first request. Measured against the plain string dispatcher it
 * replaced (docs/architecture.md#why-one-hono-app-is-in-front), within the noise on every page view.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppBindings } from "./bindings";
import { type Config, ConfigError, configOf, mayCarryRefParam, proxyFallbackOf } from "./config";
import { plainErrorResponse } from "./errors";
import { forgetLink } from "./hits/link-cache";
import type { ApiHost } from "./lazy/host";
import { loadApi } from "./lazy-modules";
import { hasConsented } from "./lib/consent";
import { errorMessage, log } from "./lib/log";
import { mayCarryReferralCookie, type ReferralHeaders, verifiedReferral } from "./lib/referral-context";
import { requestIdOf } from "./lib/request-id";
import { dashboardAnswers, dashboardNotHere, isOnHost, onlyTheDashboardHere } from "./operator-door";
import { API_PREFIX, DASHBOARD_PATH } from "./routes/api/prefix";
import { applyLoginReport, SIGNATURE_HEADER, USER_HEADER, withoutLoginHeaders } from "./routes/login-report";
import { proxyToOrigin } from "./routes/proxy";
import { handleReferralLink, handleReferralParam } from "./routes/referral";
import { forgetHitWebhooks, hitEventStatements, hitEventsWritten } from "./webhooks/hit-events";

type Front = Hono<{ Bindings: AppBindings }>;
type FrontContext = Context<{ Bindings: AppBindings }>;

/** `/_reflinks` and everything under it (the router reads `/x/*` as "`/x`, or below `/x/`"). */
const API_ROUTE = `${API_PREFIX}/*`;
/** `/_reflinks/dashboard` and everything under it. */
const DASHBOARD_ROUTE = `${DASHBOARD_PATH}/*`;

type ApiApp = ReturnType<Awaited<ReturnType<typeof loadApi>>["createApiApp"]>;
let api: Promise<ApiApp> | undefined;

/**
 * What the API borrows from this module (src/lazy/host.ts): the functions of the modules whose
 * state the front reads and the API's changes invalidate, so that each has one copy per isolate.
 */
const API_HOST: ApiHost = {
  forgetLink,
  forgetHitWebhooks,
  hitEventStatements,
  hitEventsWritten,
  requestIdOf,
};

/**
 * The API app, loaded and built on the isolate's first API request. Its code (routes, schemas,
 * the dashboard, the OpenAPI document) is a module of its own (src/lazy/api.js, built by
 * scripts/build-lazy.mjs), uploaded beside this one but neither parsed nor evaluated before then,
 * so an isolate that serves page views and clicks starts faster and carries a smaller heap, which
 * makes its garbage collections shorter (docs/performance.md). A failed load is not remembered:
 * the next request tries again.
 */
function apiApp(): Promise<ApiApp> {
  api ??= loadApi().then(
    (module) => module.createApiApp(API_HOST),
    (error) => {
      api = undefined;
      throw error;
    },
  );
  return api;
}

type PortalApp = ReturnType<typeof import("./routes/portal/app").createPortalApp>;
const portals = new WeakMap<Config, Promise<PortalApp>>();

/**
 * The referrer's page, loaded and built on the isolate's first request for it, as the API is: page
 * views and clicks never evaluate it (nor its QR encoder). One per configuration.
 */
function portalApp(config: Config): Promise<PortalApp> {
  let portal = portals.get(config);
  if (!portal) {
    portal = import("./routes/portal/app").then(
      (module) => module.createPortalApp(config),
      (error) => {
        portals.delete(config);
        throw error;
      },
    );
    portals.set(config, portal);
  }
  return portal;
}

/** The site's front, and the dashboard host's when `DASHBOARD_HOST` names one. */
interface Fronts {
  site: Front;
  operator: { front: Front; host: { hostname: string; port: string | null } } | null;
}

/** One pair of fronts per configuration (and per bad configuration): configurations are cached per env. */
const fronts = new WeakMap<Config | ConfigError, Fronts>();

export function handleRequest(
  request: Request,
  bindings: AppBindings,
  ctx: ExecutionContext,
): Response | Promise<Response> {
  const config = configOf(bindings);
  let pair = fronts.get(config);
  if (pair === undefined) {
    pair =
      config instanceof ConfigError
        ? { site: misconfiguredFront(config), operator: null }
        : { site: frontFor(config), operator: operatorOf(config) };
    fronts.set(config, pair);
  }
  const { operator } = pair;
  const front = operator !== null && isOnHost(request.url, operator.host) ? operator.front : pair.site;
  return front.fetch(request, bindings, ctx);
}

function frontFor(config: Config): Front {
  const front = newFront();
  // The referrer's page first: its default path lies under the API's prefix, where it needs no
  // bearer token (docs/referrer-page.md). Off: that path goes on like any other.
  const portalPath = config.portalPath;
  if (portalPath !== null) {
    front.all(`${portalPath}/*`, async (c) =>
      (await portalApp(config)).fetch(c.req.raw, c.env, c.executionCtx),
    );
  }
  // The operator's door (src/operator-door.ts): the dashboard only on its own host, before the API
  // could ask for credentials.
  front.all(DASHBOARD_ROUTE, (c) =>
    dashboardAnswers(c.req.url, config.dashboardHost) ? toApi(c) : dashboardNotHere(),
  );
  front.all(API_ROUTE, toApi);
  // `REF_PATH` ends with "/", so `/ref/*`: `/ref` itself, and everything below `/ref/`.
  front.all(`${config.refPath}*`, (c) =>
    handleReferralLink({
      request: c.req.raw,
      url: new URL(c.req.url),
      bindings: c.env,
      ctx: executionCtxOf(c),
      config,
    }),
  );
  front.all("*", (c) => toSite(c, config));
  return front;
}

/** `DASHBOARD_HOST`'s front: the dashboard and the API, and nothing of the site. */
function operatorOf(config: Config): Fronts["operator"] {
  const host = config.dashboardHost;
  if (!host.own) return null;
  const front = newFront();
  // The referrer's page is the site's: 404 here, even where its path lies under the API's.
  if (config.portalPath !== null) front.all(`${config.portalPath}/*`, onlyTheDashboardHere);
  front.all(API_ROUTE, toApi);
  front.all("*", onlyTheDashboardHere);
  return { front, host };
}

async function toApi(c: FrontContext): Promise<Response> {
  return (await apiApp()).fetch(c.req.raw, c.env, c.executionCtx);
}

/** Rows 3 and 4: a `GET` naming an enabled link in `REF_PARAM` is redirected, the rest proxied. */
async function toSite(c: FrontContext, config: Config): Promise<Response> {
  const request = c.req.raw;
  const url = new URL(request.url);
  if (request.method === "GET" && mayCarryRefParam(url.search, config)) {
    // Null at once when it is not a referral that D1 must settle (a remembered miss): no await.
    const referral = handleReferralParam({ request, url, bindings: c.env, ctx: executionCtxOf(c), config });
    const response = referral && (await referral);
    if (response) return response;
  }
  // The referral context (docs/referred-visitor.md): a page view without the cookie pays one
  // substring search of its Cookie header, and one with it a signature check, never a query.
  const cookies = request.headers.get("Cookie");
  const referral = mayCarryReferralCookie(cookies) ? await referralOf(request, cookies, config) : null;
  const response = await proxyToOrigin(request, url, config, referral);
  if (!carriesLoginReport(response)) return response;
  return applyLoginReport(response, request, url, config, c.env, executionCtxOf(c));
}

/** The verified referral headers of a request carrying `reflinks_ref`, unless it has not consented. */
function referralOf(
  request: Request,
  cookies: string,
  config: Config,
): Promise<ReferralHeaders | null> | null {
  if (!hasConsented(request, config.consent)) return null;
  return verifiedReferral(cookies, config);
}

/**
 * A bad setting (docs/configuration.md#bad-values): the API says which, and every other request,
 * referral URLs included, goes to the origin unchanged, so the site stays up. Login headers are
 * removed unread: nothing is recorded until the configuration is fixed. Only an unusable
 * `ORIGIN_URL` stops page views.
 */
function misconfiguredFront(error: ConfigError): Front {
  const front = newFront();
  const answer = (c: FrontContext, named: ConfigError) =>
    plainErrorResponse("misconfigured", named.message, requestIdOf(c.req.raw));
  front.all(API_ROUTE, (c) => {
    const fallback = proxyFallbackOf(c.env);
    return answer(c, fallback instanceof ConfigError ? fallback : error);
  });
  front.all("*", async (c) => {
    const fallback = proxyFallbackOf(c.env);
    if (fallback instanceof ConfigError) return answer(c, fallback);
    const request = c.req.raw;
    const response = await proxyToOrigin(request, new URL(request.url), fallback);
    return carriesLoginReport(response) ? withoutLoginHeaders(response) : response;
  });
  return front;
}

function newFront(): Front {
  // The path as the URL carries it: routes match by plain, case-sensitive string comparison, and
  // a percent-encoded `/%72ef/…` is not `/ref/…` (Hono's own reading would decode it first).
  const front = new Hono<{ Bindings: AppBindings }>({ getPath: pathOf });
  front.onError((error, c) => failedRequest(c.req.raw, error));
  return front;
}

/** Hono types the context its own way; it is the one the runtime gave `fetch`. */
function executionCtxOf(c: FrontContext): ExecutionContext {
  return c.executionCtx as ExecutionContext;
}

/** The URL's path, without its query: a request's URL is absolute, its path at least "/". */
function pathOf(request: Request): string {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/** Either header is the origin's to the worker: the browser never gets one, even alone. */
function carriesLoginReport(response: Response): boolean {
  return response.headers.has(USER_HEADER) || response.headers.has(SIGNATURE_HEADER);
}

/**
 * A bug costs one request a 500, logged; never an unhandled exception
 * (docs/routing.md#when-something-fails).
 */
export function failedRequest(request: Request, error: unknown): Response {
  const requestId = requestIdOf(request);
  log("error", "request_failed", {
    path: new URL(request.url).pathname,
    request_id: requestId,
    error: errorMessage(error),
  });
  return plainErrorResponse("internal_error", "reflinks could not handle this request.", requestId);
}
