/**
 * A known dataset for the reports, with its numbers worked out by hand, shared by the three ways of
 * reading them: the API and dashboard (Workers tests, and the browser test over `wrangler dev`) and
 * `npm run report` (Node). Plain SQL, so that each can seed it with what it has (D1 batch,
 * `wrangler d1 execute`). Fixed days in 2025, so that the period 2025-05-31..2025-06-11 holds all of
 * it and nothing else; identifiers `rep-*`.
 *
 * What it exercises: hits on the first and last millisecond of a day, one browser hitting a link
 * on several days (distinct over a period is not the sum of daily distincts), a reconciled hit (its
 * user is the visitor), one user on two links the same day, a confirmation on a day without hits,
 * a confirmation whose link was deleted (in no report), a link without hits, and hostile text in
 * every visitor-supplied column.
 *
 * And money (docs/money.md), in two currencies that no number may ever add together: conversions
 * pending, approved (one stored `pending` whose hold has ended: it reads approved), partly
 * reversed, wholly reversed, paid then partly refunded (a clawback not yet settled), on a link with
 * a percent rule and on one with a fixed rule, and one of a deleted link (in no link's revenue,
 * but still in its referrer's earnings: it is money owed); two payouts. The holds that have not
 * ended end in 2999, so that they are pending whenever the tests run.
 */

/** Every row of the dataset lies in these days (UTC), both included. */
export const DATASET_PERIOD = { from: "2025-05-31", to: "2025-06-11" } as const;
/** A narrower period with data on both sides of it. */
export const NARROW_PERIOD = { from: "2025-06-01", to: "2025-06-03" } as const;

export const HOSTILE = {
  owner: `<script>alert("owner")</script>`,
  userAgent: `<img src=x onerror=alert("ua")>`,
  referer: `javascript:alert("referer")//"><svg onload=alert(1)>`,
  next: `/"><script>alert("next")</script>`,
  country: `"><b>XX`,
  /** The referrer of the deleted link's referral: shown in the earnings only. */
  referrer: `zed<b onmouseover=alert("referrer")>`,
} as const;

const ANON = {
  A1: "a1a1a1a1-0000-4000-8000-000000000001",
  A2: "a2a2a2a2-0000-4000-8000-000000000002",
  A3: "a3a3a3a3-0000-4000-8000-000000000003",
  A9: "a9a9a9a9-0000-4000-8000-000000000009",
  B1: "b1b1b1b1-0000-4000-8000-000000000001",
  G1: "c1c1c1c1-0000-4000-8000-000000000001",
} as const;

interface SeedHit {
  id: string;
  link: string;
  anonymousId: string | null;
  userId: string | null;
  authenticated: 0 | 1;
  createdAt: string;
  confirmedAt?: string;
  userAgent?: string;
  referer?: string;
  next?: string;
  country?: string;
  /** Stored as a repeat click (`DEDUPE_SECONDS`): counted in `hits`, not in `unique_hits`. */
  duplicate?: 1;
}

const hit = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

const HITS: SeedHit[] = [
  {
    id: hit(1),
    link: "rep-alpha",
    anonymousId: ANON.A1,
    userId: null,
    authenticated: 0,
    createdAt: "2025-05-31T23:59:59.999Z",
  },
  {
    id: hit(2),
    link: "rep-alpha",
    anonymousId: ANON.A1,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-01T00:00:00.000Z",
    duplicate: 1, // A1 again a millisecond after hit 1
  },
  {
    id: hit(3),
    link: "rep-alpha",
    anonymousId: ANON.A1,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-01T10:00:00.000Z",
  },
  {
    id: hit(4),
    link: "rep-alpha",
    anonymousId: ANON.A2,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-01T11:00:00.000Z",
  },
  {
    id: hit(5),
    link: "rep-alpha",
    anonymousId: null,
    userId: "u1",
    authenticated: 1,
    createdAt: "2025-06-01T12:00:00.000Z",
  },
  {
    id: hit(6),
    link: "rep-alpha",
    anonymousId: ANON.A3,
    userId: "u2",
    authenticated: 0,
    createdAt: "2025-06-02T09:00:00.000Z",
    confirmedAt: "2025-06-03T10:00:00.000Z",
  },
  {
    id: hit(7),
    link: "rep-alpha",
    anonymousId: ANON.A1,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-02T23:59:59.999Z",
  },
  {
    id: hit(8),
    link: "rep-alpha",
    anonymousId: ANON.A9,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-10T08:00:00.000Z",
  },
  {
    id: hit(9),
    link: "rep-beta",
    anonymousId: null,
    userId: "u1",
    authenticated: 1,
    createdAt: "2025-06-01T13:00:00.000Z",
    confirmedAt: "2025-06-02T18:00:00.000Z",
  },
  {
    id: hit(10),
    link: "rep-beta",
    anonymousId: ANON.B1,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-01T14:00:00.000Z",
  },
  {
    id: hit(11),
    link: "rep-beta",
    anonymousId: ANON.B1,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-02T15:00:00.000Z",
  },
  {
    id: hit(12),
    link: "rep-gamma",
    anonymousId: ANON.G1,
    userId: null,
    authenticated: 0,
    createdAt: "2025-06-03T16:00:00.000Z",
    userAgent: HOSTILE.userAgent,
    referer: HOSTILE.referer,
    next: HOSTILE.next,
    country: HOSTILE.country,
  },
];

/** The link whose id no longer exists: its confirmation must appear in no report. */
const DELETED_LINK_ID = 987_654_321;

function sqlText(value: string | null | undefined): string {
  return value == null ? "NULL" : `'${value.replaceAll("'", "''")}'`;
}

const linkId = (identifier: string) =>
  `(SELECT id FROM referral_links WHERE identifier = ${sqlText(identifier)})`;

interface SeedConversion {
  externalId: string;
  /** The referral it pays on: its user and event. */
  referral: { userId: string; event: string };
  /** Its link's identifier, or null for the deleted link. */
  link: string | null;
  referrer: string;
  amount: number;
  currency: "EUR" | "USD";
  commission: number;
  rule: string;
  status: "pending" | "approved" | "reversed" | "paid";
  approveAt: string;
  reversedAmount: number;
  payout: string | null;
  createdAt: string;
}

/** Ends in 2999: a hold that has not ended whenever the tests run. */
const NOT_YET = "2999-01-01T00:00:00.000Z";

/**
 * Made as the API makes them with `HOLD_DAYS=2`: rep-alpha `percent:10`, rep-beta `fixed:450`.
 * A commission is on what is left after the reversals below.
 */
const CONVERSIONS: SeedConversion[] = [
  // rep-alpha, EUR: approved; partly refunded (2,000 of 5,000: 10 % of 3,000) and stored pending
  // though its hold ended (it reads approved); pending.
  {
    externalId: "rep-c1",
    referral: { userId: "u2", event: "signup" },
    link: "rep-alpha",
    referrer: "alice",
    amount: 10_000,
    currency: "EUR",
    commission: 1000,
    rule: "percent:10",
    status: "approved",
    approveAt: "2025-06-06T10:00:00.000Z",
    reversedAmount: 0,
    payout: null,
    createdAt: "2025-06-04T10:00:00.000Z",
  },
  {
    externalId: "rep-c2",
    referral: { userId: "u2", event: "signup" },
    link: "rep-alpha",
    referrer: "alice",
    amount: 5000,
    currency: "EUR",
    commission: 300,
    rule: "percent:10",
    status: "pending",
    approveAt: "2025-06-07T11:00:00.000Z",
    reversedAmount: 2000,
    payout: null,
    createdAt: "2025-06-05T11:00:00.000Z",
  },
  {
    externalId: "rep-c3",
    referral: { userId: "u2", event: "signup" },
    link: "rep-alpha",
    referrer: "alice",
    amount: 3000,
    currency: "EUR",
    commission: 300,
    rule: "percent:10",
    status: "pending",
    approveAt: NOT_YET,
    reversedAmount: 0,
    payout: null,
    createdAt: "2025-06-10T09:00:00.000Z",
  },
  // rep-alpha, USD: wholly refunded; paid (700) then refunded 1,000 of 7,000 (a clawback of 100,
  // not settled yet); approved, made on the last day of the dataset.
  {
    externalId: "rep-c4",
    referral: { userId: "u2", event: "signup" },
    link: "rep-alpha",
    referrer: "alice",
    amount: 2000,
    currency: "USD",
    commission: 0,
    rule: "percent:10",
    status: "reversed",
    approveAt: "2025-06-06T12:00:00.000Z",
    reversedAmount: 2000,
    payout: null,
    createdAt: "2025-06-04T12:00:00.000Z",
  },
  {
    externalId: "rep-c5",
    referral: { userId: "u2", event: "signup" },
    link: "rep-alpha",
    referrer: "alice",
    amount: 7000,
    currency: "USD",
    commission: 600,
    rule: "percent:10",
    status: "paid",
    approveAt: "2025-06-05T12:00:00.000Z",
    reversedAmount: 1000,
    payout: "rep-p1",
    createdAt: "2025-06-03T12:00:00.000Z",
  },
  {
    externalId: "rep-c6",
    referral: { userId: "u2", event: "purchase" },
    link: "rep-alpha",
    referrer: "alice",
    amount: 4500,
    currency: "USD",
    commission: 450,
    rule: "percent:10",
    status: "approved",
    approveAt: "2025-06-13T00:30:00.000Z",
    reversedAmount: 0,
    payout: null,
    createdAt: "2025-06-11T00:30:00.000Z",
  },
  // rep-beta, EUR, fixed:450: paid; pending.
  {
    externalId: "rep-c7",
    referral: { userId: "u1", event: "purchase" },
    link: "rep-beta",
    referrer: "bob",
    amount: 2500,
    currency: "EUR",
    commission: 450,
    rule: "fixed:450",
    status: "paid",
    approveAt: "2025-06-05T08:00:00.000Z",
    reversedAmount: 0,
    payout: "rep-p2",
    createdAt: "2025-06-03T08:00:00.000Z",
  },
  {
    externalId: "rep-c8",
    referral: { userId: "u1", event: "purchase" },
    link: "rep-beta",
    referrer: "bob",
    amount: 1200,
    currency: "EUR",
    commission: 450,
    rule: "fixed:450",
    status: "pending",
    approveAt: NOT_YET,
    reversedAmount: 0,
    payout: null,
    createdAt: "2025-06-09T08:00:00.000Z",
  },
  // The deleted link's: approved, due to its referrer.
  {
    externalId: "rep-c9",
    referral: { userId: "u9", event: "signup" },
    link: null,
    referrer: HOSTILE.referrer,
    amount: 8000,
    currency: "EUR",
    commission: 800,
    rule: "percent:10",
    status: "approved",
    approveAt: "2025-06-06T15:00:00.000Z",
    reversedAmount: 0,
    payout: null,
    createdAt: "2025-06-04T15:00:00.000Z",
  },
];

const REVERSALS = [
  {
    id: "rep-r2",
    conversion: "rep-c2",
    amount: 2000,
    delta: -200,
    clawback: 0,
    at: "2025-06-06T09:00:00.000Z",
  },
  {
    id: "rep-r4",
    conversion: "rep-c4",
    amount: 2000,
    delta: -200,
    clawback: 0,
    at: "2025-06-05T09:00:00.000Z",
  },
  {
    id: "rep-r5",
    conversion: "rep-c5",
    amount: 1000,
    delta: -100,
    clawback: 1,
    at: "2025-06-10T09:00:00.000Z",
  },
];

const PAYOUTS = [
  { key: "rep-p1", referrer: "alice", currency: "USD", amount: 700, at: "2025-06-08T09:00:00.000Z" },
  { key: "rep-p2", referrer: "bob", currency: "EUR", amount: 450, at: "2025-06-08T09:30:00.000Z" },
];

const MONEY_SQL: readonly string[] = [
  "INSERT INTO payouts (idempotency_key, referrer_user_id, currency, amount, created_at) VALUES " +
    PAYOUTS.map(
      (p) =>
        `(${sqlText(p.key)}, ${sqlText(p.referrer)}, ${sqlText(p.currency)}, ${p.amount}, ${sqlText(p.at)})`,
    ).join(", "),
  "INSERT INTO conversions (external_id, referral_id, user_id, referrer_user_id, link_id, amount, currency, " +
    "commission, commission_rule, status, approve_at, reversed_amount, payout_id, created_at, updated_at) VALUES " +
    CONVERSIONS.map((c) =>
      [
        sqlText(c.externalId),
        `(SELECT id FROM confirmed_referrals WHERE user_id = ${sqlText(c.referral.userId)} AND event = ${sqlText(c.referral.event)})`,
        sqlText(c.referral.userId),
        sqlText(c.referrer),
        c.link === null ? String(DELETED_LINK_ID) : linkId(c.link),
        String(c.amount),
        sqlText(c.currency),
        String(c.commission),
        sqlText(c.rule),
        sqlText(c.status),
        sqlText(c.approveAt),
        String(c.reversedAmount),
        c.payout === null ? "NULL" : `(SELECT id FROM payouts WHERE idempotency_key = ${sqlText(c.payout)})`,
        sqlText(c.createdAt),
        sqlText(c.createdAt),
      ].join(", "),
    )
      .map((values) => `(${values})`)
      .join(", "),
  "INSERT INTO reversals (conversion_id, reversal_id, amount, commission_delta, clawback, payout_id, created_at) VALUES " +
    REVERSALS.map(
      (r) =>
        `((SELECT id FROM conversions WHERE external_id = ${sqlText(r.conversion)}), ${sqlText(r.id)}, ` +
        `${r.amount}, ${r.delta}, ${r.clawback}, NULL, ${sqlText(r.at)})`,
    ).join(", "),
];

/** The dataset as SQL statements (no trailing semicolons), to run in this order. */
export const DATASET_SQL: readonly string[] = [
  "INSERT INTO referral_links (identifier, user_id, disabled, created_at, updated_at) VALUES " +
    [
      ["rep-alpha", "alice"],
      ["rep-beta", "bob"],
      ["rep-gamma", HOSTILE.owner],
      ["rep-idle", null],
    ]
      .map(
        ([identifier, owner]) =>
          `(${sqlText(identifier)}, ${sqlText(owner)}, 0, '2025-05-01T00:00:00.000Z', '2025-05-01T00:00:00.000Z')`,
      )
      .join(", "),
  "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, ip, user_agent, " +
    "http_referer, next, country, confirmed_at, duplicate, created_at, updated_at) VALUES " +
    HITS.map((h) =>
      [
        sqlText(h.id),
        linkId(h.link),
        sqlText(h.anonymousId),
        String(h.authenticated),
        sqlText(h.userId),
        "'203.0.113.7'",
        sqlText(h.userAgent ?? "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0"),
        sqlText(h.referer ?? "https://news.example/story"),
        sqlText(h.next ?? "/pricing"),
        sqlText(h.country ?? "FR"),
        sqlText(h.confirmedAt),
        String(h.duplicate ?? 0),
        sqlText(h.createdAt),
        sqlText(h.confirmedAt ?? h.createdAt),
      ].join(", "),
    )
      .map((values) => `(${values})`)
      .join(", "),
  "INSERT INTO confirmed_referrals (user_id, event, hit_id, link_id, referrer_user_id, created_at) VALUES " +
    [
      `('u2', 'signup', ${sqlText(hit(6))}, ${linkId("rep-alpha")}, 'alice', '2025-06-03T10:00:00.000Z')`,
      `('u1', 'purchase', ${sqlText(hit(9))}, ${linkId("rep-beta")}, 'bob', '2025-06-02T18:00:00.000Z')`,
      `('u9', 'signup', NULL, ${DELETED_LINK_ID}, ${sqlText(HOSTILE.referrer)}, '2025-06-02T12:00:00.000Z')`,
      `('u2', 'purchase', ${sqlText(hit(6))}, ${linkId("rep-alpha")}, 'alice', '2025-06-11T00:00:00.000Z')`,
    ].join(", "),
  ...MONEY_SQL,
];

export const DATASET_IDENTIFIERS = ["rep-alpha", "rep-beta", "rep-gamma", "rep-idle"] as const;

/** `link_stats`, and the link report without a period (or over {@link DATASET_PERIOD}). */
export const EXPECTED_LINKS = [
  { identifier: "rep-alpha", user_id: "alice", hits: 8, unique_hits: 7, visitors: 5, users: 2, confirmed: 2 },
  { identifier: "rep-beta", user_id: "bob", hits: 3, unique_hits: 3, visitors: 2, users: 1, confirmed: 1 },
  {
    identifier: "rep-gamma",
    user_id: HOSTILE.owner,
    hits: 1,
    unique_hits: 1,
    visitors: 1,
    users: 0,
    confirmed: 0,
  },
  { identifier: "rep-idle", user_id: null, hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 },
];

/**
 * The link report over {@link NARROW_PERIOD}. `rep-alpha` has 4 visitors over the period although
 * its days have 3 + 2 + 0: browser A1 came on two days and counts once.
 */
export const EXPECTED_LINKS_NARROW = [
  { identifier: "rep-alpha", user_id: "alice", hits: 6, unique_hits: 5, visitors: 4, users: 2, confirmed: 1 },
  { identifier: "rep-beta", user_id: "bob", hits: 3, unique_hits: 3, visitors: 2, users: 1, confirmed: 1 },
  {
    identifier: "rep-gamma",
    user_id: HOSTILE.owner,
    hits: 1,
    unique_hits: 1,
    visitors: 1,
    users: 0,
    confirmed: 0,
  },
  { identifier: "rep-idle", user_id: null, hits: 0, unique_hits: 0, visitors: 0, users: 0, confirmed: 0 },
];

/** Every row of the `daily_hits` view, by day then identifier. */
export const EXPECTED_DAILY_VIEW = [
  { day: "2025-05-31", identifier: "rep-alpha", hits: 1, unique_hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-01", identifier: "rep-alpha", hits: 4, unique_hits: 3, visitors: 3, confirmed: 0 },
  { day: "2025-06-01", identifier: "rep-beta", hits: 2, unique_hits: 2, visitors: 2, confirmed: 0 },
  { day: "2025-06-02", identifier: "rep-alpha", hits: 2, unique_hits: 2, visitors: 2, confirmed: 0 },
  { day: "2025-06-02", identifier: "rep-beta", hits: 1, unique_hits: 1, visitors: 1, confirmed: 1 },
  { day: "2025-06-03", identifier: "rep-alpha", hits: 0, unique_hits: 0, visitors: 0, confirmed: 1 },
  { day: "2025-06-03", identifier: "rep-gamma", hits: 1, unique_hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-10", identifier: "rep-alpha", hits: 1, unique_hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-11", identifier: "rep-alpha", hits: 0, unique_hits: 0, visitors: 0, confirmed: 1 },
];

/**
 * The daily report across every link. `visitors` counts a visitor once a day whichever links they
 * used: on 2025-06-01 user u1 hit both rep-alpha and rep-beta, so 4, not the view's 3 + 2.
 */
export const EXPECTED_DAILY_ALL = [
  { day: "2025-05-31", hits: 1, unique_hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-01", hits: 6, unique_hits: 5, visitors: 4, confirmed: 0 },
  { day: "2025-06-02", hits: 3, unique_hits: 3, visitors: 3, confirmed: 1 },
  { day: "2025-06-03", hits: 1, unique_hits: 1, visitors: 1, confirmed: 1 },
  { day: "2025-06-10", hits: 1, unique_hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-11", hits: 0, unique_hits: 0, visitors: 0, confirmed: 1 },
];

/** Totals across every link: over {@link DATASET_PERIOD} and over {@link NARROW_PERIOD}. */
export const EXPECTED_TOTALS = { hits: 12, unique_hits: 11, visitors: 7, users: 2, confirmed: 3 };
export const EXPECTED_TOTALS_NARROW = { hits: 10, unique_hits: 9, visitors: 6, users: 2, confirmed: 2 };

// ——— money ———

/**
 * `link_revenue`, and the revenue report without a period (or over {@link DATASET_PERIOD}), by
 * identifier then currency. rep-alpha: EUR 10,000 + (5,000 − 2,000) + 3,000; USD 0 (wholly
 * refunded, still counted) + (7,000 − 1,000) + 4,500. The deleted link's 8,000 EUR is in no row.
 */
export const EXPECTED_REVENUE = [
  { identifier: "rep-alpha", currency: "EUR", conversions: 3, revenue: 16_000, commission: 1600 },
  { identifier: "rep-alpha", currency: "USD", conversions: 3, revenue: 10_500, commission: 1050 },
  { identifier: "rep-beta", currency: "EUR", conversions: 2, revenue: 3700, commission: 900 },
];

/** The revenue report over {@link NARROW_PERIOD}: the conversions made on 2025-06-03. */
export const EXPECTED_REVENUE_NARROW = [
  { identifier: "rep-alpha", currency: "USD", conversions: 1, revenue: 6000, commission: 600 },
  { identifier: "rep-beta", currency: "EUR", conversions: 1, revenue: 2500, commission: 450 },
];

/** Revenue per currency across links, over {@link DATASET_PERIOD} and {@link NARROW_PERIOD}. */
export const EXPECTED_REVENUE_TOTALS = [
  { currency: "EUR", conversions: 5, revenue: 19_700, commission: 2500 },
  { currency: "USD", conversions: 3, revenue: 10_500, commission: 1050 },
];
export const EXPECTED_REVENUE_TOTALS_NARROW = [
  { currency: "EUR", conversions: 1, revenue: 2500, commission: 450 },
  { currency: "USD", conversions: 1, revenue: 6000, commission: 600 },
];

/**
 * `GET /payouts/due` (and so `due` below): alice EUR 1,000 + 300 (rep-c2's hold has ended); alice
 * USD 450 less the unsettled clawback of 100; bob nothing (paid, or pending); the deleted link's
 * referrer 800.
 */
export const EXPECTED_DUE = [
  { referrer_user_id: "alice", currency: "EUR", amount: 1300, conversions: 2, clawbacks: 0 },
  { referrer_user_id: "alice", currency: "USD", amount: 350, conversions: 1, clawbacks: 1 },
  { referrer_user_id: HOSTILE.referrer, currency: "EUR", amount: 800, conversions: 1, clawbacks: 0 },
];

/**
 * `referrer_earnings` with `due`, by referrer then currency, as of any moment after 2025-06-13 and
 * before 2999. alice USD `paid` is what the payout paid for rep-c5 (700), before its clawback;
 * `reversed` the commission taken back, paid or not (200 + 100).
 */
export const EXPECTED_EARNINGS = [
  {
    referrer_user_id: "alice",
    currency: "EUR",
    pending: 300,
    approved: 1300,
    paid: 0,
    reversed: 200,
    due: 1300,
  },
  {
    referrer_user_id: "alice",
    currency: "USD",
    pending: 0,
    approved: 450,
    paid: 700,
    reversed: 300,
    due: 350,
  },
  { referrer_user_id: "bob", currency: "EUR", pending: 450, approved: 0, paid: 450, reversed: 0, due: 0 },
  {
    referrer_user_id: HOSTILE.referrer,
    currency: "EUR",
    pending: 0,
    approved: 800,
    paid: 0,
    reversed: 0,
    due: 800,
  },
];

/** The earnings of every referrer, per currency. */
export const EXPECTED_EARNINGS_TOTALS = [
  { currency: "EUR", pending: 750, approved: 2100, paid: 450, reversed: 200, due: 2100 },
  { currency: "USD", pending: 0, approved: 450, paid: 700, reversed: 300, due: 350 },
];

/**
 * Amounts that only a sum across currencies would give, as the reports write them (26,500 minor
 * units is `265.00`): rep-alpha's revenue (26,500) and commission (2,650); every link's revenue
 * (30,200) and commission (3,550); alice's approved (1,750) and due (1,650); everyone's approved
 * (2,550), due (2,450), paid (1,150) and reversed (500). No report may show one.
 */
export const CROSS_CURRENCY_SUMS = [
  "265.00",
  "26.50",
  "302.00",
  "35.50",
  "17.50",
  "16.50",
  "25.50",
  "24.50",
  "11.50",
  "5.00",
] as const;

/** Whether `text` shows `amount` as a whole number (not inside `45.00` or `5.001`). */
export function showsAmount(text: string, amount: string): boolean {
  return new RegExp(`(?<![\\d.,])${amount.replaceAll(".", "\\.")}(?![\\d])`).test(text);
}
