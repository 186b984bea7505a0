/**
 * Configuration (docs/configuration.md): every variable read once per isolate, validated, typed.
 * A bad value is never silently replaced: it becomes a {@link ConfigError} naming the variable,
 * which the worker answers with a 500 at every request until the deployment is fixed.
 */
import * as z from "zod/mini";
import { type CommissionRule, commissionRuleSchema } from "./lib/commission";
import { log } from "./lib/log";
import { MAX_AMOUNT } from "./lib/money";
import { isValidIban, normalizeIban } from "./payouts/iban";
import { sepaText } from "./payouts/sepa-text";
import { API_PREFIX } from "./routes/api/prefix";

export interface Config {
  /** Base URL of the origin; null: pass the request on with `fetch(request)` (route mode). */
  originUrl: URL | null;
  /**
   * The origin's scheme, host and path prefix without a trailing slash, ready to put a request's
   * path after (`https://origin.example.com/app`); null in route mode. Precomputed: every page view
   * uses it.
   */
  originBase: string | null;
  /** How long the origin may take to send its response headers before we answer 504. */
  originTimeoutMs: number;
  /** How long one webhook delivery attempt may take, all of it (`WEBHOOK_TIMEOUT_MS`). */
  webhookTimeoutMs: number;
  /** How long a link lookup (found or not) is remembered in the isolate; 0: never. */
  linkCacheMs: number;
  refPath: string;
  /** `REF_PARAM`'s names, in order: any of them makes a GET a referral; all are kept off the destination. */
  refParams: readonly string[];
  /**
   * `name=` for each of {@link refParams}: what the dispatcher looks for in a query string (built
   * once, not per request; see {@link mayCarryRefParam}).
   */
  refParamMarkers: readonly string[];
  cookieName: string;
  cookieMaxAge: number;
  cookieDomain: string | null;
  successUrl: string;
  attribution: "first" | "last";
  attributionWindowDays: number;
  storeIp: "full" | "truncated" | "none";
  /** Lower-cased `host[:port]` values that `next` may name absolutely. */
  allowedRedirectHosts: ReadonlySet<string>;
  apiToken: string | null;
  signingSecret: string | null;
  /** What a referrer earns per conversion, unless the link says otherwise; null: nothing. */
  commission: CommissionRule | null;
  /** Conversions this many calendar months after the referral earn 0; 0: no limit. */
  commissionMonths: number;
  /** Only a referral's first N conversions earn commission, unless the link says otherwise; 0: no limit. */
  commissionPayments: number;
  /** How long a commission is `pending` (the refund period) before it is `approved`. */
  holdDays: number;
  /** A visitor's repeat hit on a link within this many seconds of their counted one is a duplicate; 0: off. */
  dedupeSeconds: number;
  /** Whose requests count as consenting to be identified (docs/privacy.md#consent). */
  consent: ConsentRule;
  /** Which fraud rules hold a referral for review (docs/fraud.md). */
  fraudRules: FraudRules;
  /** Hits older than this many days lose `ip`, `user_agent` and `http_referer`; 0: kept. */
  retentionDays: number;
  /** Whole UTC days before today minus this move to the `ARCHIVE` R2 bucket; 0: kept in D1. */
  archiveAfterDays: number;
  /** Where the dashboard answers (SECURITY.md, "A script on the site driving the dashboard"). */
  dashboardHost: DashboardHost;
  /** `PAYOUT_MINIMUM`: the smallest payout per currency, in minor units; a currency not named: 1. */
  payoutMinimum: ReadonlyMap<string, number>;
  /** The account a SEPA payout file pays from; each null when unset (docs/payouts.md#sepa). */
  sepaDebtor: { name: string | null; iban: string | null; bic: string | null };
  /** The referrer's page (docs/referrer-page.md), without a trailing slash; null: off. */
  portalPath: string | null;
  /** Where the referrer's page sends a visitor who is not signed in (with `?next=`). */
  portalLoginUrl: string;
  /** How many links a user may create on their page; 0: none. */
  portalLinks: number;
}

/**
 * `DASHBOARD_HOST`, lower-cased: a host of its own that serves the dashboard and the API and nothing
 * else; `port` null when the setting names none (then any port matches). Unset: the host name
 * `localhost` (any port), which serves the site as well, for local development only.
 */
export type DashboardHost = { own: true; hostname: string; port: string | null } | { own: false };

/**
 * `CONSENT`: `none` (everyone has consented, as before), `gpc` (a request with `Sec-GPC: 1` has
 * not) or `cookie` (only a request carrying the cookie `name`, with `value` when one is given, has).
 */
export type ConsentRule =
  | { kind: "none" }
  | { kind: "gpc" }
  | { kind: "cookie"; name: string; value: string | null };

/**
 * `FRAUD_RULES`: `self_ip` (the referred user shares the referrer's network), `paid_ads` (the hit
 * came from a paid ad click) and `velocity` (more than this many referrals to a link from one
 * network in 24 hours; null: off).
 */
export interface FraudRules {
  selfIp: boolean;
  paidAds: boolean;
  velocity: number | null;
}

export const NO_FRAUD_RULES: FraudRules = { selfIp: false, paidAds: false, velocity: null };

/** `FRAUD_RULES` as text; null when it is not a valid list. */
export function parseFraudRules(value: string): FraudRules | null {
  if (value.trim() === "none") return NO_FRAUD_RULES;
  const rules = { ...NO_FRAUD_RULES };
  const seen = new Set<string>();
  for (const entry of value.split(",").map((part) => part.trim())) {
    const velocity = /^velocity:(\d{1,6})$/.exec(entry);
    const name = velocity ? "velocity" : entry;
    if (seen.has(name)) return null;
    seen.add(name);
    if (entry === "self_ip") rules.selfIp = true;
    else if (entry === "paid_ads") rules.paidAds = true;
    else if (velocity?.[1] && Number(velocity[1]) >= 1) rules.velocity = Number(velocity[1]);
    else return null;
  }
  return rules;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`reflinks is misconfigured: ${variable} ${detail}`);
    this.name = "ConfigError";
  }
}

/** The subset of the worker's environment that configures it (all strings, as wrangler passes vars). */
export type ConfigSource = Partial<Record<ConfigVariable, unknown>>;

/** Every setting's name: the keys of the schema below, written nowhere else in the code. */
export type ConfigVariable = keyof typeof schema.shape;

/** Unset, or set to the empty string: both mean "not configured" for the optional variables. */
const optional = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.transform((value: unknown) => (value === "" ? undefined : value)),
    z.optional(schema),
  );

const wholeNumber = (min: number, max: number) =>
  z.pipe(
    z.pipe(z.string().check(z.regex(/^\d+$/, "must be a whole number")), z.transform(Number)),
    z.number().check(z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`)),
  );

const hostPattern = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/;

const httpUrl = z.string().check(
  z.refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, "must be an absolute http(s) URL without query or fragment"),
);

/** A path starting with one "/" (not "//" or "/\\"), or an absolute http(s) URL. */
const pathOrUrl = z
  .string()
  .check(
    z.refine(
      (value) => (value.startsWith("/") && !/^\/[/\\]/.test(value)) || httpUrl.safeParse(value).success,
      'must be a path starting with "/" or an absolute http(s) URL',
    ),
  );

/**
 * The API's first path segments under `/_reflinks/`: `PORTAL_PATH` may lie under `/_reflinks/`
 * (its default does), but never on an API route, which it would hide. A test checks this list
 * against the API's route table (src/routes/api/contract.ts), which is not loaded here: it is the
 * API's, and the front must not pay for it.
 */
export const API_SEGMENTS = [
  "health",
  "openapi.json",
  "links",
  "reconcile",
  "confirm",
  "reports",
  "conversions",
  "payouts",
  "payout-runs",
  "referrals",
  "webhooks",
  "users",
  "dashboard",
] as const;

const portalPathSchema = z.pipe(
  z.string(),
  z.transform((value: string, ctx): string | null => {
    if (value === "off") return null;
    const path = value.length > 1 && value.endsWith("/") ? value.slice(0, -1) : value;
    const problem = !/^(\/[A-Za-z0-9._~-]+)+$/.test(path)
      ? 'must be "off" or a path of URL-safe segments, like /_reflinks/me'
      : /\/\.{1,2}(\/|$)/.test(path)
        ? 'must not contain "." or ".." segments'
        : path === API_PREFIX
          ? `must not be "${API_PREFIX}" itself`
          : (API_SEGMENTS as readonly string[]).includes(path.split("/")[2] ?? "") &&
              path.startsWith(`${API_PREFIX}/`)
            ? "must not be on a route of the API"
            : null;
    if (problem === null) return path;
    ctx.issues.push({ code: "custom", message: problem, input: value });
    return z.NEVER;
  }),
);

const schema = z.object({
  ORIGIN_URL: optional(httpUrl),
  ORIGIN_TIMEOUT_SECONDS: z._default(wholeNumber(1, 600), 30),
  // The product's 10 s (src/webhooks/attempt.ts says why); a minute at most, so that a scheduled
  // run's rounds of attempts stay within a Cron Trigger's wall time.
  WEBHOOK_TIMEOUT_MS: z._default(wholeNumber(100, 60_000), 10_000),
  LINK_CACHE_SECONDS: z._default(wholeNumber(0, 3600), 30),
  REF_PATH: z._default(
    z.pipe(
      z.pipe(
        z.string(),
        // "/ref" means "/ref/": the slash that ends the prefix is easy to forget and unambiguous to add.
        z.transform((path: string) => (/^\/[^/]/.test(path) && !path.endsWith("/") ? `${path}/` : path)),
      ),
      z.string().check(
        z.regex(
          /^\/([A-Za-z0-9._~-]+\/)+$/,
          'must start and end with "/" and contain only URL-safe segments, like "/ref/"',
        ),
        z.refine((path) => !path.startsWith(`${API_PREFIX}/`), `must not be under "${API_PREFIX}/"`),
        // URLs arrive with dot segments resolved: a prefix holding one could never match.
        z.refine((path) => !/\/\.{1,2}\//.test(path), 'must not contain "." or ".." segments'),
      ),
    ),
    "/ref/",
  ),
  REF_PARAM: z._default(
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((list: string) => list.split(",").map((name) => name.trim())),
      ),
      z.array(z.string()).check(
        z.refine(
          (names) => names.every((name) => /^[A-Za-z0-9._~-]{1,50}$/.test(name)),
          "must be one or more comma-separated names of 1-50 URL-safe characters, like ref or ref,via",
        ),
        z.refine(
          (names) => !names.includes("next"),
          'must not name "next" (the referral link\'s destination)',
        ),
      ),
    ),
    ["ref"],
  ),
  COOKIE_NAME: z._default(
    z.string().check(
      z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, "must be a cookie name (1-64 token characters)"),
      z.refine((name) => name !== "reflinks_uid", "must not be reflinks_uid (the identity cookie)"),
    ),
    "reflinks_rk",
  ),
  COOKIE_MAX_AGE: z._default(wholeNumber(0, 400 * 24 * 3600), 31536000),
  COOKIE_DOMAIN: optional(
    z.string().check(z.regex(/^\.?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, "must be a domain like .example.com")),
  ),
  SUCCESS_URL: z._default(pathOrUrl, "/"),
  ATTRIBUTION: z._default(z.enum(["first", "last"], "must be first or last"), "last"),
  ATTRIBUTION_WINDOW_DAYS: z._default(wholeNumber(1, 3650), 90),
  STORE_IP: z._default(z.enum(["full", "truncated", "none"], "must be full, truncated or none"), "full"),
  ALLOWED_REDIRECT_HOSTS: z
    .pipe(
      z._default(z.string(), ""),
      z.transform((list: string) =>
        list
          .split(",")
          .map((host) => host.trim().toLowerCase())
          .filter(Boolean),
      ),
    )
    .check(
      z.refine(
        (hosts) => hosts.every((host) => hostPattern.test(host)),
        "must be a comma-separated list of host names, like app.example.com,www.example.com",
      ),
    ),
  API_TOKEN: optional(z.string()),
  SIGNING_SECRET: optional(z.string().check(z.minLength(32, "must be at least 32 characters"))),
  COMMISSION: optional(commissionRuleSchema),
  COMMISSION_MONTHS: z._default(wholeNumber(0, 1200), 12),
  COMMISSION_PAYMENTS: z._default(wholeNumber(0, 1_000_000), 0),
  HOLD_DAYS: z._default(wholeNumber(0, 3650), 30),
  DEDUPE_SECONDS: z._default(wholeNumber(0, 31536000), 3600),
  CONSENT: z._default(
    z.pipe(
      z.string(),
      z.transform((value: string, ctx): ConsentRule => {
        if (value === "none" || value === "gpc") return { kind: value };
        const cookie =
          /^cookie:([A-Za-z0-9!#$%&'*+.^_`|~-]{1,64})(?:=([\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{1,256}))?$/.exec(
            value,
          );
        if (cookie?.[1]) return { kind: "cookie", name: cookie[1], value: cookie[2] ?? null };
        ctx.issues.push({
          code: "custom",
          message: "must be none, gpc, cookie:NAME or cookie:NAME=VALUE (a cookie name, then a cookie value)",
          input: value,
        });
        return z.NEVER;
      }),
    ),
    { kind: "none" } as ConsentRule,
  ),
  FRAUD_RULES: z._default(
    z.pipe(
      z.string(),
      z.transform((value: string, ctx): FraudRules => {
        const rules = parseFraudRules(value);
        if (rules) return rules;
        ctx.issues.push({
          code: "custom",
          message:
            "must be none or a comma-separated list of self_ip, paid_ads and velocity:N (N at least 1), each once",
          input: value,
        });
        return z.NEVER;
      }),
    ),
    { selfIp: true, paidAds: true, velocity: 10 } as FraudRules,
  ),
  RETENTION_DAYS: z._default(wholeNumber(0, 36500), 0),
  ARCHIVE_AFTER_DAYS: z._default(wholeNumber(0, 36500), 0),
  DASHBOARD_HOST: optional(
    z
      .string()
      .check(
        z.refine(
          (host) => dashboardHostOf(host) !== null,
          "must be a host name with an optional port, like admin.example.com or localhost:8787",
        ),
      ),
  ),
  PAYOUT_MINIMUM: optional(
    z.pipe(
      z.string(),
      z.transform((value: string, ctx) => {
        const minimums = new Map<string, number>();
        for (const entry of value.split(",")) {
          const match = /^\s*([A-Z]{3}):(\d{1,12})\s*$/.exec(entry);
          const amount = Number(match?.[2]);
          if (!match?.[1] || amount < 1 || amount > MAX_AMOUNT || minimums.has(match[1])) {
            ctx.issues.push({
              code: "custom",
              message: `must be CURRENCY:AMOUNT pairs, each currency once, amounts whole minor units from 1 to ${MAX_AMOUNT}, like EUR:5000,USD:5000`,
              input: value,
            });
            return z.NEVER;
          }
          minimums.set(match[1], amount);
        }
        return minimums;
      }),
    ),
  ),
  SEPA_DEBTOR_NAME: optional(
    z
      .string()
      .check(
        z.refine(
          (name) => sepaText(name) !== "" && name.length <= 70,
          "must be the account holder's name, at most 70 characters, with letters of the SEPA character set",
        ),
      ),
  ),
  SEPA_DEBTOR_IBAN: optional(
    z.pipe(
      z.transform((value: unknown) => (typeof value === "string" ? normalizeIban(value) : value)),
      z.string().check(z.refine(isValidIban, "must be an IBAN (its check digits did not match)")),
    ),
  ),
  SEPA_DEBTOR_BIC: optional(
    z
      .string()
      .check(
        z.regex(
          /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/,
          "must be a BIC of 8 or 11 characters, like DEUTDEFF",
        ),
      ),
  ),
  PORTAL_PATH: z._default(portalPathSchema, `${API_PREFIX}/me`),
  PORTAL_LOGIN_URL: z._default(pathOrUrl, "/login"),
  PORTAL_LINKS: z._default(wholeNumber(0, 1000), 1),
});

/** `host` or `host:port` as the setting gives it, lower-cased; null when it is not one. */
function dashboardHostOf(value: string): DashboardHost | null {
  const host = value.toLowerCase();
  if (!hostPattern.test(host)) return null;
  const [hostname = "", port = null] = host.split(":");
  if (port !== null && Number(port) > 65535) return null;
  return { own: true, hostname, port };
}

/**
 * Parses and validates the configuration. Throws {@link ConfigError} naming the first bad variable.
 */
export function parseConfig(source: ConfigSource): Config {
  const result = schema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? "configuration");
    const detail = issue?.code === "invalid_type" ? "must be a string" : (issue?.message ?? "is invalid");
    throw new ConfigError(variable, detail);
  }
  const vars = result.data;
  // A __Host- cookie may not carry a Domain: browsers would refuse every cookie we set.
  if (/^__host-/i.test(vars.COOKIE_NAME) && vars.COOKIE_DOMAIN) {
    throw new ConfigError("COOKIE_NAME", 'must not start with "__Host-" while COOKIE_DOMAIN is set');
  }
  const portalPath = vars.PORTAL_PATH;
  // Under REF_PATH, the page would be read as a referral link's identifier.
  if (portalPath !== null && `${portalPath}/`.startsWith(vars.REF_PATH)) {
    throw new ConfigError("PORTAL_PATH", `must not be under REF_PATH (${vars.REF_PATH})`);
  }
  const consent = vars.CONSENT;
  // The consent cookie is the site's own (its consent banner's), never one reflinks sets itself.
  if (consent.kind === "cookie" && (consent.name === vars.COOKIE_NAME || consent.name === "reflinks_uid")) {
    throw new ConfigError(
      "CONSENT",
      `must name the site's consent cookie, not ${consent.name} (set by reflinks)`,
    );
  }
  // An archived hit can no longer be confirmed: the archive must wait out the attribution window.
  if (vars.ARCHIVE_AFTER_DAYS !== 0 && vars.ARCHIVE_AFTER_DAYS < vars.ATTRIBUTION_WINDOW_DAYS) {
    throw new ConfigError(
      "ARCHIVE_AFTER_DAYS",
      `must be 0 (off) or at least ATTRIBUTION_WINDOW_DAYS (${vars.ATTRIBUTION_WINDOW_DAYS})`,
    );
  }
  return {
    originUrl: vars.ORIGIN_URL ? new URL(vars.ORIGIN_URL) : null,
    originBase: vars.ORIGIN_URL ? originBaseOf(new URL(vars.ORIGIN_URL)) : null,
    originTimeoutMs: vars.ORIGIN_TIMEOUT_SECONDS * 1000,
    webhookTimeoutMs: vars.WEBHOOK_TIMEOUT_MS,
    linkCacheMs: vars.LINK_CACHE_SECONDS * 1000,
    refPath: vars.REF_PATH,
    refParams: [...new Set(vars.REF_PARAM)],
    refParamMarkers: [...new Set(vars.REF_PARAM)].map((name) => `${name}=`),
    cookieName: vars.COOKIE_NAME,
    cookieMaxAge: vars.COOKIE_MAX_AGE,
    cookieDomain: vars.COOKIE_DOMAIN ?? null,
    successUrl: vars.SUCCESS_URL,
    attribution: vars.ATTRIBUTION,
    attributionWindowDays: vars.ATTRIBUTION_WINDOW_DAYS,
    storeIp: vars.STORE_IP,
    allowedRedirectHosts: new Set(vars.ALLOWED_REDIRECT_HOSTS),
    apiToken: vars.API_TOKEN ?? null,
    signingSecret: vars.SIGNING_SECRET ?? null,
    commission: vars.COMMISSION ?? null,
    commissionMonths: vars.COMMISSION_MONTHS,
    commissionPayments: vars.COMMISSION_PAYMENTS,
    holdDays: vars.HOLD_DAYS,
    dedupeSeconds: vars.DEDUPE_SECONDS,
    consent,
    fraudRules: vars.FRAUD_RULES,
    retentionDays: vars.RETENTION_DAYS,
    archiveAfterDays: vars.ARCHIVE_AFTER_DAYS,
    dashboardHost: vars.DASHBOARD_HOST
      ? (dashboardHostOf(vars.DASHBOARD_HOST) as DashboardHost)
      : { own: false },
    payoutMinimum: vars.PAYOUT_MINIMUM ?? new Map(),
    sepaDebtor: {
      name: vars.SEPA_DEBTOR_NAME ?? null,
      iban: vars.SEPA_DEBTOR_IBAN ?? null,
      bic: vars.SEPA_DEBTOR_BIC ?? null,
    },
    portalPath,
    portalLoginUrl: vars.PORTAL_LOGIN_URL,
    portalLinks: vars.PORTAL_LINKS,
  };
}

/**
 * Whether a query string may carry one of `REF_PARAM`'s names: the dispatcher's check on every GET
 * page view, a substring search per name (one for the usual single name), before anything parses
 * the query. A false positive (`?xref=1`) only costs the exact reading that follows.
 */
export function mayCarryRefParam(search: string, config: Pick<Config, "refParamMarkers">): boolean {
  const markers = config.refParamMarkers;
  for (let i = 0; i < markers.length; i++) {
    if (search.includes(markers[i] as string)) return true;
  }
  return false;
}

/** The smallest payout in `currency` under `PAYOUT_MINIMUM`, in minor units: 1 when it names none. */
export function payoutMinimumOf(config: Pick<Config, "payoutMinimum">, currency: string): number {
  return config.payoutMinimum.get(currency) ?? 1;
}

function originBaseOf(origin: URL): string {
  const path = origin.pathname.endsWith("/") ? origin.pathname.slice(0, -1) : origin.pathname;
  return `${origin.origin}${path}`;
}

const cache = new WeakMap<object, Config | ConfigError>();

/**
 * The configuration of this environment, parsed on first use and remembered for the isolate's
 * life (the env object is the same across requests), so that no request pays for parsing twice.
 * A bad value is logged at error level once per isolate, naming the variable.
 */
export function configOf(env: object): Config | ConfigError {
  let config = cache.get(env);
  if (config === undefined) {
    try {
      config = parseConfig(env as ConfigSource);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      log("error", "misconfigured", { variable: error.variable, message: error.message });
      config = error;
    }
    cache.set(env, config);
  }
  return config;
}

const fallbacks = new WeakMap<object, Config | ConfigError>();

/**
 * What page views run on while the configuration is bad (docs/configuration.md#bad-values): a
 * typo in a referral setting must not take the site down, so the proxy keeps going with the
 * origin settings alone (a bad `ORIGIN_TIMEOUT_SECONDS` falls back to its default here, and only
 * here). A {@link ConfigError} naming `ORIGIN_URL` when the origin itself is unusable.
 */
export function proxyFallbackOf(env: object): Config | ConfigError {
  let config = fallbacks.get(env);
  if (config === undefined) {
    const source = env as ConfigSource;
    try {
      config = parseConfig({ ORIGIN_URL: source.ORIGIN_URL });
      const timeout = parseConfig({ ORIGIN_TIMEOUT_SECONDS: source.ORIGIN_TIMEOUT_SECONDS });
      config.originTimeoutMs = timeout.originTimeoutMs;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      config = config ?? error;
    }
    fallbacks.set(env, config);
  }
  return config;
}
