/**
 * The API's payloads as zod schemas: what the routes validate requests with, and what their
 * answers are typed as. The OpenAPI document (`GET /_reflinks/openapi.json`) is generated from
 * these same schemas by `npm run openapi`, so the document cannot say one thing while the code
 * does another. Answers are strict objects: a field added to an answer without being declared
 * here fails the tests that check answers against the document.
 */
import { z } from "zod";
import { IDENTIFIER } from "../../db/queries/links";
import { isDay } from "../../db/queries/report-sql.js";
import { ERROR_CODES } from "../../errors";
import { userIdSchema } from "../../lib/user-id";

// ——— pieces ———

const timestamp = z.string().meta({ description: "ISO-8601 UTC, e.g. 2026-11-24T09:00:00.000Z" });

export const identifierSchema = z
  .string("must be a string")
  .regex(IDENTIFIER, "must be 1-50 characters of A-Z, a-z, 0-9, _ and -");

/** `limit` as lists take it: 1-200, 50 when absent. */
export const limitSchema = z
  .string()
  .regex(/^\d+$/, "must be a whole number from 1 to 200")
  .transform(Number)
  .pipe(z.number().min(1, "must be at least 1").max(200, "must be at most 200"))
  .optional()
  .transform((limit) => limit ?? 50)
  .meta({ description: "1-200, default 50" });

const cursorSchema = z.string().optional().meta({ description: "next_cursor of the previous page" });

const day = z
  .string()
  .refine(isDay, "must be a date written YYYY-MM-DD")
  .optional()
  .meta({ description: "a UTC day, YYYY-MM-DD, included" });

// ——— requests ———

export const identifierParams = z.object({ identifier: z.string() });

// Strict: a misspelt key ({"identifer": …}) must not quietly create a link with a random name.
export const createLinkBody = z
  .object({
    identifier: identifierSchema.optional(),
    user_id: userIdSchema.nullable().optional(),
  })
  .strict();

export const patchLinkBody = z
  .object({
    disabled: z.boolean("must be true or false").optional(),
    user_id: userIdSchema.nullable().optional(),
  })
  .strict();

export const listLinksQuery = z.object({
  user_id: z.string().min(1, "must not be empty").optional(),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const listHitsQuery = listLinksQuery.omit({ user_id: true });

// Strict, both: a misspelt key must be refused, not ignored. `{"evnt": "purchase"}` would otherwise
// credit the default event, and a credit cannot be taken back.
export const reconcileBody = z
  .object({
    user_id: userIdSchema,
    // Whatever the origin read from the cookie, null or absent when the visitor had none: anything
    // that is not a UUID is harmless and matches nothing (docs/api.md#reconcile).
    anonymous_id: z.unknown().optional().meta({ description: "the visitor cookie's value, or null" }),
  })
  .strict();

export const confirmBody = z
  .object({
    user_id: userIdSchema,
    event: z
      .string("must be a string")
      .min(1, "must not be empty")
      .max(64, "must be at most 64 characters")
      .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
      .default("signup"),
    // When the account was created, as the origin knows it: hits after it are an existing user's.
    signed_up_at: z.iso
      .datetime({ offset: true, message: "must be an ISO-8601 date-time with Z or an offset" })
      .transform((value) => new Date(value))
      .pipe(z.date().refine((date) => !Number.isNaN(date.getTime()), "is not a real date-time"))
      .optional(),
  })
  .strict();

/** `from` and `to`: days `YYYY-MM-DD`, both included, either optional; `to` not before `from`. */
export const periodQuery = z
  .object({ from: day, to: day })
  .refine((period) => !period.from || !period.to || period.from <= period.to, {
    message: "must not be before from",
    path: ["to"],
  });

export const dailyReportQuery = z.object({
  link: identifierSchema.optional(),
  from: day,
  to: day,
});

export const dashboardQuery = z.object({
  link: identifierSchema.optional(),
  from: day,
  to: day,
  page: z
    .string()
    .regex(/^[1-9]\d{0,5}$/, "must be a whole number from 1")
    .transform(Number)
    .optional(),
  hits: z.string().optional().meta({ description: "cursor of the recent hits" }),
});

// ——— answers ———

export const healthSchema = z.strictObject({ ok: z.literal(true) });

export const linkSchema = z
  .strictObject({
    identifier: z.string(),
    user_id: z.string().nullable(),
    disabled: z.boolean(),
    url: z.string().meta({ description: "the absolute referral URL on the request's host" }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Link" });

export const statsSchema = z
  .strictObject({
    hits: z.number().int(),
    visitors: z.number().int(),
    users: z.number().int(),
    confirmed: z.number().int(),
  })
  .meta({ id: "Stats" });

export const linkWithStatsSchema = linkSchema.extend({ stats: statsSchema }).meta({ id: "LinkWithStats" });

export const linkListSchema = z.strictObject({
  links: z.array(linkSchema),
  next_cursor: z.string().nullable(),
});

export const hitSchema = z
  .strictObject({
    id: z.string(),
    link: z.string(),
    anonymous_id: z.string().nullable(),
    authenticated: z.boolean(),
    hit_user_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string(),
    http_referer: z.string(),
    next: z.string(),
    country: z.string().nullable(),
    confirmed_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Hit" });

export const hitListSchema = z.strictObject({
  hits: z.array(hitSchema),
  next_cursor: z.string().nullable(),
});

export const reconciledSchema = z.strictObject({ updated: z.number().int() });

export const referralSchema = z
  .strictObject({
    id: z.number().int(),
    user_id: z.string(),
    event: z.string(),
    link: z.string().nullable().meta({ description: "null once the link is deleted" }),
    referrer_user_id: z.string().nullable(),
    hit_id: z.string().nullable(),
    created_at: timestamp,
  })
  .meta({ id: "Referral" });

export const confirmedSchema = z.strictObject({ created: z.boolean(), referral: referralSchema });

export const linkReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      identifier: z.string(),
      user_id: z.string().nullable(),
      hits: z.number().int(),
      visitors: z.number().int(),
      users: z.number().int(),
      confirmed: z.number().int(),
    }),
  ),
});

export const dailyReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      day: z.string(),
      hits: z.number().int(),
      visitors: z.number().int(),
      confirmed: z.number().int(),
    }),
  ),
});

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(ERROR_CODES),
      message: z.string().meta({ description: "what is wrong; names the field or variable" }),
      request_id: z.string().meta({ description: "cf-ray, or a generated id: find it in the log" }),
    }),
  })
  .meta({ id: "Error" });

export type LinkJson = z.output<typeof linkSchema>;
export type HitJson = z.output<typeof hitSchema>;
