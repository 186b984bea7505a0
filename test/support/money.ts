/**
 * Helpers for the money tests (docs/money.md): referred users, conversions, reversals and payouts
 * through the API, time moved by rewriting rows in D1, and the money views read as SQL.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { type ApiAnswer, apiJson, daysAgo, seedHit, uniqueUser } from "./api";
import { createLink } from "./db";
import { uniqueIdentifier } from "./worker";

/** Bindings as strings, as wrangler passes `[vars]`. */
export type MoneyBindings = Partial<
  Record<"COMMISSION" | "HOLD_DAYS" | "COMMISSION_MONTHS" | "COMMISSION_PAYMENTS", string>
>;

/** 10 %, no hold, 12 months: a commission that is due at once unless a test says otherwise. */
export const DUE_AT_ONCE: MoneyBindings = {
  COMMISSION: "percent:10",
  HOLD_DAYS: "0",
  COMMISSION_MONTHS: "12",
};

/**
 * A user who clicked a referrer's link yesterday while signed out: a conversion of theirs confirms
 * the referral on its way. `commission` sets the link's override.
 */
export async function referredUser(options: { referrer?: string; commission?: string | null } = {}) {
  const referrer = options.referrer ?? uniqueUser("referrer");
  const link = await createLink(uniqueIdentifier("money"), { userId: referrer });
  if (options.commission !== undefined) {
    const patched = await apiJson(`/links/${link.identifier}`, {
      method: "PATCH",
      json: { commission: options.commission },
    });
    expect(patched.status).toBe(200);
  }
  const user = uniqueUser("buyer");
  await seedHit(link.id, {
    hitUserId: user,
    authenticated: false,
    anonymousId: crypto.randomUUID(),
    createdAt: daysAgo(1),
  });
  return { user, referrer, link };
}

export function externalId(prefix = "inv"): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
type Json = any;

/** An API answer whose money fields were all checked to be integers. */
async function checked(answer: Promise<ApiAnswer<Json>>): Promise<ApiAnswer<Json>> {
  const resolved = await answer;
  expectIntegerMoney(resolved.body);
  return resolved;
}

export function convert(json: Record<string, unknown>, bindings: MoneyBindings = DUE_AT_ONCE) {
  return checked(apiJson<Json>("/conversions", { method: "POST", json, bindings }));
}

/** `GET /conversions?...` (query as an object). */
export function listConversions(
  query: Record<string, string | number>,
  bindings: MoneyBindings = DUE_AT_ONCE,
) {
  const params = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
  return checked(apiJson<Json>(`/conversions?${params}`, { bindings }));
}

/** `GET /payouts?...` (query as an object). */
export function listPayouts(query: Record<string, string | number>) {
  const params = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
  return checked(apiJson<Json>(`/payouts?${params}`));
}

/** A conversion that must be created; its JSON. */
export async function converted(
  user: string,
  amount: number,
  options: { currency?: string; externalId?: string; bindings?: MoneyBindings } = {},
) {
  const answer = await convert(
    {
      user_id: user,
      external_id: options.externalId ?? externalId(),
      amount,
      currency: options.currency ?? "EUR",
    },
    options.bindings,
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.conversion;
}

export function reverse(
  external: string,
  json: Record<string, unknown>,
  bindings: MoneyBindings = DUE_AT_ONCE,
) {
  return checked(
    apiJson<Json>(`/conversions/${encodeURIComponent(external)}/reverse`, { method: "POST", json, bindings }),
  );
}

export function getConversion(external: string, bindings: MoneyBindings = DUE_AT_ONCE) {
  return checked(apiJson<Json>(`/conversions/${encodeURIComponent(external)}`, { bindings }));
}

export function pay(
  referrer: string,
  currency: string,
  key: string | null = crypto.randomUUID(),
): Promise<ApiAnswer<Json>> {
  return checked(
    apiJson<Json>("/payouts", {
      method: "POST",
      json: { referrer_user_id: referrer, currency },
      headers: key === null ? {} : { "Idempotency-Key": key },
    }),
  );
}

/** The `/payouts/due` row of one referrer and currency, or undefined when nothing is due. */
export async function dueRow(referrer: string, currency: string) {
  const due = await apiJson<Json>(`/payouts/due?currency=${currency}`);
  expect(due.status).toBe(200);
  expectIntegerMoney(due.body);
  return due.body.rows.find((row: Json) => row.referrer_user_id === referrer);
}

/** Ends a conversion's hold period as if `HOLD_DAYS` had passed: its `approve_at` a second ago. */
export async function endHold(external: string) {
  await env.DB.prepare("UPDATE conversions SET approve_at = ? WHERE external_id = ?")
    .bind(new Date(Date.now() - 1000).toISOString(), external)
    .run();
}

/** Moves a user's confirmed referral back in time (for `COMMISSION_MONTHS`). */
export async function setReferralCreatedAt(user: string, createdAt: string) {
  const result = await env.DB.prepare("UPDATE confirmed_referrals SET created_at = ? WHERE user_id = ?")
    .bind(createdAt, user)
    .run();
  expect(result.meta.changes).toBe(1);
}

/** Confirms a user's referral through the API (the conversion then finds it). */
export async function confirmReferral(user: string) {
  const answer = await apiJson("/confirm", { method: "POST", json: { user_id: user } });
  expect(answer.status).toBe(201);
  return answer.body.referral;
}

export interface EarningsRow {
  referrer_user_id: string;
  currency: string;
  pending: number;
  approved: number;
  paid: number;
  reversed: number;
}

export async function referrerEarnings(referrer: string): Promise<EarningsRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM referrer_earnings WHERE referrer_user_id = ? ORDER BY currency",
  )
    .bind(referrer)
    .all<EarningsRow>();
  return results;
}

export interface LinkRevenueRow {
  identifier: string;
  currency: string;
  conversions: number;
  revenue: number;
  commission: number;
}

export async function linkRevenue(identifier: string): Promise<LinkRevenueRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM link_revenue WHERE identifier = ? ORDER BY currency",
  )
    .bind(identifier)
    .all<LinkRevenueRow>();
  return results;
}

export async function countRows(
  table: "conversions" | "reversals" | "payouts",
  where: string,
  ...binds: unknown[]
) {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...binds)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

const MONEY_FIELDS = new Set([
  "amount",
  "commission",
  "reversed_amount",
  "commission_delta",
  "revenue",
  "pending",
  "approved",
  "paid",
  "reversed",
]);

/**
 * Every money field anywhere in an answer is an integer: a float would mean a fraction of a cent
 * (or a value past 2^53 that JSON could not carry). Returns how many fields it checked.
 */
export function expectIntegerMoney(value: unknown, path = "body"): number {
  let checked = 0;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checked += expectIntegerMoney(item, `${path}[${index}]`);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [key, field] of Object.entries(value)) {
      if (MONEY_FIELDS.has(key) && (typeof field === "number" || typeof field === "string")) {
        expect(Number.isInteger(field), `${path}.${key} = ${JSON.stringify(field)} is not an integer`).toBe(
          true,
        );
        checked += 1;
      } else {
        checked += expectIntegerMoney(field, `${path}.${key}`);
      }
    }
  }
  return checked;
}
