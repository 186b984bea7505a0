/**
 * Every route under `/_reflinks`, once: method, path, what it takes and what it answers. The
 * routes are registered from this table (src/routes/api/index.ts), their params, query, headers
 * and body are validated by its schemas before the handler runs (./input.ts), whose input is
 * typed by them (./handler.ts), the one 405 handler reads its
 * methods from it, and `npm run openapi` makes the OpenAPI document from it; a test fails when
 * the app serves a route this table does not describe, or the other way round.
 */
import type * as z from "zod/mini";
import type { ErrorCode } from "../../errors";
import {
  banBody,
  banSchema,
  confirmBody,
  confirmedSchema,
  conversionBody,
  conversionCreatedSchema,
  conversionListSchema,
  conversionSchema,
  couponBody,
  couponCreatedSchema,
  couponParams,
  createLinkBody,
  createRunBody,
  createWebhookBody,
  dailyReportQuery,
  dailyReportSchema,
  dashboardQuery,
  deliveryListSchema,
  deliveryParams,
  deliverySchema,
  dueQuery,
  dueSchema,
  earningsReportQuery,
  earningsReportSchema,
  erasedSchema,
  externalIdParams,
  healthSchema,
  hitListSchema,
  idempotencyHeaders,
  identifierParams,
  linkListSchema,
  linkReportSchema,
  linkSchema,
  linkWithStatsSchema,
  listConversionsQuery,
  listDeliveriesQuery,
  listHitsQuery,
  listLinksQuery,
  listPayoutsQuery,
  listReferralsQuery,
  listRunsQuery,
  patchLinkBody,
  payoutBody,
  payoutCreatedSchema,
  payoutListSchema,
  payoutMethodBody,
  payoutMethodSchema,
  periodQuery,
  portalLinkSchema,
  reconcileBody,
  reconciledSchema,
  referralListSchema,
  referralParams,
  referralSchema,
  rejectBody,
  revenueReportSchema,
  reverseBody,
  reversedSchema,
  runAnswerSchema,
  runFileQuery,
  runListSchema,
  runParams,
  userExportSchema,
  userParams,
  userSchema,
  webhookCreatedSchema,
  webhookListSchema,
  webhookParams,
} from "./schemas";

export type Method = "get" | "post" | "put" | "patch" | "delete";

export interface ApiRoute {
  method: Method;
  /** Under `/_reflinks`, with hono's `:param` placeholders. */
  path: string;
  summary: string;
  /** bearer: `Authorization: Bearer <API_TOKEN>`; basic: HTTP Basic, the token as the password. */
  auth: "none" | "bearer" | "basic";
  params?: z.ZodMiniType;
  query?: z.ZodMiniType;
  headers?: z.ZodMiniType;
  body?: z.ZodMiniType;
  /** Success answers: status, what it means, and the JSON schema (none: no body, or not JSON). */
  responses: Record<number, { description: string; schema?: z.ZodMiniType; contentType?: string }>;
  /** The error codes this route may answer, besides those every route of its kind may. */
  errors: ErrorCode[];
}

const route = <T extends ApiRoute>(definition: T) => definition;

export const API_ROUTES = {
  health: route({
    method: "get",
    path: "/health",
    summary: "Whether the worker and D1 answer, with every migration of this build applied",
    auth: "none",
    responses: { 200: { description: "D1 answers and is migrated", schema: healthSchema } },
    errors: ["unavailable", "not_migrated"],
  }),
  openapi: route({
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    auth: "none",
    responses: { 200: { description: "The OpenAPI 3.1 document of the API" } },
    errors: [],
  }),
  createLink: route({
    method: "post",
    path: "/links",
    summary: "Create a referral link",
    auth: "bearer",
    body: createLinkBody,
    responses: {
      201: {
        description: "The link; a random 10-character identifier when none is given",
        schema: linkSchema,
      },
    },
    errors: ["conflict"],
  }),
  listLinks: route({
    method: "get",
    path: "/links",
    summary: "List links, oldest first",
    auth: "bearer",
    query: listLinksQuery,
    responses: { 200: { description: "One page of links", schema: linkListSchema } },
    errors: [],
  }),
  getLink: route({
    method: "get",
    path: "/links/:identifier",
    summary: "A link with its numbers",
    auth: "bearer",
    params: identifierParams,
    responses: { 200: { description: "The link and its stats", schema: linkWithStatsSchema } },
    errors: ["not_found"],
  }),
  updateLink: route({
    method: "patch",
    path: "/links/:identifier",
    summary: "Disable, enable, give to another owner or change a link's options",
    auth: "bearer",
    params: identifierParams,
    body: patchLinkBody,
    responses: { 200: { description: "The updated link", schema: linkSchema } },
    errors: ["not_found"],
  }),
  deleteLink: route({
    method: "delete",
    path: "/links/:identifier",
    summary: "Delete a link and its hits (confirmed referrals stay)",
    auth: "bearer",
    params: identifierParams,
    responses: { 204: { description: "Deleted" } },
    errors: ["not_found"],
  }),
  listHits: route({
    method: "get",
    path: "/links/:identifier/hits",
    summary: "A link's hits, newest first",
    auth: "bearer",
    params: identifierParams,
    query: listHitsQuery,
    responses: { 200: { description: "One page of hits", schema: hitListSchema } },
    errors: ["not_found"],
  }),
  createCoupon: route({
    method: "post",
    path: "/links/:identifier/coupons",
    summary: "Give a link a coupon code (stored upper case; matched without regard to case)",
    auth: "bearer",
    params: identifierParams,
    body: couponBody,
    responses: { 201: { description: "The coupon", schema: couponCreatedSchema } },
    errors: ["not_found", "conflict"],
  }),
  deleteCoupon: route({
    method: "delete",
    path: "/links/:identifier/coupons/:code",
    summary: "Take a coupon code from a link",
    auth: "bearer",
    params: couponParams,
    responses: { 204: { description: "Deleted" } },
    errors: ["not_found"],
  }),
  getLinkQr: route({
    method: "get",
    path: "/links/:identifier/qr.svg",
    summary: "A QR code of the link's URL on this host, as SVG",
    auth: "bearer",
    params: identifierParams,
    responses: { 200: { description: "An SVG image", contentType: "image/svg+xml" } },
    errors: ["not_found"],
  }),
  reconcile: route({
    method: "post",
    path: "/reconcile",
    summary: "Report a login: give the visitor cookie's hits to the user",
    auth: "bearer",
    body: reconcileBody,
    responses: { 200: { description: "How many hits got the user", schema: reconciledSchema } },
    errors: [],
  }),
  confirm: route({
    method: "post",
    path: "/confirm",
    summary: "Credit the referral of a user who completed a step, exactly once",
    auth: "bearer",
    body: confirmBody,
    responses: {
      200: { description: "Already credited: the same referral", schema: confirmedSchema },
      201: { description: "Credited now", schema: confirmedSchema },
    },
    errors: ["no_referral"],
  }),
  listReferrals: route({
    method: "get",
    path: "/referrals",
    summary: "List confirmed referrals, newest first, with the evidence; ?status=held is the review queue",
    auth: "bearer",
    query: listReferralsQuery,
    responses: { 200: { description: "One page of referrals", schema: referralListSchema } },
    errors: [],
  }),
  releaseReferral: route({
    method: "post",
    path: "/referrals/:id/release",
    summary: "Release a held referral: ok, its conversions payable, referral.confirmed sent",
    auth: "bearer",
    params: referralParams,
    responses: { 200: { description: "The referral, now (or already) ok", schema: referralSchema } },
    errors: ["not_found", "conflict"],
  }),
  rejectReferral: route({
    method: "post",
    path: "/referrals/:id/reject",
    summary: "Reject a referral: its conversions earn nothing, referral.rejected sent",
    auth: "bearer",
    params: referralParams,
    body: rejectBody,
    responses: { 200: { description: "The referral, now (or already) rejected", schema: referralSchema } },
    errors: ["not_found", "conflict"],
  }),
  banUser: route({
    method: "post",
    path: "/users/:user_id/ban",
    summary: "Ban a referrer: links disabled, unpaid commissions and held referrals rejected",
    auth: "bearer",
    params: userParams,
    body: banBody,
    responses: {
      200: { description: "The ban (a repeat: the first one, nothing changed)", schema: banSchema },
    },
    errors: [],
  }),
  linkReport: route({
    method: "get",
    path: "/reports/links",
    summary: "Every link's numbers over a period, most hits first",
    auth: "bearer",
    query: periodQuery,
    responses: { 200: { description: "One row per link", schema: linkReportSchema } },
    errors: [],
  }),
  dailyReport: route({
    method: "get",
    path: "/reports/daily",
    summary: "Numbers by UTC day, of one link or of all, oldest day first",
    auth: "bearer",
    query: dailyReportQuery,
    responses: {
      200: { description: "One row per day with a hit or a confirmation", schema: dailyReportSchema },
    },
    errors: ["not_found"],
  }),
  revenueReport: route({
    method: "get",
    path: "/reports/revenue",
    summary: "Revenue and commission per link and currency over a period (conversions made in it)",
    auth: "bearer",
    query: periodQuery,
    responses: {
      200: { description: "One row per link and currency with a conversion", schema: revenueReportSchema },
    },
    errors: [],
  }),
  earningsReport: route({
    method: "get",
    path: "/reports/earnings",
    summary: "Each referrer's earnings per currency as of now, with what is due",
    auth: "bearer",
    query: earningsReportQuery,
    responses: {
      200: {
        description: "One row per referrer and currency with a conversion",
        schema: earningsReportSchema,
      },
    },
    errors: [],
  }),
  createConversion: route({
    method: "post",
    path: "/conversions",
    summary: "Record a payment of a referred user, once per external_id",
    auth: "bearer",
    body: conversionBody,
    responses: {
      200: { description: "Already recorded: the same conversion", schema: conversionCreatedSchema },
      201: { description: "Recorded now, with the referrer's commission", schema: conversionCreatedSchema },
    },
    errors: ["no_referral", "conflict"],
  }),
  listConversions: route({
    method: "get",
    path: "/conversions",
    summary: "List conversions, newest first",
    auth: "bearer",
    query: listConversionsQuery,
    responses: { 200: { description: "One page of conversions", schema: conversionListSchema } },
    errors: [],
  }),
  getConversion: route({
    method: "get",
    path: "/conversions/:external_id",
    summary: "One conversion, its status as of now",
    auth: "bearer",
    params: externalIdParams,
    responses: { 200: { description: "The conversion", schema: conversionSchema } },
    errors: ["not_found"],
  }),
  reverseConversion: route({
    method: "post",
    path: "/conversions/:external_id/reverse",
    summary: "Reverse part or all of a payment (a refund), once per reversal_id",
    auth: "bearer",
    params: externalIdParams,
    body: reverseBody,
    responses: {
      200: { description: "Already reversed: the same reversal", schema: reversedSchema },
      201: { description: "Reversed now", schema: reversedSchema },
    },
    errors: ["not_found", "conflict"],
  }),
  payoutsDue: route({
    method: "get",
    path: "/payouts/due",
    summary: "What is due to each referrer, per currency",
    auth: "bearer",
    query: dueQuery,
    responses: {
      200: { description: "One row per referrer and currency with something due", schema: dueSchema },
    },
    errors: [],
  }),
  createPayout: route({
    method: "post",
    path: "/payouts",
    summary: "Pay a referrer everything due in a currency, once per Idempotency-Key",
    auth: "bearer",
    headers: idempotencyHeaders,
    body: payoutBody,
    responses: {
      200: { description: "This key's payout, made earlier", schema: payoutCreatedSchema },
      201: { description: "Paid now", schema: payoutCreatedSchema },
    },
    errors: ["nothing_due", "below_minimum", "conflict"],
  }),
  listPayouts: route({
    method: "get",
    path: "/payouts",
    summary: "List payouts, newest first",
    auth: "bearer",
    query: listPayoutsQuery,
    responses: { 200: { description: "One page of payouts", schema: payoutListSchema } },
    errors: [],
  }),
  createPayoutRun: route({
    method: "post",
    path: "/payout-runs",
    summary:
      "Pay every referrer due at least PAYOUT_MINIMUM in a currency, one payout each, once per Idempotency-Key",
    auth: "bearer",
    headers: idempotencyHeaders,
    body: createRunBody,
    responses: {
      200: { description: "This key's run, made earlier", schema: runAnswerSchema },
      201: { description: "Paid now", schema: runAnswerSchema },
    },
    errors: ["nothing_due", "conflict"],
  }),
  listPayoutRuns: route({
    method: "get",
    path: "/payout-runs",
    summary: "List payout runs, newest first",
    auth: "bearer",
    query: listRunsQuery,
    responses: { 200: { description: "One page of runs", schema: runListSchema } },
    errors: [],
  }),
  getPayoutRun: route({
    method: "get",
    path: "/payout-runs/:id",
    summary: "One payout run with its payouts",
    auth: "bearer",
    params: runParams,
    responses: { 200: { description: "The run", schema: runAnswerSchema } },
    errors: ["not_found"],
  }),
  getPayoutRunFile: route({
    method: "get",
    path: "/payout-runs/:id/file",
    summary:
      "The run's file for PayPal Payouts, Wise batch payments, a SEPA credit transfer (pain.001.001.09), or a CSV of every payout",
    auth: "bearer",
    params: runParams,
    query: runFileQuery,
    responses: {
      200: {
        description:
          "An attachment: CSV (paypal, wise, csv) or XML (sepa); payouts whose referrer has no method of the format are left out",
        contentType: "text/csv",
      },
    },
    errors: ["not_found", "unsupported_currency", "missing_setting", "amount_too_large", "nothing_due"],
  }),
  createWebhook: route({
    method: "post",
    path: "/webhooks",
    summary: "Register a webhook endpoint; its secret is in this answer only",
    auth: "bearer",
    body: createWebhookBody,
    responses: {
      201: { description: "The endpoint, with its signing secret", schema: webhookCreatedSchema },
    },
    errors: [],
  }),
  listWebhooks: route({
    method: "get",
    path: "/webhooks",
    summary: "List webhook endpoints, oldest first, without secrets",
    auth: "bearer",
    responses: { 200: { description: "Every endpoint", schema: webhookListSchema } },
    errors: [],
  }),
  deleteWebhook: route({
    method: "delete",
    path: "/webhooks/:id",
    summary: "Delete a webhook endpoint: every delivery still due stops",
    auth: "bearer",
    params: webhookParams,
    responses: { 204: { description: "Deleted" } },
    errors: ["not_found"],
  }),
  listWebhookDeliveries: route({
    method: "get",
    path: "/webhooks/:id/deliveries",
    summary: "An endpoint's delivery attempts, newest first",
    auth: "bearer",
    params: webhookParams,
    query: listDeliveriesQuery,
    responses: { 200: { description: "One page of attempts", schema: deliveryListSchema } },
    errors: ["not_found"],
  }),
  retryWebhookDelivery: route({
    method: "post",
    path: "/webhooks/:id/deliveries/:delivery_id/retry",
    summary: "Send that delivery's event again now",
    auth: "bearer",
    params: deliveryParams,
    responses: { 200: { description: "The new attempt", schema: deliverySchema } },
    errors: ["not_found"],
  }),
  getUser: route({
    method: "get",
    path: "/users/:user_id",
    summary: "A user's referrals: who referred them, their links, what they earned",
    auth: "bearer",
    params: userParams,
    responses: { 200: { description: "Any user id is answered, one never seen too", schema: userSchema } },
    errors: [],
  }),
  exportUser: route({
    method: "get",
    path: "/users/:user_id/export",
    summary: "Everything the worker stores about a user, for a data-access request",
    auth: "bearer",
    params: userParams,
    responses: { 200: { description: "Any user id is answered", schema: userExportSchema } },
    errors: [],
  }),
  eraseUser: route({
    method: "delete",
    path: "/users/:user_id",
    summary:
      "Erase a user's personal data (their hits' ip, user agent, referer, anonymous id; their login record)",
    auth: "bearer",
    params: userParams,
    responses: {
      200: {
        description: "How many of the user's own hits were scrubbed; money records are kept",
        schema: erasedSchema,
      },
    },
    errors: [],
  }),
  setPayoutMethod: route({
    method: "put",
    path: "/users/:user_id/payout-method",
    summary: "Set how a referrer is paid: PayPal, Wise or a bank account (IBAN)",
    auth: "bearer",
    params: userParams,
    body: payoutMethodBody,
    responses: { 200: { description: "The method as stored", schema: payoutMethodSchema } },
    errors: [],
  }),
  createPortalLink: route({
    method: "post",
    path: "/users/:user_id/portal-link",
    summary: "A sign-in link to the user's referral page: one use, 15 minutes",
    auth: "bearer",
    params: userParams,
    responses: {
      201: {
        description:
          "The link, on the request's host; it opens a one-hour session for the page only. Not found: PORTAL_PATH is off, or this is DASHBOARD_HOST",
        schema: portalLinkSchema,
      },
    },
    errors: ["not_found"],
  }),
  dashboard: route({
    method: "get",
    path: "/dashboard",
    summary: "The dashboard, for a browser",
    auth: "basic",
    query: dashboardQuery,
    responses: { 200: { description: "An HTML page", contentType: "text/html" } },
    errors: ["not_found"],
  }),
} as const satisfies Record<string, ApiRoute>;

export type RouteName = keyof typeof API_ROUTES;

/** The methods a path answers, from the table; empty when no route has this path. */
export function methodsOf(path: string): Method[] {
  return Object.values(API_ROUTES)
    .filter((candidate) => pathPattern(candidate.path).test(path))
    .map((candidate) => candidate.method);
}

const patterns = new Map<string, RegExp>();

function pathPattern(path: string): RegExp {
  let pattern = patterns.get(path);
  if (!pattern) {
    // `.` (openapi.json, qr.svg) is the only regular-expression character the paths have.
    pattern = new RegExp(`^${path.replaceAll(".", "\\.").replace(/:[a-z_]+/g, "[^/]+")}/?$`);
    patterns.set(path, pattern);
  }
  return pattern;
}
