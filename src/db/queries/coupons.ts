/**
 * Coupon codes (docs/api.md#coupons). Codes are stored upper case and looked up upper case, so
 * the primary key matches them without regard to case and decides a race for a code.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Database } from "../client";
import { type Coupon, coupons, referralLinks } from "../schema";
import { isLinkLive } from "./links";

/** A code as it is stored and compared. */
export function normalizeCouponCode(code: string): string {
  return code.trim().toUpperCase();
}

/** docs/data.md#coupons: what the table's `CHECK` allows, after {@link normalizeCouponCode}. */
const STORED_CODE = /^[A-Z0-9_-]{3,40}$/;

/** Inserts a coupon for the link; null when the code is taken (by any link, this one included). */
export async function insertCoupon(
  db: Database,
  linkId: number,
  code: string,
  now = new Date().toISOString(),
): Promise<Coupon | null> {
  const [created] = await db
    .insert(coupons)
    .values({ code: normalizeCouponCode(code), linkId, createdAt: now })
    .onConflictDoNothing({ target: coupons.code })
    .returning();
  return created ?? null;
}

/** Deletes the link's coupon; false when the link has no such code. */
export async function deleteCoupon(db: Database, linkId: number, code: string): Promise<boolean> {
  const deleted = await db
    .delete(coupons)
    .where(and(eq(coupons.code, normalizeCouponCode(code)), eq(coupons.linkId, linkId)))
    .returning({ code: coupons.code });
  return deleted.length > 0;
}

/** The codes of each of these links, in order, by link id (a link without any: absent). */
export async function couponCodesOf(
  db: Database,
  linkIds: readonly number[],
): Promise<Map<number, string[]>> {
  const codes = new Map<number, string[]>();
  if (linkIds.length === 0) return codes;
  const rows = await db
    .select({ linkId: coupons.linkId, code: coupons.code })
    .from(coupons)
    // One JSON array bound once: D1 allows at most 100 parameters, and a user may own more links.
    .where(sql`${coupons.linkId} IN (SELECT value FROM json_each(${JSON.stringify(linkIds)}))`)
    .orderBy(asc(coupons.linkId), asc(coupons.code));
  for (const { linkId, code } of rows) {
    const list = codes.get(linkId);
    if (list) list.push(code);
    else codes.set(linkId, [code]);
  }
  return codes;
}

/**
 * The link a coupon code names, with what a confirmation needs of it; null for an unknown code
 * (anything that could not be a code included) and for a link that is disabled or expired at
 * `nowMs`, which takes no referrals, by click or by code.
 */
export async function findCouponLink(db: Database, code: string, nowMs: number) {
  const normalized = normalizeCouponCode(code);
  if (!STORED_CODE.test(normalized)) return null;
  const [row] = await db
    .select({
      linkId: referralLinks.id,
      identifier: referralLinks.identifier,
      ownerId: referralLinks.userId,
      disabled: referralLinks.disabled,
      expiresAt: referralLinks.expiresAt,
    })
    .from(coupons)
    .innerJoin(referralLinks, eq(referralLinks.id, coupons.linkId))
    .where(eq(coupons.code, normalized))
    .limit(1);
  if (!row) return null;
  const { disabled, expiresAt, ...link } = row;
  const expiresAtMs = expiresAt === null ? null : Date.parse(expiresAt);
  return isLinkLive({ disabled, expiresAtMs }, nowMs) ? link : null;
}
