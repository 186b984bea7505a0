/**
 * The API's one error type and its one renderer: `{"error": {"code", "message", "request_id"}}`
 * (docs/api.md#errors).
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestIdOf } from "./lib/request-id";

const STATUS = {
  bad_json: 400,
  unauthorized: 401,
  not_found: 404,
  no_referral: 404,
  method_not_allowed: 405,
  conflict: 409,
  nothing_due: 409,
  below_minimum: 409,
  payload_too_large: 413,
  validation_failed: 422,
  unsupported_currency: 422,
  missing_setting: 422,
  amount_too_large: 422,
  internal_error: 500,
  misconfigured: 500,
  api_disabled: 503,
  unavailable: 503,
  not_migrated: 503,
} as const;

export type ErrorCode = keyof typeof STATUS;

/** Every error code, for the API's schema. */
export const ERROR_CODES = Object.keys(STATUS) as [ErrorCode, ...ErrorCode[]];

/** The HTTP status each error code is answered with. */
export function statusOf(code: ErrorCode): (typeof STATUS)[ErrorCode] {
  return STATUS[code];
}

/**
 * An error the API answers with its code: hono's `HTTPException`, so that anything in hono that
 * knows those (middleware, `onError`) treats it as one, with the code the client can act on.
 */
export class ApiError extends HTTPException {
  declare readonly status: (typeof STATUS)[ErrorCode];

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(STATUS[code], { message });
    this.name = "ApiError";
  }
}

/**
 * Renders an {@link ApiError}; never with internals in the message. Always `no-store`. The request
 * id lets an operator find the request in the log from what a caller reports.
 */
export function errorResponse(c: Context, error: ApiError): Response {
  c.header("Cache-Control", "no-store");
  return c.json(errorBody(error.code, error.message, requestIdOf(c.req.raw)), error.status);
}

/** The same shape outside Hono, for errors raised before any app runs (bad configuration). */
export function plainErrorResponse(code: ErrorCode, message: string, requestId: string): Response {
  return Response.json(errorBody(code, message, requestId), {
    status: STATUS[code],
    headers: { "Cache-Control": "no-store" },
  });
}

function errorBody(code: ErrorCode, message: string, requestId: string) {
  return { error: { code, message, request_id: requestId } };
}
