import type { QueuedHit } from "./hits/save-hit";

/**
 * The worker's bindings: what `wrangler types` generates from wrangler.toml (committed as
 * worker-configuration.d.ts), plus what wrangler.toml cannot declare because it is optional.
 */
export interface AppBindings extends Env {
  /** Base URL of the origin; unset in route mode. */
  ORIGIN_URL?: string;
  ORIGIN_TIMEOUT_SECONDS?: string;
  LINK_CACHE_SECONDS?: string;
  /** Optional Cloudflare Queue: hits are sent there and batch-inserted by this worker's consumer. */
  HITS_QUEUE?: Queue<QueuedHit>;
  COOKIE_DOMAIN?: string;
  /** The dashboard's own host (`admin.example.com`); unset: `localhost` only (SECURITY.md). */
  DASHBOARD_HOST?: string;
  /** The referrer's page (docs/referrer-page.md); unset: `/_reflinks/me`; `off`: none. */
  PORTAL_PATH?: string;
  /** Where the referrer's page sends a visitor who is not signed in; unset: `/login`. */
  PORTAL_LOGIN_URL?: string;
  /** How many links a user may create on their page; unset: 1. */
  PORTAL_LINKS?: string;
  /** `percent:N` or `fixed:N`; unset: conversions earn commission 0. */
  COMMISSION?: string;
  /** Per currency, the smallest payout in minor units (`EUR:5000,USD:5000`); unset: any above 0. */
  PAYOUT_MINIMUM?: string;
  /** The account SEPA payout files pay from; unset: no SEPA file. */
  SEPA_DEBTOR_NAME?: string;
  SEPA_DEBTOR_IBAN?: string;
  SEPA_DEBTOR_BIC?: string;
  /** Secret: bearer token for `/_reflinks/*`. */
  API_TOKEN?: string;
  /** Secret: HMAC key of the identity cookie. */
  SIGNING_SECRET?: string;
  /** Optional R2 bucket the scheduled job archives old hits to (`ARCHIVE_AFTER_DAYS`). */
  ARCHIVE?: R2Bucket;
  /** Milliseconds a webhook delivery attempt may take (default 10000); tests shorten it. */
  WEBHOOK_TIMEOUT_MS?: string;
}
