/**
 * The API's payloads as zod schemas: what the routes validate requests with, and what their
 * answers are typed as. The OpenAPI document (`GET /_reflinks/openapi.json`) is generated from
 * these same schemas by `npm run openapi`, so the document cannot say one thing while the code
 * does another. Answers are strict objects: a field added to an answer without being declared
 * here fails the tests that check answers against the document.
 */
import * as z from "zod/mini";
import { IDENTIFIER } from "../../db/queries/links";
import { isDay } from "../../db/queries/report-sql";
import { ERROR_CODES } from "../../errors";
import { COMMISSION_RULE_MESSAGE, isSettableCommissionRule } from "../../lib/commission";
import { MAX_AMOUNT } from "../../lib/money";
import { textIdCheck } from "../../lib/text-id";
import { userIdSchema } from "../../lib/user-id";
import { PAYOUT_FILE_FORMATS, PAYOUT_METHOD_TYPES } from "../../payouts/files";
import { isValidIban, normalizeIban } from "../../payouts/iban";
import { sepaText } from "../../payouts/sepa-text";
import { receiverUrlProblem } from "../../webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES } from "../../webhooks/event-types";

// ——— pieces ———

/**
 * A copy of `schema` described by `data` (a description, or an `id` that names it in the OpenAPI
 * document's components): what classic zod's `.meta()` does, the schema itself left as it was.
 */
function meta<T extends z.ZodMiniType>(schema: T, data: z.core.GlobalMeta): T {
  const copy = schema.clone();
  z.globalRegistry.add(copy as z.core.$ZodType, data);
  return copy;
}

/** An integer: a count, an id, an amount of minor units. */
const int = () => z.number().check(z.int());
/** A distinct count over hits in D1: null where a day it covers is archived (docs/scaling.md). */
const distinctCount = () =>
  meta(z.nullable(int()), { description: "null when a day it covers is archived (ARCHIVE_AFTER_DAYS)" });

const timestamp = meta(z.string(), { description: "ISO-8601 UTC, e.g. 2026-11-24T09:00:00.000Z" });

export const identifierSchema = z
  .string("must be a string")
  .check(z.regex(IDENTIFIER, "must be 1-50 characters of A-Z, a-z, 0-9, _ and -"));

/** `limit` as lists take it: 1-200, 50 when absent. */
export const limitSchema = meta(
  z.pipe(
    z.optional(
      z.pipe(
        z.pipe(
          z.string().check(z.regex(/^\d+$/, "must be a whole number from 1 to 200")),
          z.transform(Number),
        ),
        z.number().check(z.gte(1, "must be at least 1"), z.lte(200, "must be at most 200")),
      ),
    ),
    z.transform((limit: number | undefined) => limit ?? 50),
  ),
  { description: "1-200, default 50" },
);

const cursorSchema = meta(z.optional(z.string()), { description: "next_cursor of the previous page" });

const day = meta(z.optional(z.string().check(z.refine(isDay, "must be a date written YYYY-MM-DD"))), {
  description: "a UTC day, YYYY-MM-DD, included",
});

// ——— requests ———

/**
 * An id in a URL path (a user id, a webhook id) is a text id as in a body: the route table's
 * `params` are validated before every handler (src/routes/api/index.ts).
 */
const pathTextId = z.string().check(textIdCheck());

export const identifierParams = z.object({ identifier: z.string() });

/** What the referred visitor gets, shown by the origin (`20% off`, a code): 1-200 characters. */
const refereeReward = meta(
  z
    .string("must be a string or null")
    .check(
      z.minLength(1, "must not be empty (null clears it)"),
      z.maxLength(200, "must be at most 200 characters"),
      textIdCheck(),
    ),
  { description: "what the referred visitor gets, named to the origin in the Reflinks-Referral header" },
);

/** When a link stops taking hits; any ISO-8601 date-time (a past one too), stored in UTC. */
const expiresAt = meta(
  z.pipe(
    z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time with Z or an offset, or null" }),
    z.transform((value: string) => new Date(value).toISOString()),
  ),
  { description: "from then on the link behaves as disabled" },
);

/** A link's own `COMMISSION_PAYMENTS`: 0 (no limit) or more. */
const commissionPayments = meta(
  z
    .number("must be a whole number or null")
    .check(
      z.int("must be a whole number"),
      z.gte(0, "must be at least 0"),
      z.lte(1_000_000, "must be at most 1000000"),
    ),
  {
    description:
      "only a referral's first N conversions earn commission (0: no limit); null: COMMISSION_PAYMENTS",
  },
);

/** The options `POST` and `PATCH /links` both take, each nullable. */
const linkOptions = {
  referee_reward: z.optional(z.nullable(refereeReward)),
  expires_at: z.optional(z.nullable(expiresAt)),
  commission_payments: z.optional(z.nullable(commissionPayments)),
};

// Strict: a misspelt key ({"identifer": …}) must not quietly create a link with a random name.
export const createLinkBody = z.strictObject({
  identifier: z.optional(identifierSchema),
  user_id: z.optional(z.nullable(userIdSchema)),
  ...linkOptions,
});

/** docs/api.md#coupons: 3-40 of A-Z, 0-9, _ and -, matched without regard to case. */
export const COUPON_CODE = /^[A-Za-z0-9_-]{3,40}$/;

export const couponBody = z.strictObject({
  code: z
    .string("must be a string")
    .check(z.regex(COUPON_CODE, "must be 3-40 characters of A-Z, 0-9, _ and -")),
});

export const couponParams = z.object({ identifier: z.string(), code: z.string() });

/**
 * A coupon code as the origin passes it to `/confirm` and `/conversions`: whatever the buyer
 * typed, up to 200 characters. One that names no coupon is ignored, never an error: a typo at
 * checkout must not cost the payment its record.
 */
const couponInput = meta(
  z.optional(
    z.nullable(
      z
        .string("must be a string or null")
        .check(z.maxLength(200, "must be at most 200 characters"), textIdCheck()),
    ),
  ),
  { description: "a coupon code the user gave; one that names no coupon is ignored" },
);

/** A link's commission override: `percent:N`, `fixed:N`, or null for the `COMMISSION` setting. */
const commissionText = meta(
  z.string("must be a string or null").check(z.refine(isSettableCommissionRule, COMMISSION_RULE_MESSAGE)),
  { description: "percent:N (0-100, up to two decimals) or fixed:N (minor units, at most 100000000000)" },
);

export const patchLinkBody = z.strictObject({
  disabled: z.optional(z.boolean("must be true or false")),
  user_id: z.optional(z.nullable(userIdSchema)),
  commission: z.optional(z.nullable(commissionText)),
  ...linkOptions,
});

export const listLinksQuery = z.object({
  user_id: z.optional(z.string().check(z.minLength(1, "must not be empty"))),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const listHitsQuery = z.omit(listLinksQuery, { user_id: true });

// Strict, both: a misspelt key must be refused, not ignored. `{"evnt": "purchase"}` would otherwise
// credit the default event, and a credit cannot be taken back.
export const reconcileBody = z.strictObject({
  user_id: userIdSchema,
  // Whatever the origin read from the cookie, null or absent when the visitor had none: anything
  // that is not a UUID is harmless and matches nothing (docs/api.md#reconcile).
  anonymous_id: meta(z.optional(z.unknown()), { description: "the visitor cookie's value, or null" }),
});

export const confirmBody = z.strictObject({
  user_id: userIdSchema,
  event: z._default(
    z
      .string("must be a string")
      .check(
        z.minLength(1, "must not be empty"),
        z.maxLength(64, "must be at most 64 characters"),
        textIdCheck(),
      ),
    "signup",
  ),
  // When the account was created, as the origin knows it: hits after it are an existing user's.
  signed_up_at: z.optional(
    z.pipe(
      z.pipe(
        z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time with Z or an offset" }),
        z.transform((value: string) => new Date(value)),
      ),
      z.date().check(z.refine((date) => !Number.isNaN(date.getTime()), "is not a real date-time")),
    ),
  ),
  coupon: couponInput,
});

const toNotBeforeFrom = z.refine<{ from?: string; to?: string }>(
  (period) => !period.from || !period.to || period.from <= period.to,
  { message: "must not be before from", path: ["to"] },
);

/** `from` and `to`: days `YYYY-MM-DD`, both included, either optional; `to` not before `from`. */
export const periodQuery = z.object({ from: day, to: day }).check(toNotBeforeFrom);

export const dailyReportQuery = z
  .object({ link: z.optional(identifierSchema), from: day, to: day })
  .check(toNotBeforeFrom);

/**
 * No parameter: earnings are as of the moment of reading. `from` and `to`, which every other
 * report takes, get a message saying why; any other parameter is not a known field.
 */
export const earningsReportQuery = z.looseObject({}).check(
  z.superRefine((query, context) => {
    for (const name of Object.keys(query)) {
      const message =
        name === "from" || name === "to"
          ? "is not a parameter of this report: earnings are as of now, not over a period"
          : "is not a known field";
      context.addIssue({ code: "custom", path: [name], message, input: query[name] });
    }
  }),
);

export const dashboardQuery = z.object({
  link: z.optional(identifierSchema),
  from: day,
  to: day,
  page: z.optional(
    z.pipe(z.string().check(z.regex(/^[1-9]\d{0,5}$/, "must be a whole number from 1")), z.transform(Number)),
  ),
  hits: meta(z.optional(z.string()), { description: "cursor of the recent hits" }),
});

/**
 * Money: a whole number of the currency's minor unit (cents), never a fraction, and at most
 * {@link MAX_AMOUNT}, so that every sum of amounts stays exact.
 */
const minorUnits = z
  .number("must be a whole number of minor units")
  .check(
    z.int("must be a whole number of minor units"),
    z.gte(1, "must be at least 1"),
    z.lte(MAX_AMOUNT, `must be at most ${MAX_AMOUNT} minor units`),
  );

const currency = meta(
  z
    .string("must be a string")
    .check(z.regex(/^[A-Z]{3}$/, "must be an ISO 4217 code of three capital letters, like EUR")),
  { description: "ISO 4217, e.g. EUR" },
);

const externalId = z
  .string("must be a string")
  .check(
    z.minLength(1, "must not be empty"),
    z.maxLength(255, "must be at most 255 characters"),
    textIdCheck(),
  );

export const conversionBody = z.strictObject({
  user_id: userIdSchema,
  external_id: meta(externalId, { description: "your id for the payment: an invoice or charge id" }),
  amount: minorUnits,
  currency,
  event: confirmBody.shape.event,
  signed_up_at: confirmBody.shape.signed_up_at,
  coupon: confirmBody.shape.coupon,
});

export const externalIdParams = z.object({ external_id: externalId });

export const reverseBody = z.strictObject({
  reversal_id: meta(externalId, { description: "your id for the refund or chargeback" }),
  amount: meta(z.optional(minorUnits), { description: "minor units; absent: all that is left" }),
});

export const REFERRAL_STATUSES = ["ok", "held", "rejected"] as const;

export const CONVERSION_STATUSES = ["pending", "approved", "reversed", "paid", "held", "rejected"] as const;

export const listConversionsQuery = z.object({
  user_id: z.optional(z.string().check(z.minLength(1, "must not be empty"))),
  referrer_user_id: z.optional(z.string().check(z.minLength(1, "must not be empty"))),
  status: z.optional(
    z.enum(CONVERSION_STATUSES, "must be pending, approved, reversed, paid, held or rejected"),
  ),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const payoutBody = z.strictObject({ referrer_user_id: userIdSchema, currency });

export const idempotencyHeaders = z.object({
  "idempotency-key": meta(
    z
      .string()
      .check(
        z.trim(),
        z.minLength(1, "must not be blank"),
        z.maxLength(255, "must be at most 255 characters"),
      ),
    {
      description: "required, not blank: the same key again answers the same payout, and pays nothing twice",
    },
  ),
});

export const dueQuery = z.object({ currency: z.optional(currency) });

/**
 * A cell of a payout file must never read as a spreadsheet formula (OWASP's CSV injection): text
 * that starts with `=`, `+`, `-` or `@` is refused (tab and CR are control characters, refused
 * by the text rule).
 */
const notFormula = z.refine<string>(
  (text) => !/^[=+\-@]/.test(text),
  "must not start with =, +, - or @ (a spreadsheet would read it as a formula)",
);

const email = meta(
  z
    .string("must be a string")
    .check(
      z.maxLength(254, "must be at most 254 characters"),
      z.regex(/^[^\s@",;<>()[\]\\]+@[^\s@",;<>()[\]\\]+\.[^\s@",;<>()[\]\\]+$/, "must be an e-mail address"),
      notFormula,
    ),
  { description: "an e-mail address, not starting with =, +, - or @" },
);

const accountName = meta(
  z
    .string("must be a string")
    .check(
      z.trim(),
      z.minLength(1, "must not be empty"),
      z.maxLength(70, "must be at most 70 characters"),
      textIdCheck(),
      notFormula,
    ),
  { description: "the account holder's name, 1-70 characters, not starting with =, +, - or @" },
);

const iban = meta(
  z.pipe(
    z.pipe(z.string("must be a string"), z.transform(normalizeIban)),
    z.string().check(z.refine(isValidIban, "must be an IBAN (its check digits did not match)")),
  ),
  { description: "an IBAN; spaces and lower case are accepted and stored without" },
);

/** The fields each method type takes: required (true) or optional (false); others are refused. */
const METHOD_FIELDS = {
  paypal: { email: true, account_name: false },
  wise: { email: true, account_name: true },
  iban: { iban: true, account_name: true },
} as const;

export const payoutMethodBody = z
  .strictObject({
    type: z.enum(PAYOUT_METHOD_TYPES, "must be paypal, wise or iban"),
    email: z.optional(email),
    iban: z.optional(iban),
    account_name: z.optional(accountName),
  })
  .check(
    z.superRefine((body, ctx) => {
      const fields: Record<string, boolean> = METHOD_FIELDS[body.type];
      for (const field of ["email", "iban", "account_name"] as const) {
        const given = body[field] !== undefined;
        if (!given && fields[field] === true) {
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: `is required for type ${body.type}`,
            input: undefined,
          });
        } else if (given && fields[field] === undefined) {
          ctx.addIssue({ code: "custom", path: [field], message: `is not used by type ${body.type}` });
        }
      }
      // A bank transfer carries the name in the SEPA character set: it must keep a letter there.
      if (body.type === "iban" && body.account_name !== undefined && sepaText(body.account_name) === "") {
        ctx.addIssue({
          code: "custom",
          path: ["account_name"],
          message: "must have Latin letters or digits a SEPA transfer can carry",
        });
      }
    }),
  );

export const createRunBody = z.strictObject({ currency });

export const runParams = z.object({
  id: z.string().check(z.regex(/^[1-9]\d{0,15}$/, "must be a payout run id")),
});

export const runFileQuery = z.object({
  format: z.enum(PAYOUT_FILE_FORMATS, "must be paypal, wise, sepa or csv"),
});

export const listRunsQuery = z.object({ limit: limitSchema, cursor: cursorSchema });

export const listPayoutsQuery = z.object({
  referrer_user_id: z.optional(z.string().check(z.minLength(1, "must not be empty"))),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const createWebhookBody = z.strictObject({
  url: meta(
    z.string("must be a string").check(
      z.maxLength(2048, "must be at most 2048 characters"),
      z.superRefine((url, ctx) => {
        const problem = receiverUrlProblem(url);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    ),
    {
      description:
        "https to a public host name or address, without a user name or password (or http to localhost or 127.0.0.1, for development); stored as the URL parser writes it",
    },
  ),
  events: z
    .array(
      z.enum(WEBHOOK_EVENT_TYPES, `must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}`),
      "must be an array of event types",
    )
    .check(z.minLength(1, "must name at least one event type")),
});

export const webhookParams = z.object({ id: pathTextId });
export const deliveryParams = z.object({ id: pathTextId, delivery_id: z.string() });

export const listDeliveriesQuery = z.object({ limit: limitSchema, cursor: cursorSchema });

// ——— answers ———

export const healthSchema = z.strictObject({ ok: z.literal(true) });

export const linkSchema = meta(
  z.strictObject({
    identifier: z.string(),
    user_id: z.nullable(z.string()),
    disabled: z.boolean(),
    commission: meta(z.nullable(z.string()), { description: "this link's commission; null: COMMISSION's" }),
    referee_reward: z.nullable(z.string()),
    expires_at: meta(z.nullable(timestamp), { description: "from then on the link behaves as disabled" }),
    commission_payments: meta(z.nullable(int()), { description: "null: COMMISSION_PAYMENTS" }),
    coupons: meta(z.array(z.string()), { description: "the link's coupon codes, upper case, in order" }),
    url: meta(z.string(), { description: "the absolute referral URL on the request's host" }),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  { id: "Link" },
);

export const statsSchema = meta(
  z.strictObject({
    hits: int(),
    unique_hits: meta(int(), { description: "hits that are not duplicates (DEDUPE_SECONDS)" }),
    visitors: distinctCount(),
    users: distinctCount(),
    confirmed: int(),
  }),
  { id: "Stats" },
);

export const linkWithStatsSchema = meta(z.extend(linkSchema, { stats: statsSchema }), {
  id: "LinkWithStats",
});

export const linkListSchema = z.strictObject({
  links: z.array(linkSchema),
  next_cursor: z.nullable(z.string()),
});

export const hitSchema = meta(
  z.strictObject({
    id: z.string(),
    link: z.string(),
    anonymous_id: z.nullable(z.string()),
    authenticated: z.boolean(),
    hit_user_id: z.nullable(z.string()),
    ip: z.nullable(z.string()),
    user_agent: z.nullable(z.string()),
    http_referer: z.nullable(z.string()),
    next: z.string(),
    country: z.nullable(z.string()),
    confirmed_at: z.nullable(timestamp),
    duplicate: z.boolean(),
    consented: z.boolean(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  { id: "Hit" },
);

export const hitListSchema = z.strictObject({
  hits: z.array(hitSchema),
  next_cursor: z.nullable(z.string()),
});

export const reconciledSchema = z.strictObject({ updated: int() });

export const referralSchema = meta(
  z.strictObject({
    id: int(),
    user_id: z.string(),
    event: z.string(),
    link: meta(z.nullable(z.string()), { description: "null once the link is deleted" }),
    referrer_user_id: z.nullable(z.string()),
    hit_id: meta(z.nullable(z.string()), {
      description: "null for a coupon referral, or once the hit is deleted",
    }),
    created_at: timestamp,
    status: meta(z.enum(REFERRAL_STATUSES), {
      description: "ok, or held for review (a fraud rule flagged it), or rejected: credit only ok ones",
    }),
    flags: meta(z.array(z.string()), {
      description: "the fraud rules' flags: self_referral_ip, paid_ads, velocity",
    }),
    reason: meta(z.nullable(z.string()), { description: "why it was rejected" }),
    source: meta(z.enum(["link", "coupon"]), {
      description: "link: a qualifying click; coupon: a coupon code",
    }),
  }),
  { id: "Referral" },
);

export const couponSchema = meta(
  z.strictObject({ code: z.string(), link: z.string(), created_at: timestamp }),
  { id: "Coupon" },
);

export const couponCreatedSchema = z.strictObject({ coupon: couponSchema });

export const confirmedSchema = z.strictObject({ created: z.boolean(), referral: referralSchema });

export const listReferralsQuery = z.object({
  status: z.optional(z.enum(REFERRAL_STATUSES, "must be ok, held or rejected")),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const referralParams = z.object({
  id: z.string().check(z.regex(/^[1-9]\d{0,15}$/, "must be a referral id")),
});

export const rejectBody = z.strictObject({
  reason: z.optional(z.string().check(z.maxLength(1000, "must be at most 1000 characters"))),
});

export const reviewedReferralSchema = meta(
  z.strictObject({
    ...referralSchema.shape,
    evidence: z.strictObject({
      country: z.nullable(z.string()),
      asn: z.nullable(int()),
      paid_click: meta(z.nullable(z.string()), { description: "the ad click id's name, like gclid" }),
      same_network_referrals: meta(z.nullable(int()), {
        description: "referrals to the same link whose hit came from the same network (this one included)",
      }),
    }),
  }),
  { id: "ReviewedReferral" },
);

export const referralListSchema = z.strictObject({
  referrals: z.array(reviewedReferralSchema),
  next_cursor: z.nullable(z.string()),
});

export const banBody = z.strictObject({
  reason: z.optional(z.string().check(z.maxLength(1000, "must be at most 1000 characters"))),
});

export const banSchema = meta(
  z.strictObject({
    user_id: z.string(),
    reason: z.nullable(z.string()),
    banned_at: timestamp,
    links_disabled: int(),
    commissions_rejected: int(),
  }),
  { id: "Ban" },
);

export const linkReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      identifier: z.string(),
      user_id: z.nullable(z.string()),
      hits: int(),
      unique_hits: meta(int(), { description: "hits that are not duplicates (DEDUPE_SECONDS)" }),
      visitors: distinctCount(),
      users: distinctCount(),
      confirmed: int(),
    }),
  ),
});

export const dailyReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      day: z.string(),
      hits: int(),
      unique_hits: meta(int(), { description: "hits that are not duplicates (DEDUPE_SECONDS)" }),
      visitors: distinctCount(),
      confirmed: int(),
    }),
  ),
});

export const revenueReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      identifier: z.string(),
      currency: z.string(),
      conversions: meta(int(), { description: "wholly reversed ones included" }),
      revenue: meta(int(), { description: "minor units: payments less reversals" }),
      commission: meta(int(), { description: "minor units: the referrer's share, as of now" }),
    }),
  ),
});

export const earningsReportSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      referrer_user_id: z.string(),
      currency: z.string(),
      pending: meta(int(), { description: "minor units: commissions still in their hold period" }),
      approved: meta(int(), { description: "minor units: commissions payable now, before clawbacks" }),
      paid: meta(int(), { description: "minor units: commissions paid out, as they were when paid" }),
      reversed: meta(int(), { description: "minor units: commission taken back by reversals" }),
      due: meta(int(), {
        description:
          "minor units: what is due now, 0 if nothing; GET /payouts/due and POST /payouts take it once it reaches PAYOUT_MINIMUM",
      }),
    }),
  ),
});

export const conversionSchema = meta(
  z.strictObject({
    id: int(),
    external_id: z.string(),
    user_id: z.string(),
    referrer_user_id: z.nullable(z.string()),
    link: z.nullable(z.string()),
    referral_id: int(),
    amount: int(),
    currency: z.string(),
    commission: int(),
    status: meta(z.enum(CONVERSION_STATUSES), { description: "as of the moment of reading" }),
    approve_at: timestamp,
    reversed_amount: int(),
    payout_id: z.nullable(int()),
    created_at: timestamp,
  }),
  { id: "Conversion" },
);

export const reversalSchema = meta(
  z.strictObject({
    id: int(),
    reversal_id: z.string(),
    amount: int(),
    commission_delta: meta(int(), { description: "0 or negative: the commission taken back" }),
    payout_id: z.nullable(int()),
    created_at: timestamp,
  }),
  { id: "Reversal" },
);

export const payoutSchema = meta(
  z.strictObject({
    id: int(),
    referrer_user_id: z.string(),
    currency: z.string(),
    amount: int(),
    conversions: int(),
    clawbacks: int(),
    created_at: timestamp,
  }),
  { id: "Payout" },
);

export const conversionCreatedSchema = z.strictObject({ created: z.boolean(), conversion: conversionSchema });
export const reversedSchema = z.strictObject({
  created: z.boolean(),
  conversion: conversionSchema,
  reversal: reversalSchema,
});
export const conversionListSchema = z.strictObject({
  conversions: z.array(conversionSchema),
  next_cursor: z.nullable(z.string()),
});
export const dueSchema = z.strictObject({
  rows: z.array(
    z.strictObject({
      referrer_user_id: z.string(),
      currency: z.string(),
      amount: int(),
      conversions: int(),
      clawbacks: int(),
    }),
  ),
});
export const payoutCreatedSchema = z.strictObject({ payout: payoutSchema });

export const payoutMethodSchema = meta(
  z.strictObject({
    user_id: z.string(),
    type: z.enum(PAYOUT_METHOD_TYPES),
    email: z.nullable(z.string()),
    iban: z.nullable(z.string()),
    account_name: z.nullable(z.string()),
    updated_at: timestamp,
  }),
  { id: "PayoutMethod" },
);

export const runSchema = meta(
  z.strictObject({
    id: int(),
    currency: z.string(),
    amount: meta(int(), { description: "minor units: the sum of its payouts" }),
    payouts: z.array(payoutSchema),
    missing_method: meta(
      z.strictObject({
        paypal: z.array(z.string()),
        wise: z.array(z.string()),
        sepa: z.array(z.string()),
      }),
      {
        description:
          "per file format, the referrers paid in the run whose payout method (as of now) is not of that format: their payouts are not in that file",
      },
    ),
    created_at: timestamp,
  }),
  { id: "PayoutRun" },
);

export const runAnswerSchema = z.strictObject({ run: runSchema });
export const runListSchema = z.strictObject({
  runs: z.array(runSchema),
  next_cursor: z.nullable(z.string()),
});
export const payoutListSchema = z.strictObject({
  payouts: z.array(payoutSchema),
  next_cursor: z.nullable(z.string()),
});

const webhookFields = {
  id: meta(z.string(), { description: "wh_ and random characters" }),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  created_at: timestamp,
};

export const webhookSchema = meta(z.strictObject(webhookFields), { id: "Webhook" });

export const webhookCreatedSchema = meta(
  z.strictObject({
    ...webhookFields,
    secret: meta(z.string(), {
      description: "whsec_ and the base64 of 32 random bytes: shown only in this answer",
    }),
  }),
  { id: "WebhookCreated" },
);

export const webhookListSchema = z.strictObject({ webhooks: z.array(webhookSchema) });

export const deliverySchema = meta(
  z.strictObject({
    id: int(),
    webhook_id: z.string(),
    event_id: meta(z.string(), { description: "the webhook-id header: the same on every attempt" }),
    attempt: meta(int(), { description: "1 for the first attempt of the event" }),
    status_code: meta(z.nullable(int()), { description: "null: no answer (network error or timeout)" }),
    error: meta(z.nullable(z.string()), {
      description:
        "HTTP and the status code for an answer that is not 2xx (its body is never kept), or what went wrong when no answer came; null when the attempt succeeded (2xx)",
    }),
    duration_ms: int(),
    created_at: timestamp,
  }),
  { id: "WebhookDelivery" },
);

export const deliveryListSchema = z.strictObject({
  deliveries: z.array(deliverySchema),
  next_cursor: z.nullable(z.string()),
});

export const userParams = z.object({ user_id: pathTextId });

export const userSchema = z.strictObject({
  user_id: z.string(),
  first_seen_at: meta(z.nullable(timestamp), {
    description: "when the worker first learned the user signed in",
  }),
  referred_by: meta(z.nullable(referralSchema), { description: "the user's first confirmed referral" }),
  links: z.array(linkWithStatsSchema),
  earnings: z.array(
    z.strictObject({
      currency: z.string(),
      pending: int(),
      approved: int(),
      paid: int(),
    }),
  ),
});

export const userExportSchema = z.strictObject({
  user_id: z.string(),
  user: meta(z.nullable(z.strictObject({ first_seen_at: timestamp, last_seen_at: timestamp })), {
    description: "the user's reflinks_users row; null when the worker never learned of their login",
  }),
  links: meta(z.array(linkSchema), { description: "the links the user owns" }),
  hits: meta(z.array(hitSchema), {
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
  payouts: meta(z.array(payoutSchema), { description: "payouts to the user as a referrer" }),
  payout_method: meta(z.nullable(payoutMethodSchema), { description: "how the user is paid; null: not set" }),
});

/** A one-use sign-in link to the user's referral page (docs/referrer-page.md#sign-in-links). */
export const portalLinkSchema = z.object({ url: z.string(), expires_at: z.string() });

export const erasedSchema = z.strictObject({
  hits: meta(int(), {
    description: "how many of the user's own hits were scrubbed now (0 on a repeat)",
  }),
});

export const errorSchema = meta(
  z.strictObject({
    error: z.strictObject({
      code: z.enum(ERROR_CODES),
      message: meta(z.string(), { description: "what is wrong; names the field or variable" }),
      request_id: meta(z.string(), { description: "cf-ray, or a generated id: find it in the log" }),
    }),
  }),
  { id: "Error" },
);

export type LinkJson = z.output<typeof linkSchema>;
export type ConversionJson = z.output<typeof conversionSchema>;
export type ReversalJson = z.output<typeof reversalSchema>;
export type HitJson = z.output<typeof hitSchema>;
