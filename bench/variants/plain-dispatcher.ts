/**
 * A bench variant (`npm run bench -- --variant bench/variants/plain-dispatcher.ts`): the design the
 * Hono front replaced, plain string checks on the URL in front of the same routes, kept so that
 * the choice can be measured again (docs/architecture.md#why-one-hono-app-is-in-front). Only what the bench sends is served
 * as the product serves it; a bad configuration is a bare 500 here.
 */
import type { AppBindings } from "../../src/bindings";
import { ConfigError, configOf, mayCarryRefParam } from "../../src/config";
import entry from "../../src/index";
import { API_PREFIX } from "../../src/routes/api/prefix";
import { applyLoginReport, SIGNATURE_HEADER, USER_HEADER } from "../../src/routes/login-report";
import { proxyToOrigin } from "../../src/routes/proxy";
import { handleReferralLink, handleReferralParam } from "../../src/routes/referral";

type ApiApp = ReturnType<typeof import("../../src/routes/api").createApiApp>;
let api: Promise<ApiApp> | undefined;

async function handleRequest(request: Request, bindings: AppBindings, ctx: ExecutionContext) {
  const config = configOf(bindings);
  if (config instanceof ConfigError) return new Response(config.message, { status: 500 });
  const url = new URL(request.url);
  const path = url.pathname;
  if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
    api ??= import("../../src/routes/api").then((module) => module.createApiApp());
    return (await api).fetch(request, bindings, ctx);
  }
  const refPath = config.refPath;
  if (path.startsWith(refPath) || (path.length === refPath.length - 1 && refPath.startsWith(path))) {
    return handleReferralLink({ request, url, bindings, ctx, config });
  }
  if (request.method === "GET" && mayCarryRefParam(url.search, config)) {
    const referral = handleReferralParam({ request, url, bindings, ctx, config });
    const response = referral && (await referral);
    if (response) return response;
  }
  const response = await proxyToOrigin(request, url, config);
  if (!response.headers.has(USER_HEADER) && !response.headers.has(SIGNATURE_HEADER)) return response;
  return applyLoginReport(response, request, url, config, bindings, ctx);
}

export default {
  ...entry,
  async fetch(request: Request, bindings: AppBindings, ctx: ExecutionContext) {
    try {
      return await handleRequest(request, bindings, ctx);
    } catch {
      return new Response("reflinks could not handle this request.", { status: 500 });
    }
  },
};
