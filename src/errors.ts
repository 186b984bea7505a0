/**
 * The API's one error type and its one renderer: `{"error": {"code", "message"}}` (SPEC route 1).
 */
import type { Context } from "hono";

const STATUS = {
  bad_json: 400,
  unauthorized: 401,
  not_found: 404,
  no_referral: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  validation_failed: 422,
  internal_error: 500,
  misconfigured: 500,
  api_disabled: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof STATUS;

export class ApiError extends Error {
  readonly status: (typeof STATUS)[ErrorCode];

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = STATUS[code];
  }
}

/** Renders an {@link ApiError}; never with internals in the message. Always `no-store`. */
export function errorResponse(c: Context, error: ApiError): Response {
  c.header("Cache-Control", "no-store");
  return c.json({ error: { code: error.code, message: error.message } }, error.status);
}

/** The same shape outside Hono, for errors raised before any app runs (bad configuration). */
export function plainErrorResponse(code: ErrorCode, message: string): Response {
  return Response.json(
    { error: { code, message } },
    { status: STATUS[code], headers: { "Cache-Control": "no-store" } },
  );
}
