/**
 * What an action did, carried to the page in its redirect (Post/Redirect/Get) as query
 * parameters: a code from a fixed list, and at most an identifier or a payout id. The page turns
 * them into one of the sentences below, as text: nothing from the URL is ever markup, and a
 * parameter that is not one of these codes, or a subject that is not an identifier, shows nothing.
 * A referral's id, a number, is carried as `referral`.
 */
import { IDENTIFIER } from "../../db/queries/links";

export const DONE_CODES = [
  "link_created",
  "link_disabled",
  "link_enabled",
  "commission_set",
  "commission_cleared",
  "reward_set",
  "reward_cleared",
  "payout_created",
  "payout_existing",
  "run_created",
  "run_existing",
  "webhook_delivered",
  "webhook_failed_again",
  "referral_released",
  "referral_rejected",
  "referrer_banned",
  "referrer_banned_before",
] as const;
export type DoneCode = (typeof DONE_CODES)[number];

export const FAILED_CODES = [
  "invalid",
  "identifier_taken",
  "link_not_found",
  "nothing_due",
  "below_minimum",
  "nothing_due_run",
  "key_reused",
  "event_not_found",
  "referral_not_found",
  "already_rejected",
  "already_released",
] as const;
export type FailedCode = (typeof FAILED_CODES)[number];

/** The form fields a failed action can name, with what they must be. */
export const FIELD_RULES = {
  identifier: "the identifier must be 1-50 characters of A-Z, a-z, 0-9, _ and -, or empty for a random one",
  user_id: "the owner must be a user id of at most 255 characters, or empty for none",
  commission:
    "the commission must be percent:N (0-100, up to two decimals) or fixed:N (minor units), or empty for the default",
  referee_reward:
    "the reward for friends must be at most 200 characters, without control or bidirectional control characters, or empty for none",
  referrer_user_id: "the referrer must be a user id of at most 255 characters",
  currency: "the currency must be three capital letters (ISO 4217)",
  idempotency_key: "the form had no payout key: reload the dashboard and try again",
  reason: "the reason must be at most 1000 characters",
} as const;
export type FlashField = keyof typeof FIELD_RULES;

export type Outcome =
  | { done: DoneCode; subject?: string; payout?: number; run?: number; referral?: number }
  | { failed: FailedCode; subject?: string; field?: FlashField; referral?: number };

/** The outcome as query parameters of the redirect. */
export function outcomeParams(outcome: Outcome): [string, string][] {
  const params: [string, string][] =
    "done" in outcome ? [["done", outcome.done]] : [["failed", outcome.failed]];
  if (outcome.subject !== undefined && IDENTIFIER.test(outcome.subject)) {
    params.push(["subject", outcome.subject]);
  }
  if ("payout" in outcome && outcome.payout !== undefined) params.push(["payout", String(outcome.payout)]);
  if ("run" in outcome && outcome.run !== undefined) params.push(["run", String(outcome.run)]);
  if ("field" in outcome && outcome.field !== undefined) params.push(["field", outcome.field]);
  if (outcome.referral !== undefined) params.push(["referral", String(outcome.referral)]);
  return params;
}

const oneOf = <T extends string>(list: readonly T[], value: string | undefined): value is T =>
  value !== undefined && (list as readonly string[]).includes(value);

/** The outcome a page's query names, or null when it names none (or something unknown). */
export function outcomeOf(query: Record<string, string>): Outcome | null {
  const subject = query.subject !== undefined && IDENTIFIER.test(query.subject) ? query.subject : undefined;
  const referral =
    query.referral !== undefined && /^[1-9]\d{0,15}$/.test(query.referral)
      ? Number(query.referral)
      : undefined;
  if (oneOf(DONE_CODES, query.done)) {
    const payout =
      query.payout !== undefined && /^[1-9]\d{0,15}$/.test(query.payout) ? Number(query.payout) : undefined;
    const run = query.run !== undefined && /^[1-9]\d{0,15}$/.test(query.run) ? Number(query.run) : undefined;
    return { done: query.done, subject, payout, run, referral };
  }
  if (oneOf(FAILED_CODES, query.failed)) {
    const field =
      query.field !== undefined && Object.hasOwn(FIELD_RULES, query.field)
        ? (query.field as FlashField)
        : undefined;
    return { failed: query.failed, subject, field, referral };
  }
  return null;
}

/** What the page knows of the outcome's subject, read from the database (never from the URL). */
export interface OutcomeFacts {
  /** The created link's referral URL. */
  linkUrl?: string;
  /** The created link has no owner: nobody earns from it. */
  ownerless?: boolean;
  /** The payout, as a sentence: "12.00 EUR to alice (3 conversions, 0 clawbacks)". */
  payout?: string;
  /** The run, as a sentence: "3 payouts, 120.00 EUR". */
  run?: string;
}

/** The sentence shown for an outcome. */
export function flashText(outcome: Outcome, facts: OutcomeFacts = {}): string {
  // " abc", or nothing when the URL named no (valid) subject.
  const link = outcome.subject === undefined ? "" : ` ${outcome.subject}`;
  // " #12", or nothing.
  const referral = outcome.referral === undefined ? "" : ` #${outcome.referral}`;
  if ("done" in outcome) {
    const payout = `#${outcome.payout ?? "?"}`;
    switch (outcome.done) {
      case "link_created":
        return (
          `Link${link} created.${facts.linkUrl ? ` Its URL: ${facts.linkUrl}` : ""}` +
          (facts.ownerless
            ? " (no owner: its referrals earn no one a commission; give it one with PATCH /links)"
            : "")
        );
      case "link_disabled":
        return `Link${link} disabled: its URL still redirects, but records no hit.`;
      case "link_enabled":
        return `Link${link} enabled: its hits are recorded again.`;
      case "commission_set":
        return `Commission of link${link} saved: it applies to conversions from now on.`;
      case "commission_cleared":
        return `Link${link} now earns the default commission (COMMISSION) on conversions from now on.`;
      case "reward_set":
        return `Reward for friends of link${link} saved: its next clicks carry it to your site (Reflinks-Referral).`;
      case "reward_cleared":
        return `Link${link} now promises its clicks' friends nothing.`;
      case "payout_created":
        return `Payout ${payout} recorded${facts.payout ? `: ${facts.payout}` : ""}.`;
      case "payout_existing":
        return `Payout ${payout} was already recorded by this form${facts.payout ? ` (${facts.payout})` : ""}: nothing was paid twice.`;
      case "run_created":
        return `Payout run #${outcome.run ?? "?"} made${facts.run ? `: ${facts.run}` : ""}. Download its files below.`;
      case "run_existing":
        return `Payout run #${outcome.run ?? "?"} was already made by this form: nothing was paid twice.`;
      case "webhook_delivered":
        return "Event sent again: the receiver accepted it.";
      case "webhook_failed_again":
        return "Event sent again, and it failed again: see the newest attempt below.";
      case "referral_released":
        return `Referral${referral} released: it counts, and its commissions are payable as if never held.`;
      case "referral_rejected":
        return `Referral${referral} rejected: its unpaid commissions, and any later ones, earn nothing.`;
      case "referrer_banned":
        return `Referrer${link} banned: their links are disabled, their unpaid commissions and held referrals rejected.`;
      case "referrer_banned_before":
        return `Referrer${link} was already banned: nothing changed.`;
    }
  }
  switch (outcome.failed) {
    case "invalid":
      return `Nothing changed: ${outcome.field ? FIELD_RULES[outcome.field] : "a field of the form is invalid"}.`;
    case "identifier_taken":
      return `No link created: the identifier${link} is taken.`;
    case "link_not_found":
      return `Nothing changed: there is no link${link} (any more).`;
    case "nothing_due":
      return "Nothing paid: nothing is due to that referrer in that currency now.";
    case "below_minimum":
      return "Nothing paid: what is due to that referrer is less than PAYOUT_MINIMUM for that currency.";
    case "nothing_due_run":
      return "Nothing paid: no referrer is due at least the minimum in that currency now.";
    case "key_reused":
      return "Nothing paid: this form's key was used for another payout. Reload the dashboard.";
    case "event_not_found":
      return "Nothing sent: that webhook or its event is gone.";
    case "referral_not_found":
      return `Nothing changed: there is no referral${referral}.`;
    case "already_rejected":
      return `Nothing changed: referral${referral} is already rejected.`;
    case "already_released":
      return `Nothing changed: referral${referral} is already released (it counts).`;
  }
}
