/**
 * The API's payloads as zod schemas: what the routes validate requests with, and what their
 * answers are typed as. The OpenAPI document (`GET /_reflinks/openapi.json`) is generated from
 * these same schemas by `npm run openapi`, so the document cannot say one thing while the code
 * does another. Answers are strict objects: a field added to an answer without being declared
 * here fails the tests that check answers against the document.
 */
import * as z from "zod";
import { IDENTIFIER } from "../../db/queries/links";
import { isDay } from "../../db/queries/report-sql.js";
import { ERROR_CODES } from "../../errors";
import { COMMISSION_RULE_MESSAGE, parseCommissionRule } from "../../lib/commission";
import { userIdSchema } from "../../lib/user-id";
import { receiverUrlProblem } from "../../webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES } from "../../webhooks/event-types";

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

/** A link's commission override: `percent:N`, `fixed:N`, or null for the `COMMISSION` setting. */
const commissionText = z
  .string("must be a string or null")
  .refine((text) => text !== "none" && parseCommissionRule(text) !== null, COMMISSION_RULE_MESSAGE)
  .meta({ description: "percent:N (0-100, up to two decimals) or fixed:N (minor units)" });

export const patchLinkBody = z
  .object({
    disabled: z.boolean("must be true or false").optional(),
    user_id: userIdSchema.nullable().optional(),
    commission: commissionText.nullable().optional(),
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

/** No parameter: earnings are as of the moment of reading. */
export const earningsReportQuery = z.object({}).strict();

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

/** Money: a whole number of the currency's minor unit (cents), never a fraction. */
const minorUnits = z
  .number("must be a whole number of minor units")
  .int("must be a whole number of minor units")
  .min(1, "must be at least 1")
  .max(Number.MAX_SAFE_INTEGER, "is too large");

const currency = z
  .string("must be a string")
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code of three capital letters, like EUR")
  .meta({ description: "ISO 4217, e.g. EUR" });

const externalId = z
  .string("must be a string")
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters")
  .regex(/^[^\p{Cc}]*$/u, "must not contain control characters");

export const conversionBody = z
  .object({
    user_id: userIdSchema,
    external_id: externalId.meta({ description: "your id for the payment: an invoice or charge id" }),
    amount: minorUnits,
    currency,
    event: confirmBody.shape.event,
    signed_up_at: confirmBody.shape.signed_up_at,
  })
  .strict();

export const externalIdParams = z.object({ external_id: z.string() });

export const reverseBody = z
  .object({
    reversal_id: externalId.meta({ description: "your id for the refund or chargeback" }),
    amount: minorUnits.optional().meta({ description: "minor units; absent: all that is left" }),
  })
  .strict();

export const CONVERSION_STATUSES = ["pending", "approved", "reversed", "paid"] as const;

export const listConversionsQuery = z.object({
  user_id: z.string().min(1, "must not be empty").optional(),
  referrer_user_id: z.string().min(1, "must not be empty").optional(),
  status: z.enum(CONVERSION_STATUSES, "must be pending, approved, reversed or paid").optional(),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const payoutBody = z.object({ referrer_user_id: userIdSchema, currency }).strict();

export const idempotencyHeaders = z.object({
  "idempotency-key": z.string().min(1).max(255).meta({
    description: "required, not blank: the same key again answers the same payout, and pays nothing twice",
  }),
});

export const dueQuery = z.object({ currency: currency.optional() });

export const listPayoutsQuery = z.object({
  referrer_user_id: z.string().min(1, "must not be empty").optional(),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const createWebhookBody = z
  .object({
    url: z
      .string("must be a string")
      .max(2048, "must be at most 2048 characters")
      .superRefine((url, ctx) => {
        const problem = receiverUrlProblem(url);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .meta({ description: "https (or http to localhost or 127.0.0.1, for development)" }),
    events: z
      .array(
        z.enum(WEBHOOK_EVENT_TYPES, `must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}`),
        "must be an array of event types",
      )
      .min(1, "must name at least one event type"),
  })
  .strict();

export const webhookParams = z.object({ id: z.string() });
export const deliveryParams = z.object({ id: z.string(), delivery_id: z.string() });

export const listDeliveriesQuery = z.object({ limit: limitSchema, cursor: cursorSchema });

// ——— answers ———

export const healthSchema = z.strictObject({ ok: z.literal(true) });

export const linkSchema = z
  .strictObject({
    identifier: z.string(),
    user_id: z.string().nullable(),
    disabled: z.boolean(),
    commission: z.string().nullable().meta({ description: "this link's commission; null: COMMISSION's" }),
    url: z.string().meta({ description: "the absolute referral URL on the request's host" }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Link" });

export const statsSchema = z
  .strictObject({
    hits: z.number().int(),
    unique_hits: z.number().int().meta({ description: "hits that are not duplicates (DEDUPE_SECONDS)" }),
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
    user_agent: z.string().nullable(),
    http_referer: z.string().nullable(),
    next: z.string(),
    country: z.string().nullable(),
    confirmed_at: timestamp.nullable(),
    duplicate: z.boolean(),
    consented: z.boolean(),
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
      unique_hits: z.number().int().meta({ description: "hits that are not duplicates (DEDUPE_SECONDS)" }),
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
      unique_hits: z.number().int().meta({ description: "hits that are not duplicates (DEDUPE_SECONDS)" }),
      visitors: z.number().int(),
      confirmed: z.number().int(),
    }),
  ),
});

export const revenueReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      identifier: z.string(),
      currency: z.string(),
      conversions: z.number().int().meta({ description: "wholly reversed ones included" }),
      revenue: z.number().int().meta({ description: "minor units: payments less reversals" }),
      commission: z.number().int().meta({ description: "minor units: the referrer's share, as of now" }),
    }),
  ),
});

export const earningsReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      referrer_user_id: z.string(),
      currency: z.string(),
      pending: z.number().int().meta({ description: "minor units: commissions still in their hold period" }),
      approved: z
        .number()
        .int()
        .meta({ description: "minor units: commissions payable now, before clawbacks" }),
      paid: z
        .number()
        .int()
        .meta({ description: "minor units: commissions paid out, as they were when paid" }),
      reversed: z.number().int().meta({ description: "minor units: commission taken back by reversals" }),
      due: z.number().int().meta({
        description: "minor units: what POST /payouts would pay now (GET /payouts/due), 0 if nothing",
      }),
    }),
  ),
});

export const conversionSchema = z
  .strictObject({
    id: z.number().int(),
    external_id: z.string(),
    user_id: z.string(),
    referrer_user_id: z.string().nullable(),
    link: z.string().nullable(),
    referral_id: z.number().int(),
    amount: z.number().int(),
    currency: z.string(),
    commission: z.number().int(),
    status: z.enum(CONVERSION_STATUSES).meta({ description: "as of the moment of reading" }),
    approve_at: timestamp,
    reversed_amount: z.number().int(),
    payout_id: z.number().int().nullable(),
    created_at: timestamp,
  })
  .meta({ id: "Conversion" });

export const reversalSchema = z
  .strictObject({
    id: z.number().int(),
    reversal_id: z.string(),
    amount: z.number().int(),
    commission_delta: z.number().int().meta({ description: "0 or negative: the commission taken back" }),
    payout_id: z.number().int().nullable(),
    created_at: timestamp,
  })
  .meta({ id: "Reversal" });

export const payoutSchema = z
  .strictObject({
    id: z.number().int(),
    referrer_user_id: z.string(),
    currency: z.string(),
    amount: z.number().int(),
    conversions: z.number().int(),
    clawbacks: z.number().int(),
    created_at: timestamp,
  })
  .meta({ id: "Payout" });

export const conversionCreatedSchema = z.strictObject({ created: z.boolean(), conversion: conversionSchema });
export const reversedSchema = z.strictObject({
  created: z.boolean(),
  conversion: conversionSchema,
  reversal: reversalSchema,
});
export const conversionListSchema = z.strictObject({
  conversions: z.array(conversionSchema),
  next_cursor: z.string().nullable(),
});
export const dueSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      referrer_user_id: z.string(),
      currency: z.string(),
      amount: z.number().int(),
      conversions: z.number().int(),
      clawbacks: z.number().int(),
    }),
  ),
});
export const payoutCreatedSchema = z.strictObject({ payout: payoutSchema });
export const payoutListSchema = z.strictObject({
  payouts: z.array(payoutSchema),
  next_cursor: z.string().nullable(),
});

const webhookFields = {
  id: z.string().meta({ description: "wh_ and random characters" }),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  created_at: timestamp,
};

export const webhookSchema = z.strictObject(webhookFields).meta({ id: "Webhook" });

export const webhookCreatedSchema = z
  .strictObject({
    ...webhookFields,
    secret: z.string().meta({
      description: "whsec_ and the base64 of 32 random bytes: shown only in this answer",
    }),
  })
  .meta({ id: "WebhookCreated" });

export const webhookListSchema = z.strictObject({ webhooks: z.array(webhookSchema) });

export const deliverySchema = z
  .strictObject({
    id: z.number().int(),
    webhook_id: z.string(),
    event_id: z.string().meta({ description: "the webhook-id header: the same on every attempt" }),
    attempt: z.number().int().meta({ description: "1 for the first attempt of the event" }),
    status_code: z
      .number()
      .int()
      .nullable()
      .meta({ description: "null: no answer (network error or timeout)" }),
    error: z.string().nullable().meta({ description: "null when the attempt succeeded (2xx)" }),
    duration_ms: z.number().int(),
    created_at: timestamp,
  })
  .meta({ id: "WebhookDelivery" });

export const deliveryListSchema = z.strictObject({
  deliveries: z.array(deliverySchema),
  next_cursor: z.string().nullable(),
});

export const userParams = z.object({ user_id: z.string() });

export const userSchema = z.strictObject({
  user_id: z.string(),
  first_seen_at: timestamp
    .nullable()
    .meta({ description: "when the worker first learned the user signed in" }),
  referred_by: referralSchema.nullable().meta({ description: "the user's first confirmed referral" }),
  links: z.array(linkWithStatsSchema),
  earnings: z.array(
    z.strictObject({
      currency: z.string(),
      pending: z.number().int(),
      approved: z.number().int(),
      paid: z.number().int(),
    }),
  ),
});

export const userExportSchema = z.strictObject({
  user_id: z.string(),
  user: z.strictObject({ first_seen_at: timestamp, last_seen_at: timestamp }).nullable().meta({
    description: "the user's reflinks_users row; null when the worker never learned of their login",
  }),
  links: z.array(linkSchema).meta({ description: "the links the user owns" }),
  hits: z.array(hitSchema).meta({
    description:
      "the user's own hits, newest first: those naming them, and those without a user made from a browser whose anonymous id their hits carry",
  }),
  referrals: z.strictObject({
    as_referred: z.array(referralSchema),
    as_referrer: z.array(referralSchema),
  }),
  conversions: z.strictObject({
    as_referred: z.array(conversionSchema),
    as_referrer: z.array(conversionSchema),
  }),
  payouts: z.array(payoutSchema).meta({ description: "payouts to the user as a referrer" }),
});

export const erasedSchema = z.strictObject({
  hits: z
    .number()
    .int()
    .meta({ description: "how many of the user's own hits were scrubbed now (0 on a repeat)" }),
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
export type ConversionJson = z.output<typeof conversionSchema>;
export type ReversalJson = z.output<typeof reversalSchema>;
export type HitJson = z.output<typeof hitSchema>;
