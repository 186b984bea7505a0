import { eq } from "drizzle-orm";
import type { Database } from "../client";
import { referralLinks } from "../schema";

/** What the referral routes need to know of a link. */
export interface LinkTarget {
  id: number;
  userId: string | null;
  disabled: boolean;
}

/** SPEC "Data": 1-50 of `[A-Za-z0-9_-]`. Checked before any query so junk never reaches D1. */
export const IDENTIFIER = /^[A-Za-z0-9_-]{1,50}$/;

export async function findLinkTarget(db: Database, identifier: string): Promise<LinkTarget | null> {
  const [link] = await db
    .select({ id: referralLinks.id, userId: referralLinks.userId, disabled: referralLinks.disabled })
    .from(referralLinks)
    .where(eq(referralLinks.identifier, identifier))
    .limit(1);
  return link ?? null;
}
