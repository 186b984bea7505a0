/**
 * The D1 schema: the contract of docs/data.md. Users query these tables and views directly
 * (`wrangler d1 execute DB --command "…"`), so names are snake_case and timestamps are ISO-8601
 * UTC text, readable and sortable as they are.
 */
import { sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  sqliteView,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const timestamps = {
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
};

export const referralLinks = sqliteTable(
  "referral_links",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    identifier: text("identifier").notNull(),
    /** The owner: the origin's user id, as text. */
    userId: text("user_id"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    /** This link's `COMMISSION` (`percent:N` or `fixed:N`); null: the setting's. */
    commission: text("commission"),
    /**
     * What the referred visitor gets (`20% off`, a coupon code), up to 200 characters: named to the
     * origin in the `Reflinks-Referral` header, as it was at the time of the click.
     */
    refereeReward: text("referee_reward"),
    /** ISO-8601 UTC; from then on the link behaves as disabled. Null: never. */
    expiresAt: text("expires_at"),
    /** This link's `COMMISSION_PAYMENTS`: only a referral's first N conversions earn; null: the setting's. */
    commissionPayments: integer("commission_payments"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("referral_links_identifier_unique").on(t.identifier),
    index("referral_links_user_id_idx").on(t.userId, t.id),
    // The API checks this too; the constraint keeps hand-written SQL to the same rule.
    check(
      "referral_links_identifier_format",
      sql`length(${t.identifier}) BETWEEN 1 AND 50 AND ${t.identifier} NOT GLOB '*[^A-Za-z0-9_-]*'`,
    ),
    check("referral_links_disabled_bool", sql`${t.disabled} IN (0, 1)`),
  ],
);

export const referralHits = sqliteTable(
  "referral_hits",
  {
    /** UUID v4 made at the edge, so that a retried insert is recognisably the same hit. */
    id: text("id").primaryKey(),
    linkId: integer("link_id")
      .notNull()
      .references(() => referralLinks.id, { onDelete: "cascade" }),
    anonymousId: text("anonymous_id"),
    authenticated: integer("authenticated", { mode: "boolean" }).notNull().default(false),
    hitUserId: text("hit_user_id"),
    ip: text("ip"),
    /** Null: never known, not consented to, erased (`DELETE /users/:id`) or past `RETENTION_DAYS`. */
    userAgent: text("user_agent"),
    httpReferer: text("http_referer"),
    next: text("next").notNull().default(""),
    country: text("country"),
    /** The network's autonomous system number (`request.cf.asn`): evidence for fraud review. */
    asn: integer("asn"),
    /**
     * The first ad click id (`gclid`, `fbclid`, …) in the referral URL's query or its destination's:
     * the click came from a paid ad (docs/fraud.md).
     */
    paidClick: text("paid_click"),
    /**
     * 16 hex digits of an HMAC of the full client address (docs/fraud.md): compares networks
     * without keeping the address. Null without consent, past `RETENTION_DAYS`, once erased.
     */
    ipHash: text("ip_hash"),
    /** 1: the address was loopback, private or link-local, never evidence for a rule. */
    ipPrivate: integer("ip_private", { mode: "boolean" }).notNull().default(false),
    confirmedAt: text("confirmed_at"),
    /** A repeat click by the same visitor on the same link within `DEDUPE_SECONDS`. */
    duplicate: integer("duplicate", { mode: "boolean" }).notNull().default(false),
    /** 0: the visitor had not consented (`CONSENT`), so nothing identifies them. */
    consented: integer("consented", { mode: "boolean" }).notNull().default(true),
    ...timestamps,
  },
  (t) => [
    check("referral_hits_authenticated_bool", sql`${t.authenticated} IN (0, 1)`),
    check("referral_hits_duplicate_bool", sql`${t.duplicate} IN (0, 1)`),
    check("referral_hits_consented_bool", sql`${t.consented} IN (0, 1)`),
    // The report indexes carry the visitor columns, so that counting hits, unique hits and
    // distinct visitors reads the index alone, never the wide rows (user agent, referer: up to
    // 1 KiB each). By link and time: one link's numbers, its hits page, and `link_stats` per link.
    index("referral_hits_link_created_idx").on(
      t.linkId,
      t.createdAt,
      t.hitUserId,
      t.anonymousId,
      t.duplicate,
    ),
    // By time: reports over a period across every link, and the newest hits.
    index("referral_hits_created_idx").on(t.createdAt, t.linkId, t.hitUserId, t.anonymousId, t.duplicate),
    // Reconcile finds a browser's hits by anonymous id; the dedupe check narrows to one link and
    // the last `DEDUPE_SECONDS`.
    index("referral_hits_anonymous_id_idx").on(t.anonymousId, t.linkId, t.createdAt),
    index("referral_hits_user_created_idx").on(t.hitUserId, t.createdAt),
    // Hits that still hold personal fields, by age: `RETENTION_DAYS` reads the oldest of them
    // without rescanning the hits it already erased.
    index("referral_hits_personal_idx")
      .on(t.createdAt)
      .where(
        sql`ip IS NOT NULL OR user_agent IS NOT NULL OR http_referer IS NOT NULL OR ip_hash IS NOT NULL`,
      ),
  ],
);

export const confirmedReferrals = sqliteTable(
  "confirmed_referrals",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The referred user. */
    userId: text("user_id").notNull(),
    event: text("event").notNull(),
    /**
     * Set null rather than cascaded: a confirmed referral is a record of money owed or paid, and
     * deleting a link must not erase it. `link_id` and `referrer_user_id` keep the history.
     */
    hitId: text("hit_id").references((): AnySQLiteColumn => referralHits.id, {
      onDelete: "set null",
    }),
    linkId: integer("link_id").notNull(),
    referrerUserId: text("referrer_user_id"),
    /** `link` (a qualifying click) or `coupon` (a coupon code given with the confirmation; no hit). */
    source: text("source").notNull().default("link"),
    createdAt: text("created_at").notNull(),
    /** `ok`, `held` (a fraud rule flagged it: docs/fraud.md) or `rejected`. Origins credit only `ok`. */
    status: text("status").notNull().default("ok"),
    /** The fraud rules' flags, a JSON array of names (`self_referral_ip`, `paid_ads`, `velocity`). */
    flags: text("flags").notNull().default("[]"),
    /** Why it was rejected (the operator's words, or the referrer's ban). */
    reason: text("reason"),
    /** When a person released or rejected it (or a ban did); null until then. */
    reviewedAt: text("reviewed_at"),
  },
  (t) => [
    uniqueIndex("confirmed_referrals_user_event_unique").on(t.userId, t.event),
    // The review queue: referrals by status, newest first.
    index("confirmed_referrals_status_idx").on(t.status, t.id),
    index("confirmed_referrals_referrer_idx").on(t.referrerUserId, t.status),
    index("confirmed_referrals_link_created_idx").on(t.linkId, t.createdAt),
    // Which hits a referral names: the archive keeps those in D1, and deleting a hit (its link's,
    // or the archive's) sets this null without reading every referral.
    index("confirmed_referrals_hit_idx").on(t.hitId),
  ],
);

/**
 * Coupon codes (docs/api.md#coupons): a code said in a podcast names a link as a click would.
 * Stored upper case, so that the unique index matches codes without regard to case.
 */
export const coupons = sqliteTable(
  "coupons",
  {
    code: text("code").primaryKey(),
    linkId: integer("link_id")
      .notNull()
      .references(() => referralLinks.id, { onDelete: "cascade" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("coupons_link_idx").on(t.linkId, t.code),
    check(
      "coupons_code_format",
      sql`length(${t.code}) BETWEEN 3 AND 40 AND ${t.code} NOT GLOB '*[^A-Z0-9_-]*'`,
    ),
  ],
);

/**
 * Hits and confirmations per link and UTC day (docs/data.md#daily-totals), kept exact by triggers
 * on `referral_hits` and `confirmed_referrals` (drizzle/0008_daily_totals_backfill.sql): a row is
 * counted by the very statement that inserts it, on every write path (the referral routes, the
 * queue consumer, a retry, the Django import, hand-written SQL), and a retried insert that
 * inserts nothing (`ON CONFLICT DO NOTHING`) counts nothing. The reports read these for whole days,
 * so a report costs O(days × links), not O(hits); deleting archived hits leaves them as they are.
 */
export const linkDailyTotals = sqliteTable(
  "link_daily_totals",
  {
    linkId: integer("link_id")
      .notNull()
      .references(() => referralLinks.id, { onDelete: "cascade" }),
    /** `YYYY-MM-DD`: the UTC day of the hits' and confirmations' `created_at`. */
    day: text("day").notNull(),
    hits: integer("hits").notNull().default(0),
    /** Hits that are not duplicates (`DEDUPE_SECONDS`). */
    uniqueHits: integer("unique_hits").notNull().default(0),
    /** Confirmed referrals made that day (by their own `created_at`, not their hit's). */
    confirmed: integer("confirmed").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.linkId, t.day] }),
    // Reports over a period across every link read by day first.
    index("link_daily_totals_day_idx").on(t.day, t.linkId, t.hits, t.uniqueHits, t.confirmed),
  ],
);

/**
 * The UTC days whose hits were moved to the `ARCHIVE` R2 bucket (docs/scaling.md#the-archive):
 * recorded after the object was written and read back, before the hits were deleted from D1.
 */
export const archivedDays = sqliteTable("archived_days", {
  /** `YYYY-MM-DD`. */
  day: text("day").primaryKey(),
  /** The R2 key: `hits/day=YYYY-MM-DD/part-0.parquet`. */
  object: text("object").notNull(),
  /** Hits in the object. */
  rows: integer("rows").notNull(),
  /** Lower-case hex SHA-256 of the object. */
  sha256: text("sha256").notNull(),
  archivedAt: text("archived_at").notNull(),
  /** When the last of the object's hits was deleted from D1; null while that is under way. */
  deletedAt: text("deleted_at"),
});

/**
 * Users the worker has learned are signed in (a verified `Reflinks-User` header or
 * `POST /reconcile`). `first_seen_at` is set once: hits made after it are an existing user's
 * clicks and never qualify for confirmation, whichever way the login was reported.
 */
export const reflinksUsers = sqliteTable("reflinks_users", {
  userId: text("user_id").primaryKey(),
  firstSeenAt: text("first_seen_at").notNull(),
  lastSeenAt: text("last_seen_at").notNull(),
  /** The `ip_hash` of the client address of the user's latest login reported by header. */
  lastIpHash: text("last_ip_hash"),
});

/**
 * Banned referrers (docs/fraud.md#reviewing): their links disabled, their unpaid commissions and held
 * referrals rejected, later referrals to their links rejected at once. The row is the first ban's
 * answer; a repeat changes nothing.
 */
export const bannedUsers = sqliteTable("banned_users", {
  userId: text("user_id").primaryKey(),
  reason: text("reason"),
  bannedAt: text("banned_at").notNull(),
  /** How many of the user's links the ban disabled. */
  linksDisabled: integer("links_disabled").notNull(),
  /** How many unpaid commissions the ban rejected. */
  commissionsRejected: integer("commissions_rejected").notNull(),
});

/**
 * Payout runs (docs/payouts.md#payout-runs): every referrer due at least `PAYOUT_MINIMUM` in one
 * currency paid at once, one payout each (their `run_id`). The idempotency key makes a retried or
 * doubled `POST /payout-runs` the same run; its amount is the sum of its payouts.
 */
export const payoutRuns = sqliteTable(
  "payout_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    idempotencyKey: text("idempotency_key").notNull(),
    currency: text("currency").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("payout_runs_idempotency_key_unique").on(t.idempotencyKey),
    check("payout_runs_currency_format", sql`${t.currency} GLOB '[A-Z][A-Z][A-Z]'`),
  ],
);

/**
 * How a referrer is paid (docs/payouts.md#payout-methods): personal data, in the export and
 * deleted by `DELETE /users/:user_id`. `email` for paypal and wise, `iban` and `account_name` for
 * iban, `account_name` for wise too; the API checks each (an IBAN by its checksum).
 */
export const payoutMethods = sqliteTable(
  "payout_methods",
  {
    userId: text("user_id").primaryKey(),
    type: text("type").notNull(),
    email: text("email"),
    iban: text("iban"),
    accountName: text("account_name"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [check("payout_methods_type", sql`${t.type} IN ('paypal', 'wise', 'iban')`)],
);

/**
 * Sign-in links for the referrer's page (docs/referrer-page.md#sign-in-links), made by
 * `POST /users/:user_id/portal-link`: one use each, 15 minutes. Only the SHA-256 of the token is
 * stored, so a copy of the table signs no one in; `used_at` is set by the one statement that
 * uses the link, which decides a race between two uses.
 */
export const portalLinks = sqliteTable(
  "portal_links",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id").notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
  },
  (t) => [index("portal_links_expires_idx").on(t.expiresAt)],
);

/**
 * Payouts (docs/money.md#payouts): what a referrer was paid in one currency at once. The
 * idempotency key makes a retried or doubled `POST /payouts` the same payout; a payout of a run
 * has the key `run:<run id>:<referrer>` and the run's id.
 */
export const payouts = sqliteTable(
  "payouts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    idempotencyKey: text("idempotency_key").notNull(),
    referrerUserId: text("referrer_user_id").notNull(),
    currency: text("currency").notNull(),
    /** Minor units: approved commissions less the clawbacks settled with them; above 0. */
    amount: integer("amount").notNull(),
    createdAt: text("created_at").notNull(),
    /** The run that made it; null for a payout of `POST /payouts`. */
    runId: integer("run_id").references(() => payoutRuns.id),
  },
  (t) => [
    uniqueIndex("payouts_idempotency_key_unique").on(t.idempotencyKey),
    index("payouts_referrer_idx").on(t.referrerUserId, t.id),
    index("payouts_run_idx").on(t.runId, t.referrerUserId),
    check("payouts_amount_positive", sql`${t.amount} > 0`),
    check("payouts_currency_format", sql`${t.currency} GLOB '[A-Z][A-Z][A-Z]'`),
  ],
);

/**
 * Conversions (docs/money.md#conversions): one payment by a referred user, and the referrer's
 * commission on it, fixed when it is made (the rule is kept, so that a refund takes back the right
 * share). Money is an integer of the currency's minor unit; no column holds a float.
 */
export const conversions = sqliteTable(
  "conversions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    externalId: text("external_id").notNull(),
    referralId: integer("referral_id")
      .notNull()
      .references(() => confirmedReferrals.id),
    userId: text("user_id").notNull(),
    referrerUserId: text("referrer_user_id"),
    linkId: integer("link_id").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    /** What the referrer earns on what is left of the payment. */
    commission: integer("commission").notNull(),
    /** `percent:N`, `fixed:N` or `none` (no rule, or past `COMMISSION_MONTHS`). */
    commissionRule: text("commission_rule").notNull(),
    /**
     * `pending`, `approved`, `reversed` or `paid`; `pending` past `approve_at` reads as approved;
     * `held` (its referral is held for review: not payable) or `rejected` (commission 0).
     */
    status: text("status").notNull(),
    approveAt: text("approve_at").notNull(),
    reversedAmount: integer("reversed_amount").notNull().default(0),
    payoutId: integer("payout_id").references(() => payouts.id),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("conversions_external_id_unique").on(t.externalId),
    index("conversions_referrer_idx").on(t.referrerUserId, t.currency, t.status),
    index("conversions_user_idx").on(t.userId, t.id),
    index("conversions_link_idx").on(t.linkId, t.currency),
    index("conversions_payout_idx").on(t.payoutId),
    // The scheduled job's approvals, every minute: the pending conversions by the end of their
    // hold, without reading every conversion ever made.
    index("conversions_pending_approve_idx").on(t.approveAt, t.id).where(sql`status = 'pending'`),
    check("conversions_amount_positive", sql`${t.amount} > 0`),
    check("conversions_currency_format", sql`${t.currency} GLOB '[A-Z][A-Z][A-Z]'`),
    check("conversions_commission_range", sql`${t.commission} >= 0`),
    check("conversions_reversed_range", sql`${t.reversedAmount} >= 0 AND ${t.reversedAmount} <= ${t.amount}`),
    check(
      "conversions_status",
      sql`${t.status} IN ('pending', 'approved', 'reversed', 'paid', 'held', 'rejected')`,
    ),
  ],
);

/**
 * Reversals (docs/money.md#reversals): a refund or chargeback of part or all of a conversion.
 * `clawback` marks one of a conversion already paid out: its commission is taken back from the
 * referrer's next payout, which `payout_id` then names.
 */
export const reversals = sqliteTable(
  "reversals",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    conversionId: integer("conversion_id")
      .notNull()
      .references(() => conversions.id),
    reversalId: text("reversal_id").notNull(),
    amount: integer("amount").notNull(),
    /** The commission taken back: 0 or negative. */
    commissionDelta: integer("commission_delta").notNull(),
    clawback: integer("clawback", { mode: "boolean" }).notNull().default(false),
    payoutId: integer("payout_id").references(() => payouts.id),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("reversals_reversal_id_unique").on(t.reversalId),
    index("reversals_conversion_idx").on(t.conversionId),
    index("reversals_payout_idx").on(t.payoutId),
    check("reversals_amount_positive", sql`${t.amount} > 0`),
    check("reversals_commission_delta", sql`${t.commissionDelta} <= 0`),
  ],
);

/**
 * Webhook endpoints. The secret is kept to sign deliveries, so it is stored as
 * it was issued; the API shows it once, when the endpoint is created.
 */
export const webhooks = sqliteTable("webhooks", {
  /** `wh_` and random characters. */
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  /** The event types it receives, as a JSON array of strings. */
  events: text("events").notNull(),
  /** `whsec_` and the base64 of 32 random bytes. */
  secret: text("secret").notNull(),
  createdAt: text("created_at").notNull(),
});

/**
 * The outbox: one row per event and endpoint, written in the same D1 batch as the change that
 * causes it, so that nothing committed is lost. The body is fixed when the event is written and
 * sent as it is on every attempt; `id` is the Standard Webhooks `webhook-id`.
 */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    /** `msg_<endpoint>_<type>_<object id>`: the same event written twice is one row (src/webhooks/outbox.ts). */
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    /** The JSON body: `{type, timestamp, data}`. */
    payload: text("payload").notNull(),
    /** `pending` (an attempt is due at `next_attempt_at`), `delivered` or `failed`. */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: text("next_attempt_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    // The scheduled job's scan: what is due, oldest first.
    index("webhook_events_due_idx").on(t.status, t.nextAttemptAt),
    index("webhook_events_webhook_idx").on(t.webhookId, t.createdAt),
    // The scheduled job's pruning: the events done with (delivered or failed), by age, without
    // reading the pending ones or every event ever written.
    index("webhook_events_done_idx").on(t.createdAt).where(sql`status IN ('delivered', 'failed')`),
    check("webhook_events_status", sql`${t.status} IN ('pending', 'delivered', 'failed')`),
  ],
);

/** Every delivery attempt, successful or not: the log `GET /webhooks/:id/deliveries` answers. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    /** Null when no answer came (a network error or the 10 s timeout). */
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.id),
    index("webhook_deliveries_event_idx").on(t.eventId),
  ],
);

/**
 * A visitor is a signed-in user when the hit has one, else the browser's anonymous id; the prefixes
 * keep a user id from ever colliding with a UUID.
 */
const visitorKey = sql`COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)`;

/** Whether one of link `l`'s days with hits is archived: its distinct counts are then unknown. */
const linkArchived = sql`EXISTS (SELECT 1 FROM link_daily_totals t JOIN archived_days a ON a.day = t.day
    WHERE t.link_id = l.id AND t.hits > 0)`;

/**
 * One row per link. `hits`, `unique_hits` and `confirmed` are sums of the link's
 * `link_daily_totals` rows (O(days)); `visitors` and `users` are distinct counts over its hits
 * still in D1, each a search of `referral_hits_link_created_idx`, and null when one of the link's
 * days is archived (docs/scaling.md): the hits that would tell are no longer here.
 */
export const linkStats = sqliteView("link_stats", {
  identifier: text("identifier").notNull(),
  userId: text("user_id"),
  hits: integer("hits").notNull(),
  uniqueHits: integer("unique_hits").notNull(),
  visitors: integer("visitors"),
  users: integer("users"),
  confirmed: integer("confirmed").notNull(),
}).as(
  sql`SELECT l.identifier AS identifier, l.user_id AS user_id,
  (SELECT COALESCE(SUM(t.hits), 0) FROM link_daily_totals t WHERE t.link_id = l.id) AS hits,
  (SELECT COALESCE(SUM(t.unique_hits), 0) FROM link_daily_totals t WHERE t.link_id = l.id) AS unique_hits,
  CASE WHEN ${linkArchived} THEN NULL
    ELSE (SELECT COUNT(DISTINCT ${visitorKey}) FROM referral_hits h WHERE h.link_id = l.id) END AS visitors,
  CASE WHEN ${linkArchived} THEN NULL
    ELSE (SELECT COUNT(DISTINCT h.hit_user_id) FROM referral_hits h WHERE h.link_id = l.id) END AS users,
  (SELECT COALESCE(SUM(t.confirmed), 0) FROM link_daily_totals t WHERE t.link_id = l.id) AS confirmed
FROM referral_links l`,
);

/**
 * Hits by the day they happened; confirmations by the day they were made: the `link_daily_totals`
 * rows, with the day's distinct visitors over its hits in D1 (null for an archived day).
 */
export const dailyHits = sqliteView("daily_hits", {
  day: text("day").notNull(),
  identifier: text("identifier").notNull(),
  hits: integer("hits").notNull(),
  uniqueHits: integer("unique_hits").notNull(),
  visitors: integer("visitors"),
  confirmed: integer("confirmed").notNull(),
}).as(
  sql`SELECT t.day AS day, l.identifier AS identifier, t.hits AS hits, t.unique_hits AS unique_hits,
  CASE WHEN EXISTS (SELECT 1 FROM archived_days a WHERE a.day = t.day) THEN NULL
    ELSE (SELECT COUNT(DISTINCT ${visitorKey}) FROM referral_hits h WHERE h.link_id = t.link_id
      AND h.created_at >= t.day AND h.created_at < date(t.day, '+1 day')) END AS visitors,
  t.confirmed AS confirmed
FROM link_daily_totals t JOIN referral_links l ON l.id = t.link_id
WHERE t.hits > 0 OR t.confirmed > 0`,
);

/** The moment of reading, as stored timestamps are written: `pending` past it reads as approved. */
const NOW = sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

/** Revenue and commission per link and currency; a wholly reversed conversion counts with 0. */
export const linkRevenue = sqliteView("link_revenue", {
  identifier: text("identifier").notNull(),
  currency: text("currency").notNull(),
  conversions: integer("conversions").notNull(),
  revenue: integer("revenue").notNull(),
  commission: integer("commission").notNull(),
}).as(
  sql`SELECT l.identifier AS identifier, c.currency AS currency, COUNT(*) AS conversions,
  SUM(c.amount - c.reversed_amount) AS revenue, SUM(c.commission) AS commission
FROM conversions c JOIN referral_links l ON l.id = c.link_id
GROUP BY c.link_id, c.currency`,
);

/**
 * Each referrer's commissions by status as of the moment of reading, per currency. `paid` is what
 * payouts paid for conversions (before any clawback); `reversed` what reversals took back.
 * `approved` is the hold rule of ./queries/hold-sql.ts (`readsApproved`), spelled out here because
 * a view's SQL is fixed by the migration that made it (reports.money.test.ts checks `approved`
 * against what is due).
 */
export const referrerEarnings = sqliteView("referrer_earnings", {
  referrerUserId: text("referrer_user_id").notNull(),
  currency: text("currency").notNull(),
  pending: integer("pending").notNull(),
  approved: integer("approved").notNull(),
  paid: integer("paid").notNull(),
  reversed: integer("reversed").notNull(),
}).as(
  sql`SELECT c.referrer_user_id AS referrer_user_id, c.currency AS currency,
  SUM(CASE WHEN c.status = 'pending' AND c.approve_at > ${NOW} THEN c.commission ELSE 0 END) AS pending,
  SUM(CASE WHEN c.status = 'approved' OR (c.status = 'pending' AND c.approve_at <= ${NOW})
    THEN c.commission ELSE 0 END) AS approved,
  SUM(CASE WHEN c.status = 'paid' THEN c.commission + COALESCE((SELECT -SUM(r.commission_delta)
    FROM reversals r WHERE r.conversion_id = c.id AND r.clawback = 1), 0) ELSE 0 END) AS paid,
  COALESCE(SUM((SELECT -SUM(r.commission_delta) FROM reversals r WHERE r.conversion_id = c.id)), 0)
    AS reversed
FROM conversions c WHERE c.referrer_user_id IS NOT NULL
GROUP BY c.referrer_user_id, c.currency`,
);

export type ReferralLink = typeof referralLinks.$inferSelect;
export type Coupon = typeof coupons.$inferSelect;
export type ReferralHit = typeof referralHits.$inferSelect;
export type NewReferralHit = typeof referralHits.$inferInsert;
export type ConfirmedReferral = typeof confirmedReferrals.$inferSelect;
export type ReflinksUser = typeof reflinksUsers.$inferSelect;
export type Conversion = typeof conversions.$inferSelect;
export type Reversal = typeof reversals.$inferSelect;
export type Payout = typeof payouts.$inferSelect;
export type PayoutRun = typeof payoutRuns.$inferSelect;
export type PayoutMethodRow = typeof payoutMethods.$inferSelect;
export type PortalLink = typeof portalLinks.$inferSelect;
export type Webhook = typeof webhooks.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type LinkDailyTotal = typeof linkDailyTotals.$inferSelect;
export type ArchivedDay = typeof archivedDays.$inferSelect;
export type BannedUser = typeof bannedUsers.$inferSelect;
