import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { database } from "../../src/db/client";
import { referralHits, referralLinks } from "../../src/db/schema";

export const db = database(env.DB);

export async function createLink(
  identifier: string,
  options: { userId?: string | null; disabled?: boolean } = {},
) {
  const now = new Date().toISOString();
  const [link] = await db
    .insert(referralLinks)
    .values({
      identifier,
      userId: options.userId ?? "alice",
      disabled: options.disabled ?? false,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!link) throw new Error("link not created");
  return link;
}

export async function hitsOf(linkId: number) {
  return db.select().from(referralHits).where(eq(referralHits.linkId, linkId));
}

export async function hitCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM referral_hits").first<{ n: number }>();
  return row?.n ?? 0;
}
