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
    "http_referer, next, country, confirmed_at, created_at, updated_at) VALUES " +
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
      `('u9', 'signup', NULL, ${DELETED_LINK_ID}, 'zed', '2025-06-02T12:00:00.000Z')`,
      `('u2', 'purchase', ${sqlText(hit(6))}, ${linkId("rep-alpha")}, 'alice', '2025-06-11T00:00:00.000Z')`,
    ].join(", "),
];

export const DATASET_IDENTIFIERS = ["rep-alpha", "rep-beta", "rep-gamma", "rep-idle"] as const;

/** `link_stats`, and the link report without a period (or over {@link DATASET_PERIOD}). */
export const EXPECTED_LINKS = [
  { identifier: "rep-alpha", user_id: "alice", hits: 8, visitors: 5, users: 2, confirmed: 2 },
  { identifier: "rep-beta", user_id: "bob", hits: 3, visitors: 2, users: 1, confirmed: 1 },
  { identifier: "rep-gamma", user_id: HOSTILE.owner, hits: 1, visitors: 1, users: 0, confirmed: 0 },
  { identifier: "rep-idle", user_id: null, hits: 0, visitors: 0, users: 0, confirmed: 0 },
];

/**
 * The link report over {@link NARROW_PERIOD}. `rep-alpha` has 4 visitors over the period although
 * its days have 3 + 2 + 0: browser A1 came on two days and counts once.
 */
export const EXPECTED_LINKS_NARROW = [
  { identifier: "rep-alpha", user_id: "alice", hits: 6, visitors: 4, users: 2, confirmed: 1 },
  { identifier: "rep-beta", user_id: "bob", hits: 3, visitors: 2, users: 1, confirmed: 1 },
  { identifier: "rep-gamma", user_id: HOSTILE.owner, hits: 1, visitors: 1, users: 0, confirmed: 0 },
  { identifier: "rep-idle", user_id: null, hits: 0, visitors: 0, users: 0, confirmed: 0 },
];

/** Every row of the `daily_hits` view, by day then identifier. */
export const EXPECTED_DAILY_VIEW = [
  { day: "2025-05-31", identifier: "rep-alpha", hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-01", identifier: "rep-alpha", hits: 4, visitors: 3, confirmed: 0 },
  { day: "2025-06-01", identifier: "rep-beta", hits: 2, visitors: 2, confirmed: 0 },
  { day: "2025-06-02", identifier: "rep-alpha", hits: 2, visitors: 2, confirmed: 0 },
  { day: "2025-06-02", identifier: "rep-beta", hits: 1, visitors: 1, confirmed: 1 },
  { day: "2025-06-03", identifier: "rep-alpha", hits: 0, visitors: 0, confirmed: 1 },
  { day: "2025-06-03", identifier: "rep-gamma", hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-10", identifier: "rep-alpha", hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-11", identifier: "rep-alpha", hits: 0, visitors: 0, confirmed: 1 },
];

/**
 * The daily report across every link. `visitors` counts a visitor once a day whichever links they
 * used: on 2025-06-01 user u1 hit both rep-alpha and rep-beta, so 4, not the view's 3 + 2.
 */
export const EXPECTED_DAILY_ALL = [
  { day: "2025-05-31", hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-01", hits: 6, visitors: 4, confirmed: 0 },
  { day: "2025-06-02", hits: 3, visitors: 3, confirmed: 1 },
  { day: "2025-06-03", hits: 1, visitors: 1, confirmed: 1 },
  { day: "2025-06-10", hits: 1, visitors: 1, confirmed: 0 },
  { day: "2025-06-11", hits: 0, visitors: 0, confirmed: 1 },
];

/** Totals across every link: over {@link DATASET_PERIOD} and over {@link NARROW_PERIOD}. */
export const EXPECTED_TOTALS = { hits: 12, visitors: 7, users: 2, confirmed: 3 };
export const EXPECTED_TOTALS_NARROW = { hits: 10, visitors: 6, users: 2, confirmed: 2 };
