/**
 * Reading API input: JSON bodies (400 when not JSON), validated with zod (422 naming the field),
 * and the cursors lists hand out.
 */

import type { Context } from "hono";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import type { HitCursor } from "../../db/queries/hits";
import { ApiError } from "../../errors";
import { fromBase64url, toBase64url } from "../../lib/base64";

// zod/mini comes without messages: the English ones that classic zod sets, and only they (the
// other locales would weigh more than the rest of zod), word the issues no schema words itself,
// such as a body that is not an object ("body Invalid input: expected object, received array").
z.config(en());

export const MAX_BODY_BYTES = 64 * 1024;

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

export function validate<T extends z.ZodMiniType>(schema: T, value: unknown): z.output<T> {
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
  const field = issue?.path.length ? issue.path.join(".") : "body";
  const missing =
    (issue?.code === "invalid_type" || issue?.code === "invalid_union") && issue.input === undefined;
  const message = missing ? "is required" : (issue?.message ?? "is invalid");
  throw new ApiError("validation_failed", `${field} ${message}`);
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
