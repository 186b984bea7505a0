/**
 * The request dispatcher. Every page view of the site passes through here, so deciding "is this
 * ours?" takes plain string checks on the URL, in SPEC order of precedence, and everything else
 * goes straight to the proxy: no router, no Drizzle, no cookie parsing on that path.
 */
import type { AppBindings } from "./bindings";
import { ConfigError, configOf } from "./config";
import { plainErrorResponse } from "./errors";
import { API_PREFIX, createApiApp } from "./routes/api";
import { applyLoginReport, USER_HEADER } from "./routes/login-report";
import { proxyToOrigin } from "./routes/proxy";
import { handleReferralLink, handleReferralParam } from "./routes/referral";

const api = createApiApp();
const API_PREFIX_SLASH = `${API_PREFIX}/`;

export async function handleRequest(
  request: Request,
  bindings: AppBindings,
  ctx: ExecutionContext,
): Promise<Response> {
  const config = configOf(bindings);
  if (config instanceof ConfigError) return plainErrorResponse("misconfigured", config.message);

  const url = new URL(request.url);
  const path = url.pathname;

  if (path === API_PREFIX || path.startsWith(API_PREFIX_SLASH)) {
    return api.fetch(request, bindings, ctx);
  }
  // `/ref` without its slash counts too; compared without building a string per page view.
  const refPath = config.refPath;
  if (path.startsWith(refPath) || (path.length === refPath.length - 1 && refPath.startsWith(path))) {
    return handleReferralLink({ request, url, bindings, ctx, config });
  }
  if (request.method === "GET" && url.search.includes(config.refParamMarker)) {
    const response = await handleReferralParam({ request, url, bindings, ctx, config });
    if (response) return response;
  }
  const response = await proxyToOrigin(request, url, config);
  if (!response.headers.has(USER_HEADER)) return response;
  return applyLoginReport(response, request, url, config, bindings, ctx);
}
