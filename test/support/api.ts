/**
 * Helpers for the API tests (docs/api.md): requests under `/_reflinks` with the bearer token, and
 * rows seeded straight into D1 with the fields a test must control (time, user, authenticated).
 */
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { expect } from "vitest";
import { confirmedReferrals, type NewReferralHit, referralHits, referralLinks } from "../../src/db/schema";
import { db } from "./db";
import { type SendOptions, send } from "./worker";

/** The token vitest.config.ts binds as `API_TOKEN`. */
export const API_TOKEN = env.API_TOKEN ?? "test-api-token";

export const API_PREFIX = "/_reflinks";

export interface ApiOptions extends Omit<SendOptions, "body"> {
  /** Sent as a JSON body (`JSON.stringify`) with `Content-Type: application/json`. */
  json?: unknown;
  /** A raw body, when the test needs one that is not JSON. */
  body?: BodyInit | null;
  /** The bearer token; `null` sends no `Authorization` header. Defaults to the configured token. */
  token?: string | null;
}

/** Sends a request to `/_reflinks{path}` through the worker entry. */
export function api(path: string, options: ApiOptions = {}): Promise<Response> {
  const { json, token = API_TOKEN, body, ...init } = options;
  const headers = new Headers(init.headers);
  if (token !== null && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${token}`);
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return send(`${API_PREFIX}${path}`, { ...init, headers, body: payload });
}

/** What a client sees of an API answer: status, headers and the parsed JSON body (null when empty). */
export interface ApiAnswer<T> {
  status: number;
  headers: Headers;
  body: T;
}

// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the shape.
export async function apiJson<T = any>(path: string, options: ApiOptions = {}): Promise<ApiAnswer<T>> {
  const response = await api(path, options);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? null : JSON.parse(text) };
}

/** A user id no other test uses. */
export function uniqueUser(prefix = "user"): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** An ISO-8601 UTC timestamp `days` days (fractions allowed) before now. */
export function daysAgo(days: number, now = Date.now()): string {
  return new Date(now - days * 86_400_000).toISOString();
}

/** Inserts a `referral_hits` row directly, every field under the test's control. */
export async function seedHit(linkId: number, fields: Partial<Omit<NewReferralHit, "linkId">> = {}) {
  const createdAt = fields.createdAt ?? new Date().toISOString();
  const [hit] = await db
    .insert(referralHits)
    .values({
      id: crypto.randomUUID(),
      anonymousId: null,
      authenticated: false,
      hitUserId: null,
      ip: "203.0.113.9",
      userAgent: "seeded",
      httpReferer: "",
      next: "/",
      country: null,
      confirmedAt: null,
      ...fields,
      linkId,
      createdAt,
      updatedAt: fields.updatedAt ?? createdAt,
    })
    .returning();
  if (!hit) throw new Error("hit not seeded");
  return hit;
}

export async function hitById(id: string) {
  const [hit] = await db.select().from(referralHits).where(eq(referralHits.id, id));
  return hit ?? null;
}

export async function linkByIdentifier(identifier: string) {
  const [link] = await db.select().from(referralLinks).where(eq(referralLinks.identifier, identifier));
  return link ?? null;
}

/** The `confirmed_referrals` rows of a user (for one event, when given). */
export async function referralsOf(userId: string, event?: string) {
  return db
    .select()
    .from(confirmedReferrals)
    .where(
      and(
        eq(confirmedReferrals.userId, userId),
        event === undefined ? undefined : eq(confirmedReferrals.event, event),
      ),
    );
}

/** A D1 binding whose `prepare` throws at once, as a binding that is gone would. */
export function brokenDatabase(): D1Database {
  return new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare" || property === "batch" || property === "exec") {
        return () => {
          throw new Error("D1_ERROR: the database is unavailable (injected fault)");
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The API's error body (docs/api.md#errors), `{"error": {"code", "message", "request_id"}}`, as a matcher; `message` may be a pattern. */
export function apiError(code: string, message: RegExp | string = /./) {
  return {
    error: {
      code,
      message: typeof message === "string" ? message : expect.stringMatching(message),
      // Every error names its request, for the operator to find in the log.
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$|^[0-9a-f]{16}(-[A-Z]{3})?$/),
    },
  };
}
