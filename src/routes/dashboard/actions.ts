/**
 * The dashboard's actions: HTML forms that change something (create, disable and enable a link,
 * set its commission, record a payout, send a webhook event again, release or reject a held
 * referral, ban a referrer). Each one is a POST that must
 * come from the dashboard itself: same origin (`Origin`/`Sec-Fetch-Site`, hono's `csrf`) and the
 * form's own token (./form-token.ts); anything else is refused with 403 and changes nothing.
 * Done or not, the answer is a 303 to the dashboard (Post/Redirect/Get: a reload does not send
 * the form again) naming the outcome (./flash.ts). The work itself is the API's: the same query
 * functions, the same validation schemas, the same cache invalidation.
 */
import type { Context, Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type * as z from "zod/mini";
import type { HonoEnv } from "../../app-env";
import { payoutMinimumOf } from "../../config";
import {
  banUser,
  type DecisionOutcome,
  rejectReferral,
  releaseReferral,
} from "../../db/queries/fraud-review";
import { insertLink, ownedLinkIdentifiers, updateLink } from "../../db/queries/links";
import { createRun } from "../../db/queries/payout-runs";
import { payReferrer } from "../../db/queries/payouts";
import { isDay } from "../../db/queries/report-sql";
import { forgetLink } from "../../hits/link-cache";
import { randomIdentifier } from "../../lib/random-identifier";
import { findDelivery, retryWebhookEvent } from "../../webhooks";
import { DASHBOARD_PATH } from "../api/prefix";
import {
  banBody,
  createLinkBody,
  createRunBody,
  patchLinkBody,
  payoutBody,
  referralParams,
  rejectBody,
  userParams,
} from "../api/schemas";
import { FIELD_RULES, type FlashField, type Outcome, outcomeParams } from "./flash";
import { checkFormToken } from "./form-token";

export { DASHBOARD_PATH };

/** The field of a form that carries its token, and the one that carries the page's view. */
export const TOKEN_FIELD = "form_token";
export const BACK_FIELD = "back";

/** Action paths, under the dashboard: what the forms post to and what their tokens are bound to. */
export const ACTIONS = {
  createLink: () => `${DASHBOARD_PATH}/links`,
  setDisabled: (identifier: string) => `${DASHBOARD_PATH}/links/${identifier}/disabled`,
  setCommission: (identifier: string) => `${DASHBOARD_PATH}/links/${identifier}/commission`,
  setReward: (identifier: string) => `${DASHBOARD_PATH}/links/${identifier}/reward`,
  pay: () => `${DASHBOARD_PATH}/payouts`,
  run: () => `${DASHBOARD_PATH}/payout-runs`,
  retry: (webhookId: string) => `${DASHBOARD_PATH}/webhooks/${encodeURIComponent(webhookId)}/retry`,
  release: (referralId: number) => `${DASHBOARD_PATH}/referrals/${referralId}/release`,
  reject: (referralId: number) => `${DASHBOARD_PATH}/referrals/${referralId}/reject`,
  // The user id is a field, as the payout's referrer is: any text, which a path would have to
  // escape (and "." or ".." would not survive a browser's URL parser).
  ban: () => `${DASHBOARD_PATH}/bans`,
};

const GENERATED_IDENTIFIER_ATTEMPTS = 5;

type C = Context<HonoEnv>;
type Form = Record<string, string>;
export type Action = (c: C, form: Form) => Promise<Outcome>;

/** `Origin` or `Sec-Fetch-Site` must say the form was sent from this origin. */
const sameOrigin = csrf();

/**
 * Why this POST is refused, or null when it may go on: it must come from a page of this origin
 * and carry the token of this very form.
 */
async function forgery(c: C, form: Form): Promise<string | null> {
  try {
    await sameOrigin(c, async () => {});
  } catch (error) {
    if (error instanceof HTTPException && error.status === 403) {
      return "This form was not sent from a page of this dashboard.";
    }
    throw error;
  }
  const apiToken = c.var.config.apiToken ?? "";
  const problem = await checkFormToken(apiToken, c.req.path, form[TOKEN_FIELD]);
  if (problem === "expired")
    return "This form is more than 12 hours old: reload the dashboard and send it again.";
  if (problem) return "This form does not carry this dashboard's token for this action.";
  return null;
}

async function formOf(c: C): Promise<Form | null> {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return null;
  const params = new URLSearchParams(await c.req.text());
  const form: Form = {};
  for (const [name, value] of params) if (!(name in form)) form[name] = value;
  return form;
}

/**
 * Where the redirect goes: the dashboard with the view the form was sent from (its period, link
 * filter and page, each checked again) and the outcome.
 */
export function redirectTarget(back: string | undefined, outcome: Outcome): string {
  const view = new URLSearchParams(back ?? "");
  const params = new URLSearchParams();
  const from = view.get("from");
  const to = view.get("to");
  const link = view.get("link");
  const page = view.get("page");
  if (from && isDay(from)) params.set("from", from);
  if (to && isDay(to)) params.set("to", to);
  if (link && /^[A-Za-z0-9_-]{1,50}$/.test(link)) params.set("link", link);
  if (page && /^[1-9]\d{0,5}$/.test(page)) params.set("page", page);
  for (const [name, value] of outcomeParams(outcome)) params.set(name, value);
  return `${DASHBOARD_PATH}?${params}`;
}

/** The refusal of a forged or malformed post: a page, not a redirect, since nothing was done. */
export type Refusal = (c: C, status: 403 | 405 | 415, message: string) => Response | Promise<Response>;

/**
 * Registers `action` at `path` (under the dashboard). Registered for every method, so a GET of
 * the path gets a 405 naming POST rather than the page's 404.
 */
export function registerAction(app: Hono<HonoEnv>, path: string, action: Action, refuse: Refusal) {
  app.all(path, async (c) => {
    if (c.req.method !== "POST") {
      c.header("Allow", "POST");
      return refuse(c, 405, "This address takes the dashboard's forms only: open the dashboard instead.");
    }
    const form = await formOf(c);
    if (!form)
      return refuse(c, 415, "Send the dashboard's form as it is (application/x-www-form-urlencoded).");
    const forged = await forgery(c, form);
    if (forged) return refuse(c, 403, forged);
    const outcome = await action(c, form);
    return c.redirect(redirectTarget(form[BACK_FIELD], outcome), 303);
  });
}

/** The first field a schema refuses, as a field the page can explain. */
function invalidField<T extends z.ZodMiniType>(
  schema: T,
  value: unknown,
): { data: z.output<T>; field?: undefined } | { data?: undefined; field: FlashField | undefined } {
  const result = schema.safeParse(value);
  if (result.success) return { data: result.data };
  const name = String(result.error.issues[0]?.path[0] ?? "");
  return { field: name in FIELD_RULES ? (name as FlashField) : undefined };
}

/** An empty field is an absent one: a form sends every input, filled or not. */
const given = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);

export const createLinkAction: Action = async (c, form) => {
  const checked = invalidField(createLinkBody, {
    identifier: given(form.identifier)?.trim(),
    user_id: given(form.user_id),
  });
  if (!checked.data) return { failed: "invalid", field: checked.field };
  const { identifier, user_id: owner = null } = checked.data;
  // What the link's `url` is made of, as POST /links makes it (for the link.created event).
  const urlPrefix = `${new URL(c.req.url).origin}${c.var.config.refPath}`;
  let created = null;
  if (identifier !== undefined) {
    created = await insertLink(c.var.db, c.var.events, { identifier, userId: owner }, urlPrefix);
    if (!created) return { failed: "identifier_taken", subject: identifier };
  } else {
    // As POST /links does: a random identifier, drawn again in the unlikely case it is taken.
    for (let attempt = 0; !created && attempt < GENERATED_IDENTIFIER_ATTEMPTS; attempt++) {
      created = await insertLink(
        c.var.db,
        c.var.events,
        { identifier: randomIdentifier(), userId: owner },
        urlPrefix,
      );
    }
    if (!created) throw new Error("could not generate a free identifier");
  }
  // This isolate may remember the identifier as unknown.
  forgetLink(c.env.DB, created.identifier);
  return { done: "link_created", subject: created.identifier };
};

/** `disabled=true` disables the link, `disabled=false` enables it. */
export const setDisabledAction: Action = async (c, form) => {
  const identifier = c.req.param("identifier") ?? "";
  const checked = invalidField(patchLinkBody, {
    disabled: form.disabled === "true" ? true : form.disabled === "false" ? false : form.disabled,
  });
  if (!checked.data || checked.data.disabled === undefined) return { failed: "invalid" };
  const updated = await updateLink(c.var.db, identifier, { disabled: checked.data.disabled });
  if (!updated) return { failed: "link_not_found", subject: identifier };
  forgetLink(c.env.DB, identifier);
  return { done: updated.disabled ? "link_disabled" : "link_enabled", subject: identifier };
};

/** `referee_reward=text` (what the referred friend gets, e.g. a coupon), or empty for none. */
export const setRewardAction: Action = async (c, form) => {
  const identifier = c.req.param("identifier") ?? "";
  const reward = given(form.referee_reward)?.trim() || null;
  const checked = invalidField(patchLinkBody, { referee_reward: reward });
  if (!checked.data) return { failed: "invalid", field: "referee_reward", subject: identifier };
  const updated = await updateLink(c.var.db, identifier, {
    refereeReward: checked.data.referee_reward ?? null,
  });
  if (!updated) return { failed: "link_not_found", subject: identifier };
  // The link's cache carries the reward into the referral cookie of the next click.
  forgetLink(c.env.DB, identifier);
  return { done: updated.refereeReward === null ? "reward_cleared" : "reward_set", subject: identifier };
};

/** `commission=percent:N|fixed:N`, or empty for the `COMMISSION` setting. */
export const setCommissionAction: Action = async (c, form) => {
  const identifier = c.req.param("identifier") ?? "";
  const commission = given(form.commission)?.trim() ?? null;
  const checked = invalidField(patchLinkBody, { commission });
  if (!checked.data) return { failed: "invalid", field: "commission", subject: identifier };
  const updated = await updateLink(c.var.db, identifier, { commission: checked.data.commission ?? null });
  if (!updated) return { failed: "link_not_found", subject: identifier };
  forgetLink(c.env.DB, identifier);
  return { done: updated.commission === null ? "commission_cleared" : "commission_set", subject: identifier };
};

/**
 * `POST /payouts` from a form: the key was made when the page was rendered, so a second click
 * (or a second tab of the same page) answers the payout the first one made.
 */
export const payAction: Action = async (c, form) => {
  const key = form.idempotency_key?.trim() ?? "";
  if (key === "" || key.length > 255) return { failed: "invalid", field: "idempotency_key" };
  const checked = invalidField(payoutBody, {
    referrer_user_id: form.referrer_user_id,
    currency: form.currency,
  });
  if (!checked.data) return { failed: "invalid", field: checked.field };
  const outcome = await payReferrer(c.var.db, c.var.events, {
    key,
    referrerUserId: checked.data.referrer_user_id,
    currency: checked.data.currency,
    now: new Date().toISOString(),
    minimum: payoutMinimumOf(c.var.config, checked.data.currency),
  });
  if (outcome.kind === "nothing_due") return { failed: "nothing_due" };
  if (outcome.kind === "below_minimum") return { failed: "below_minimum" };
  if (outcome.kind === "key_reused") return { failed: "key_reused" };
  return {
    done: outcome.kind === "created" ? "payout_created" : "payout_existing",
    payout: outcome.payout.id,
  };
};

/**
 * `POST /payout-runs` from a form: one per currency, its key made when the page was rendered, so
 * a second click answers the run the first one made.
 */
export const runAction: Action = async (c, form) => {
  const key = form.idempotency_key?.trim() ?? "";
  if (key === "" || key.length > 255) return { failed: "invalid", field: "idempotency_key" };
  const checked = invalidField(createRunBody, { currency: form.currency });
  if (!checked.data) return { failed: "invalid", field: checked.field };
  const outcome = await createRun(c.var.db, c.var.events, {
    key,
    currency: checked.data.currency,
    now: new Date().toISOString(),
    minimum: payoutMinimumOf(c.var.config, checked.data.currency),
  });
  if (outcome.kind === "nothing_due") return { failed: "nothing_due_run" };
  if (outcome.kind === "key_reused") return { failed: "key_reused" };
  return { done: outcome.kind === "created" ? "run_created" : "run_existing", run: outcome.run.id };
};

/**
 * Sends a failed delivery's event again now, as `POST /webhooks/:id/deliveries/:delivery_id/retry`
 * does: `delivery_id` names one of this webhook's deliveries.
 */
export const retryAction: Action = async (c, form) => {
  const webhookId = c.req.param("webhook_id") ?? "";
  const deliveryId = /^[1-9]\d{0,15}$/.test(form.delivery_id ?? "") ? Number(form.delivery_id) : null;
  const delivery = deliveryId === null ? null : await findDelivery(c.var.db, webhookId, deliveryId);
  if (!delivery) return { failed: "event_not_found" };
  const attempt = await retryWebhookEvent(c.env, delivery.eventId);
  if (!attempt) return { failed: "event_not_found" };
  const ok = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode <= 299;
  return { done: ok ? "webhook_delivered" : "webhook_failed_again" };
};

/** The referral an action's path names, or null when it names none. */
function referralIdOf(c: C): number | null {
  const checked = referralParams.safeParse({ id: c.req.param("id") ?? "" });
  return checked.success ? Number(checked.data.id) : null;
}

/**
 * A decision's outcome as a flash. The query functions make a repeat answer as the first one did
 * (idempotent); the other decision after one was taken is a conflict, named by the referral's
 * status now.
 */
function decided(outcome: DecisionOutcome, id: number): Outcome {
  if (outcome.kind === "not_found") return { failed: "referral_not_found", referral: id };
  if (outcome.kind === "conflict") {
    return {
      failed: outcome.referral.status === "rejected" ? "already_rejected" : "already_released",
      referral: id,
    };
  }
  return { done: outcome.referral.status === "ok" ? "referral_released" : "referral_rejected", referral: id };
}

/** `POST /referrals/:id/release` from the review queue. */
export const releaseAction: Action = async (c) => {
  const id = referralIdOf(c);
  if (id === null) return { failed: "referral_not_found" };
  return decided(await releaseReferral(c.var.db, c.var.events, id, new Date().toISOString()), id);
};

/** `POST /referrals/:id/reject {reason?}` from the review queue; an empty reason is none. */
export const rejectAction: Action = async (c, form) => {
  const id = referralIdOf(c);
  if (id === null) return { failed: "referral_not_found" };
  const checked = invalidField(rejectBody, { reason: given(form.reason)?.trim() });
  if (!checked.data) return { failed: "invalid", field: "reason", referral: id };
  const reason = checked.data.reason ?? null;
  return decided(await rejectReferral(c.var.db, c.var.events, id, reason, new Date().toISOString()), id);
};

/**
 * `POST /users/:user_id/ban {reason?}` from the review queue: `user_id` is a field. A repeat
 * answers the first ban and changes nothing, as the API's does.
 */
export const banAction: Action = async (c, form) => {
  const user = userParams.safeParse({ user_id: form.user_id ?? "" });
  if (!user.success) return { failed: "invalid", field: "referrer_user_id" };
  const checked = invalidField(banBody, { reason: given(form.reason)?.trim() });
  if (!checked.data) return { failed: "invalid", field: "reason" };
  const userId = user.data.user_id;
  const now = new Date().toISOString();
  const ban = await banUser(c.var.db, c.var.events, userId, checked.data.reason ?? null, now);
  // As the API does: this isolate stops redirecting through them at once.
  for (const identifier of await ownedLinkIdentifiers(c.var.db, userId)) forgetLink(c.env.DB, identifier);
  return {
    done: ban.banned_at === now ? "referrer_banned" : "referrer_banned_before",
    subject: userId,
  };
};
