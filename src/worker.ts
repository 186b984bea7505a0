/**
 * The request dispatcher. Every page view of the site passes through here, so deciding "is this
 * ours?" takes plain string checks on the URL, in the documented order of precedence
 * (docs/routing.md#order-of-precedence), and everything else goes straight to the proxy: no router,
 * no Drizzle, no cookie parsing on that path.
 */
import type { AppBindings } from "./bindings";
import { ConfigError, configOf, proxyFallbackOf } from "./config";
import { plainErrorResponse } from "./errors";
import { requestIdOf } from "./lib/request-id";
import { API_PREFIX } from "./routes/api/prefix";
import { applyLoginReport, SIGNATURE_HEADER, USER_HEADER, withoutLoginHeaders } from "./routes/login-report";
import { proxyToOrigin } from "./routes/proxy";
import { handleReferralLink, handleReferralParam } from "./routes/referral";

const API_PREFIX_SLASH = `${API_PREFIX}/`;

type ApiApp = ReturnType<typeof import("./routes/api").createApiApp>;
let api: Promise<ApiApp> | undefined;

/**
 * The API app, loaded and built on the isolate's first API request. Its modules (routes, schemas,
 * the dashboard, the OpenAPI document) are bundled but not evaluated before then, so an isolate that
 * serves page views and clicks starts faster and carries a smaller heap, which makes its garbage
 * collections shorter (README.md#performance). A failed load is not remembered: the next request
 * tries again.
 */
function apiApp(): Promise<ApiApp> {
  api ??= import("./routes/api").then(
    (module) => module.createApiApp(),
    (error) => {
      api = undefined;
      throw error;
    },
  );
  return api;
}

export async function handleRequest(
  request: Request,
  bindings: AppBindings,
  ctx: ExecutionContext,
): Promise<Response> {
  const config = configOf(bindings);
  const url = new URL(request.url);
  const path = url.pathname;
  if (config instanceof ConfigError) return misconfigured(request, url, bindings, config);

  if (path === API_PREFIX || path.startsWith(API_PREFIX_SLASH)) {
    return (await apiApp()).fetch(request, bindings, ctx);
  }
  // `/ref` without its slash counts too; compared without building a string per page view.
  const refPath = config.refPath;
  if (path.startsWith(refPath) || (path.length === refPath.length - 1 && refPath.startsWith(path))) {
    return handleReferralLink({ request, url, bindings, ctx, config });
  }
  if (request.method === "GET" && url.search.includes(config.refParamMarker)) {
    // Null at once when it is not a referral that D1 must settle (a remembered miss): no await.
    const referral = handleReferralParam({ request, url, bindings, ctx, config });
    const response = referral && (await referral);
    if (response) return response;
  }
  const response = await proxyToOrigin(request, url, config);
  if (!carriesLoginReport(response)) return response;
  return applyLoginReport(response, request, url, config, bindings, ctx);
}

/**
 * A bad setting (docs/configuration.md#bad-values): the API says which, and every other request,
 * referral URLs included, goes to the origin unchanged, so the site stays up. Login headers are
 * removed unread: nothing is recorded until the configuration is fixed. Only an unusable
 * `ORIGIN_URL` stops page views.
 */
async function misconfigured(
  request: Request,
  url: URL,
  bindings: AppBindings,
  error: ConfigError,
): Promise<Response> {
  const path = url.pathname;
  const fallback = proxyFallbackOf(bindings);
  if (path === API_PREFIX || path.startsWith(API_PREFIX_SLASH) || fallback instanceof ConfigError) {
    const named = fallback instanceof ConfigError ? fallback : error;
    return plainErrorResponse("misconfigured", named.message, requestIdOf(request));
  }
  const response = await proxyToOrigin(request, url, fallback);
  return carriesLoginReport(response) ? withoutLoginHeaders(response) : response;
}

/** Either header is the origin's to the worker: the browser never gets one, even alone. */
function carriesLoginReport(response: Response): boolean {
  return response.headers.has(USER_HEADER) || response.headers.has(SIGNATURE_HEADER);
}
