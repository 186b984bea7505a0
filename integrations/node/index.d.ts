import type { IncomingMessage, ServerResponse } from "node:http";
import type { components, operations } from "./reflinks-api.js";

export { WebhookVerificationError } from "standardwebhooks";

type Json<Op extends keyof operations, Status extends number> =
  operations[Op]["responses"] extends Record<Status, { content: { "application/json": infer T } }>
    ? T
    : never;

export type Referral = components["schemas"]["Referral"];
export type Conversion = components["schemas"]["Conversion"];
export type ConfirmResult = Json<"confirm", 201>;
export type ConversionResult = Json<"createConversion", 201>;
export type ReverseResult = Json<"reverseConversion", 201>;
export type UserSummary = Json<"getUser", 200>;
export type LinkReportRow = Json<"linkReport", 200>["rows"][number];

/** A user of your site: `id` as the login header sends it, `createdAt` when the account was made. */
export interface ReflinksUser {
  id: string | number;
  createdAt: Date | string;
}

/** The `Reflinks-User` value (percent-encoded id; `""` for a logout) and its hex HMAC-SHA256. */
export function signUser(
  userId: string | number | null | undefined,
  apiToken: string,
): { value: string; signature: string };

/** `{"Reflinks-User", "Reflinks-User-Signature"}` for a response to `userId` (`null`: a logout). */
export function userHeaders(
  userId: string | number | null | undefined,
  apiToken: string,
): { "Reflinks-User": string; "Reflinks-User-Signature": string };

/** What the worker's `Reflinks-Referral` header says brought this browser (docs/referred-visitor.md). */
export interface ReflinksReferral {
  link: string;
  /** The link's owner; null for a link without one. */
  referrer: string | null;
  /** The link's `referee_reward` at the time of the click; null when it had none. */
  reward: string | null;
  /** The click's time, ISO-8601. */
  at: string;
}

/**
 * The referral a `Reflinks-Referral` value names, when `signature` is its hex HMAC-SHA256 keyed
 * with `apiToken` (compared in constant time); else null.
 * @example verifyReferral(req.headers["reflinks-referral"], req.headers["reflinks-referral-signature"], token)
 */
export function verifyReferral(
  value: string | string[] | undefined,
  signature: string | string[] | undefined,
  apiToken: string,
): ReflinksReferral | null;

declare module "node:http" {
  interface IncomingMessage {
    /** Set by {@link reflinksUser}: the verified `Reflinks-Referral` of this request, or null. */
    reflinksReferral?: ReflinksReferral | null;
  }
}

/**
 * Express middleware: the signed `Reflinks-User` header on every response to a signed-in user, the
 * empty value on the response that signed them out. `getUser` is synchronous.
 * It also sets `req.reflinksReferral` ({@link verifyReferral}), before the route handler runs.
 * @example app.use(reflinksUser({ apiToken: process.env.REFLINKS_API_TOKEN, getUser: (req) => req.session.userId }))
 */
export function reflinksUser<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
>(options: {
  apiToken: string;
  getUser: (req: Req, res: Res) => string | number | null | undefined;
}): (req: Req, res: Res, next: (error?: unknown) => void) => void;

/** The API answered an error: `status`, `code` (`"conflict"`, …) and the API's `apiMessage`. */
export class ReflinksError extends Error {
  readonly status: number;
  readonly code: string;
  readonly apiMessage: string;
}

export interface ReflinksClient {
  /** Any route under `/_reflinks` (`path` like `"/links"`): `{status, data}` for a 2xx, else throws ReflinksError. */
  request(
    method: string,
    path: string,
    options?: { body?: unknown; query?: Record<string, string | number | undefined | null> },
  ): Promise<{ status: number; data: unknown }>;
  /** Credits `user`'s referral for `event` (default `signup`), exactly once; `null`: not referred. */
  /**
   * Credits the user's referral once; null when they were not referred. Credit the referrer only
   * when `referral.status` is `"ok"`: a `"held"` one waits for review (docs/fraud.md).
   */
  confirm(user: ReflinksUser, event?: string): Promise<ConfirmResult | null>;
  /** Records a payment (minor units), once per `externalId`; `null`: the user was not referred. */
  conversion(
    user: ReflinksUser,
    externalId: string,
    amount: number,
    currency: string,
    event?: string,
  ): Promise<ConversionResult | null>;
  /** A refund of `externalId`, once per `reversalId` (`amount` omitted: the rest); `null`: no such conversion. */
  reverse(externalId: string, reversalId: string, amount?: number): Promise<ReverseResult | null>;
  /** `GET /users/:user_id`: what to show a user about their referrals. */
  userSummary(user: ReflinksUser | string | number): Promise<UserSummary>;
  /** `GET /reports/links`: one row per link, most hits first. */
  report(period?: { from?: string; to?: string }): Promise<LinkReportRow[]>;
}

/**
 * @example const reflinks = createReflinksClient({ baseUrl: "https://example.com", apiToken: process.env.REFLINKS_API_TOKEN });
 */
export function createReflinksClient(options: {
  baseUrl: string;
  apiToken: string;
  /** Per attempt; default 10,000. */
  timeoutMs?: number;
  /** More attempts after a network error, a timeout, 429 or a 5xx; default 2. */
  retries?: number;
  /** Before the first retry, doubling; default 500. */
  backoffMs?: number;
  fetch?: typeof fetch;
}): ReflinksClient;

/** The events a webhook can subscribe to (`referral.confirmed`, `conversion.created`, …). */
export type WebhookEventType = components["schemas"]["WebhookCreated"]["events"][number];

/** A verified delivery's body: `data` is the object as the API returns it. */
export interface ReflinksEvent {
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Verifies a delivery (raw body, exactly as received) with `standardwebhooks`; throws WebhookVerificationError. */
export function verifyWebhook(
  secret: string,
  body: string | Uint8Array,
  headers: Headers | Record<string, string | string[] | undefined>,
): ReflinksEvent;

/** An Express handler for deliveries: 204 after `onEvent`, 400 when verification fails. */
export function reflinksWebhook(options: {
  secret: string;
  onEvent: (event: ReflinksEvent, meta: { webhookId: string }) => unknown;
}): (
  req: IncomingMessage & { body?: unknown },
  res: ServerResponse,
  next: (error?: unknown) => void,
) => Promise<void>;
