import * as z from "zod";

/** The longest user id we keep; origin ids are numbers, UUIDs or short slugs. */
export const MAX_USER_ID_LENGTH = 255;

/**
 * A user id as the origin sends it: a non-empty string, or a JSON integer stored as its decimal
 * text (docs/data.md#user-ids).
 */
export const userIdSchema = z
  .union(
    [
      z.string().trim().min(1, "must not be empty").max(MAX_USER_ID_LENGTH, "must be at most 255 characters"),
      z.number().int("must be an integer or a string").safe(),
    ],
    "must be a non-empty string or an integer",
  )
  .transform(String);

/** The user id in a `Reflinks-User` header value, or null when it is not a usable one. */
export function userIdFromHeader(value: string): string | null {
  const result = userIdSchema.safeParse(value);
  return result.success && !/[\p{Cc}]/u.test(result.data) ? result.data : null;
}
