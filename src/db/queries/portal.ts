/**
 * The referrer's page (docs/referrer-page.md): its one-use sign-in links. What the page shows is
 * read with the queries the API uses (links, link_stats, link_revenue, referrer_earnings,
 * conversions, payouts), not restated here.
 */
import { and, eq, gt, isNull, lt } from "drizzle-orm";
import type { Database } from "../client";
import { portalLinks } from "../schema";

/** How long a sign-in link can be used. */
export const PORTAL_LINK_SECONDS = 15 * 60;
/** Used and expired sign-in links are deleted this long after they expire (docs/data.md). */
const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

/**
 * Stores a sign-in link for `userId` by its token's hash; deletes, in the same batch, the links
 * that expired more than a day ago, so the table stays as small as the links in use.
 */
export async function insertPortalLink(
  db: Database,
  link: { tokenHash: string; userId: string },
  now: Date,
): Promise<{ expiresAt: string }> {
  const expiresAt = new Date(now.getTime() + PORTAL_LINK_SECONDS * 1000).toISOString();
  await db.batch([
    db
      .delete(portalLinks)
      .where(lt(portalLinks.expiresAt, new Date(now.getTime() - KEEP_EXPIRED_MS).toISOString())),
    db.insert(portalLinks).values({ ...link, createdAt: now.toISOString(), expiresAt, usedAt: null }),
  ]);
  return { expiresAt };
}

export type PortalLinkUse = { ok: true; userId: string } | { ok: false; why: "used" | "expired" | "unknown" };

/**
 * Uses a sign-in link: one statement marks it used only if it was unused and unexpired, so of two
 * racing uses one wins. When none is marked, a second read says why, for the page.
 */
export async function usePortalLink(db: Database, tokenHash: string, now: Date): Promise<PortalLinkUse> {
  const at = now.toISOString();
  const [used] = await db
    .update(portalLinks)
    .set({ usedAt: at })
    .where(
      and(eq(portalLinks.tokenHash, tokenHash), isNull(portalLinks.usedAt), gt(portalLinks.expiresAt, at)),
    )
    .returning({ userId: portalLinks.userId });
  if (used) return { ok: true, userId: used.userId };
  const [row] = await db.select().from(portalLinks).where(eq(portalLinks.tokenHash, tokenHash)).limit(1);
  if (!row) return { ok: false, why: "unknown" };
  return { ok: false, why: row.usedAt !== null ? "used" : "expired" };
}
