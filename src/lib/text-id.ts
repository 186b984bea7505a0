import * as z from "zod/mini";

/**
 * An id the origin sends (a user id, an `external_id`, a `reversal_id`, an event; in a body, a URL
 * path or a header): no control character (Unicode's Cc), no bidirectional embedding, override or
 * isolate (U+202A–U+202E, U+2066–U+2069), no lone surrogate. A lone surrogate would be stored as
 * invalid UTF-8 and read back as U+FFFD, so that a retry of the same call no longer matched what it
 * stored; a control character or U+202E makes an id look like another in a log or on a page.
 *
 * With the `u` flag a lone surrogate is a code point of its own, which `\uD800-\uDFFF` matches,
 * while a pair is one code point above U+FFFF, which it does not: the pattern is `isWellFormed()`
 * and the character rules at once, and one that the OpenAPI document can carry.
 *
 * @example TEXT_ID.test("inv-42") // true
 * @example TEXT_ID.test("\u202Eevil") // false
 */
export const TEXT_ID = /^[^\p{Cc}\u202A-\u202E\u2066-\u2069\uD800-\uDFFF]*$/u;

export const TEXT_ID_MESSAGE =
  "must be well-formed Unicode without control or bidirectional control characters";

/** {@link TEXT_ID} as a zod check: every text id field of the API uses this one. */
export const textIdCheck = () => z.regex(TEXT_ID, TEXT_ID_MESSAGE);
