/**
 * Reading API input: a route's params, query, headers and JSON body (400 when not JSON), validated
 * with its zod schemas (422 naming the field) before its handler runs, and the cursors lists hand
 * out.
 */

import type { Context } from "hono";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import type { HitCursor } from "../../db/queries/hits";
import { ApiError } from "../../errors";
import { fromBase64url, toBase64url } from "../../lib/base64";
import type { ApiRoute } from "./contract";

// zod/mini comes without messages: the English ones that classic zod sets, and only they (the
// other locales would weigh more than the rest of zod), word the issues no schema words itself,
// such as a body that is not an object ("body Invalid input: expected object, received array").
z.config(en());

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A request's input as `route`'s schemas make it, in this order: path parameters, query, headers,
 * body. The first part that fails answers 422 (400 for a body that is not JSON), naming the field,
 * before anything is read from the database. A part the route has no schema for is `undefined`.
 */
export async function readInput(c: Context, route: ApiRoute) {
  return {
    params: route.params ? validate(route.params, c.req.param()) : undefined,
    query: route.query ? validate(route.query, queryOf(c)) : undefined,
    headers: route.headers ? validate(route.headers, c.req.header(), "header") : undefined,
    body: route.body ? await jsonBody(c, route.body) : undefined,
  };
}

/** Parses and validates the JSON body; an empty body counts as `{}` so optional-only bodies work. */
export async function jsonBody<T extends z.ZodMiniType>(c: Context, schema: T): Promise<z.output<T>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError("bad_json", "The request body is not valid JSON.");
    }
  }
  return validate(schema, value);
}

/**
 * The query parameters that carry a value: `?cursor=&limit=` means "not given", as a client that
 * fills in a URL template sends it.
 */
export function queryOf(c: Context): Record<string, string> {
  return Object.fromEntries(Object.entries(c.req.query()).filter(([, value]) => value !== ""));
}

/**
 * `value` as `schema` makes it, or the 422 naming the first wrong field. Headers (`kind`
 * "header") are named as written in docs, `Idempotency-Key header`, not by their lower-case key.
 */
export function validate<T extends z.ZodMiniType>(
  schema: T,
  value: unknown,
  kind: "field" | "header" = "field",
): z.output<T> {
  // reportInput: without it zod leaves `issue.input` unset, and a wrong type would read as missing.
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new ApiError(
      "validation_failed",
      `${[...issue.path, issue.keys[0]].join(".")} is not a known field`,
    );
  }
  const path = issue?.path.length ? issue.path.join(".") : "body";
  const field = kind === "header" ? `${headerName(path)} header` : path;
  const missing =
    (issue?.code === "invalid_type" || issue?.code === "invalid_union") && issue.input === undefined;
  const message = missing ? "is required" : (issue?.message ?? "is invalid");
  throw new ApiError("validation_failed", `${field} ${message}`);
}

/** `idempotency-key` as `Idempotency-Key`. */
function headerName(key: string): string {
  return key.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Cursors are opaque to clients: base64url of a JSON value the list chose. */
export function encodeCursor(value: unknown): string {
  return toBase64url(new TextEncoder().encode(JSON.stringify(value)));
}

export function decodeCursor<T extends z.ZodMiniType>(cursor: string, schema: T): z.output<T> {
  try {
    const bytes = fromBase64url(cursor);
    if (bytes === null) throw new Error("not base64url");
    const result = schema.safeParse(
      JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)),
    );
    if (result.success) return result.data;
  } catch {
    // falls through to the error below
  }
  throw new ApiError("validation_failed", "cursor is not a cursor this list gave out");
}

const hitCursorSchema = z.tuple([z.string(), z.string()]);

/** The cursor of a newest-first list of hits: the last hit shown. */
export function encodeHitCursor(hit: HitCursor): string {
  return encodeCursor([hit.createdAt, hit.id]);
}

export function decodeHitCursor(cursor: string): HitCursor {
  const [createdAt, id] = decodeCursor(cursor, hitCursorSchema);
  return { createdAt, id };
}
