import * as z from "zod/mini";
import { textIdCheck } from "./text-id";

/** The longest user id we keep; origin ids are numbers, UUIDs or short slugs. */
export const MAX_USER_ID_LENGTH = 255;

/**
 * A user id as the origin sends it: a non-empty string (a text id: no lone surrogate, control or
 * bidirectional control character), or a JSON integer stored as its decimal text
 * (docs/data.md#user-ids).
 */
export const userIdSchema = z.pipe(
  z.union(
    [
      z
        .string()
        .check(
          z.trim(),
          z.minLength(1, "must not be empty"),
          z.maxLength(MAX_USER_ID_LENGTH, "must be at most 255 characters"),
          textIdCheck(),
        ),
      z.number().check(z.int("must be an integer or a string"), z.int()),
    ],
    "must be a non-empty string or an integer",
  ),
  z.transform((id: string | number) => String(id)),
);

/** The user id in a `Reflinks-User` header value, or null when it is not a usable one. */
export function userIdFromHeader(value: string): string | null {
  const result = userIdSchema.safeParse(value);
  return result.success ? result.data : null;
}
